import { fileURLToPath } from 'node:url';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { log, sleep } from './log.js';

/** Everything a service or worker process of the bench is started with. */
export interface ServiceEnv {
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  adminKey: string;
  /** HOLD_TTL_SECONDS: 3600 for the load scenarios (nothing expires mid-run), a few seconds for the expiry wave. */
  holdTtlSeconds: number;
}

export interface Service {
  url: string;
  /** undefined for a service the bench did not start (--url): no CPU or RSS then. */
  pid: number | undefined;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
// Whatever happens, no process this run started outlives it.
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Registers a child to be killed if the bench exits before it has stopped it. */
export function ownChild(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

let built = false;

/** `npm run build` once per run: the service and worker run from dist/. */
export function build(): void {
  if (built) return;
  log('building…');
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  built = true;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function processEnv(env: ServiceEnv): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: 'production',
    DATABASE_URL: env.databaseUrl,
    REDIS_URL: env.redisUrl,
    QUEUE_PREFIX: env.queuePrefix,
    ADMIN_API_KEY: env.adminKey,
    LOG_LEVEL: 'warn',
    HOLD_TTL_SECONDS: String(env.holdTtlSeconds),
    DB_POOL_SIZE: process.env.DB_POOL_SIZE ?? '10',
    RATE_LIMIT_MAX: '0', // every load client comes from 127.0.0.1
  };
}

/** Stops a child with SIGTERM (a CPU profile is written as it exits), SIGKILL after 15 s. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(killer);
}

/** Starts `node dist/server.js` on a free port of 127.0.0.1 and waits until it is ready. */
export async function startService(env: ServiceEnv, nodeArgs: string[] = []): Promise<Service> {
  build();
  const port = await freePort();
  const child = ownChild(
    spawn(process.execPath, [...nodeArgs, 'dist/server.js'], {
      env: { ...processEnv(env), PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 120 && child.exitCode === null; i++) {
    try {
      if ((await fetch(`${url}/health/ready`)).ok) return { url, pid: child.pid, stop: () => stopChild(child) };
    } catch {
      // not up yet
    }
    await sleep(500);
  }
  child.kill('SIGKILL');
  throw new Error('the service did not become ready');
}

/** Starts `node dist/worker.js` (runs the BullMQ expiry jobs of env.queuePrefix) and waits until it runs. */
export async function startWorker(env: ServiceEnv): Promise<Service> {
  build();
  const child = ownChild(
    spawn(process.execPath, ['dist/worker.js'], {
      // At info level it says when it is running (and logs each sweep that expired holds).
      env: { ...processEnv(env), LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  const running = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 30_000);
    child.once('exit', () => resolve(false));
    let seen = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      seen = (seen + chunk).slice(-2000);
      if (seen.includes('worker running')) {
        clearTimeout(timer);
        resolve(true);
      }
    });
  });
  if (!running) {
    child.kill('SIGKILL');
    throw new Error('the worker did not start');
  }
  return { url: '', pid: child.pid, stop: () => stopChild(child) };
}

/** A service the bench did not start (--url). */
export function externalService(url: string): Service {
  return { url: url.replace(/\/$/, ''), pid: undefined, stop: async () => {} };
}

/** Starts bench/lib/bare-fastify.ts (Fastify and nothing else) on a free port and waits until it listens. */
export async function startBareFastify(): Promise<Service> {
  const port = await freePort();
  const script = fileURLToPath(new URL('bare-fastify.ts', import.meta.url));
  const child = ownChild(
    spawn(process.execPath, ['--import', 'tsx', script, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] }),
  );
  const listening = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 30_000);
    child.once('exit', () => resolve(false));
    child.stdout!.setEncoding('utf8').once('data', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  if (!listening) {
    child.kill('SIGKILL');
    throw new Error('bare Fastify did not start');
  }
  return { url: `http://127.0.0.1:${port}`, pid: child.pid, stop: () => stopChild(child) };
}
