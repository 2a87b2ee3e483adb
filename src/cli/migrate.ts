import { ConfigError, loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { openDatabase } from '../runtime.js';

// `npm run migrate`: applies pending migrations to DATABASE_URL, or to the embedded
// PostgreSQL when it is unset. (`npm start` and the worker also do this on start.)
try {
  const config = loadConfig();
  const logger = createLogger({ LOG_LEVEL: 'debug' }, 'migrate');
  const database = await openDatabase(config, logger);
  await database.stop();
  process.stdout.write('migrations applied\n');
} catch (error) {
  process.stderr.write(error instanceof ConfigError ? `${error.message}\n` : `migration failed: ${String(error)}\n`);
  process.exit(1);
}
