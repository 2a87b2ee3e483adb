import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig, type Config } from './config.js';
import { migrate } from './adapters/postgres/migrate.js';
import type { Logger } from './logger.js';

export interface Database {
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
  /** The caller's shutdown now handles SIGINT and SIGTERM (see EmbeddedDatabase.handOverSignals). */
  handOverSignals(): void;
}

/** DATABASE_URL when set; otherwise the embedded PostgreSQL (quick start). Migrated either way. */
export async function openDatabase(config: Config, logger: Logger): Promise<Database> {
  let database: Database;
  if (config.DATABASE_URL) {
    database = { url: config.DATABASE_URL, embedded: false, stop: async () => {}, handOverSignals: () => {} };
  } else {
    logger.info(`no DATABASE_URL: starting an embedded PostgreSQL with data in ${path.resolve(config.DATA_DIR)}`);
    // Loaded only here: production images carry no PostgreSQL binaries (optional dependency).
    const { startEmbeddedPostgres } = await import('./adapters/postgres/embedded.js');
    const embedded = await startEmbeddedPostgres(config.DATA_DIR, (message) => logger.warn(message));
    database = {
      url: embedded.url,
      embedded: true,
      stop: () => embedded.stop(),
      handOverSignals: () => embedded.handOverSignals(),
    };
  }
  try {
    await migrate(database.url, (message) => logger.debug(message));
  } catch (error) {
    await database.stop();
    throw error;
  }
  return database;
}

/**
 * ADMIN_API_KEY when set; otherwise a key generated on first start and kept (mode 0600)
 * in DATA_DIR, so it survives restarts. Production configs must set it (see config.ts).
 */
export function resolveAdminKey(config: Config): { key: string; file?: string } {
  if (config.ADMIN_API_KEY) return { key: config.ADMIN_API_KEY };
  const file = path.resolve(config.DATA_DIR, 'admin-api-key');
  if (existsSync(file)) return { key: readFileSync(file, 'utf8').trim(), file };
  mkdirSync(path.dirname(file), { recursive: true });
  const key = randomBytes(24).toString('base64url');
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return { key, file };
}

/**
 * Runs a process entry point with the checked configuration (from the environment unless
 * `config` says otherwise). A bad configuration prints its message alone; any other failure
 * prints what failed; both exit with status 1.
 */
export async function runEntryPoint(
  what: string,
  main: (config: Config) => Promise<void>,
  config: () => Config = () => loadConfig(),
): Promise<void> {
  try {
    await main(config());
  } catch (error) {
    process.stderr.write(
      error instanceof ConfigError
        ? `${error.message}\n`
        : `${what} failed: ${(error as Error).stack ?? String(error)}\n`,
    );
    process.exit(1);
  }
}
