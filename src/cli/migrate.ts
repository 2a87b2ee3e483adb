import { createLogger } from '../logger.js';
import { refuseDown } from '../adapters/postgres/migrate.js';
import { openDatabase, runEntryPoint } from '../runtime.js';

// `npm run migrate`: applies pending migrations and the database's functions (db/) to
// DATABASE_URL, or to the embedded PostgreSQL when it is unset. (`npm start` and the worker also
// do this on start.) `npm run migrate -- down` is refused: there are no down migrations.
await runEntryPoint('Migration', async (config) => {
  const [direction] = process.argv.slice(2);
  if (direction !== undefined && direction !== 'up') refuseDown();
  const database = await openDatabase(config, createLogger({ LOG_LEVEL: 'debug' }, 'migrate'));
  await database.stop();
  process.stdout.write('migrations applied\n');
});
