import { createLogger } from '../logger.js';
import { openDatabase, runEntryPoint } from '../runtime.js';

// `npm run migrate`: applies pending migrations to DATABASE_URL, or to the embedded
// PostgreSQL when it is unset. (`npm start` and the worker also do this on start.)
await runEntryPoint('Migration', async (config) => {
  const database = await openDatabase(config, createLogger({ LOG_LEVEL: 'debug' }, 'migrate'));
  await database.stop();
  process.stdout.write('migrations applied\n');
});
