import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { ADMIN_KEY, sleep } from '../helpers.js';

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** A process this test started (and so may kill), with the tail of its output for failure messages. */
export class ServiceProcess {
  private output: string[] = [];
  readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly url?: string,
  ) {
    const keep = (chunk: Buffer) => {
      this.output.push(chunk.toString('utf8'));
      if (this.output.length > 200) this.output.splice(0, this.output.length - 200);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  log(): string {
    return this.output.join('');
  }

  /**
   * Waits until the process says it is ready (prints `pattern`) or exits. On a busy machine a
   * start can take long (tsx compiles the sources first): the deadline is only there so that a
   * process that hangs fails the test rather than the run.
   */
  async waitForOutput(pattern: RegExp, timeoutMs = 180_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.log())) {
      if (!this.alive) throw new Error(`${this.name} exited before printing ${pattern}:\n${this.log()}`);
      if (Date.now() > deadline) throw new Error(`${this.name} did not print ${pattern}:\n${this.log()}`);
      await sleep(50);
    }
  }

  /** SIGKILL: no shutdown hooks, in-flight work lost, as in a crash. */
  async kill(): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM and wait for the graceful shutdown. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}

// Every process a test file starts; none may outlive it, whatever fails (a setup that throws
// halfway leaves no variable to stop them by).
const started = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of started) child.kill('SIGKILL');
});

// The entry points run from source through tsx, as `npm run dev` does: no build needed.
function spawnEntryPoint(entry: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  child.once('exit', () => started.delete(child));
  return child;
}

/** Waits for a process to be ready; one that is not is stopped before the error is passed on. */
async function ready(service: ServiceProcess, pattern: RegExp): Promise<ServiceProcess> {
  try {
    await service.waitForOutput(pattern);
    return service;
  } catch (error) {
    await service.kill();
    throw error;
  }
}

/** Starts several processes at once; if any fails to start, the others are stopped too. */
export async function startAll(starting: Promise<ServiceProcess>[]): Promise<ServiceProcess[]> {
  const settled = await Promise.allSettled(starting);
  const failed = settled.find((result) => result.status === 'rejected');
  if (!failed) return settled.map((result) => (result as PromiseFulfilledResult<ServiceProcess>).value);
  await Promise.all(settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value.stop()] : [])));
  throw failed.reason;
}

/** `npm start`'s process on a free port; resolves once /health answers. */
export async function startApi(name: string, env: Record<string, string>): Promise<ServiceProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const api = new ServiceProcess(
    name,
    spawnEntryPoint('src/server.ts', { ...env, HOST: '127.0.0.1', PORT: String(port) }),
    url,
  );
  return ready(api, /listening on/);
}

/** `npm run worker`'s process; resolves once it runs. */
export async function startWorker(name: string, env: Record<string, string>): Promise<ServiceProcess> {
  const worker = new ServiceProcess(name, spawnEntryPoint('src/worker.ts', { ...env, LOG_LEVEL: 'info' }));
  return ready(worker, /worker running/);
}

/** A redis-server of the test's own on a spare port, which it can flush, stop and start again. */
export class OwnRedis {
  private server: ServiceProcess | undefined;
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'seat-hold-redis-'));

  private constructor(readonly port: number) {}

  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort());
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.server = new ServiceProcess(`redis:${this.port}`, child);
    await this.server.waitForOutput(/Ready to accept connections/);
  }

  /** Stops the server (SIGKILL: nothing is persisted anyway). */
  async stop(): Promise<void> {
    await this.server?.kill();
  }

  async flushAll(): Promise<void> {
    const child = spawn('redis-cli', ['-p', String(this.port), 'FLUSHALL'], { stdio: 'ignore' });
    const [code] = (await once(child, 'exit')) as [number];
    if (code !== 0) throw new Error(`redis-cli FLUSHALL exited with ${code}`);
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The environment of an API or worker process in these tests. */
export function serviceEnv(databaseUrl: string, redisUrl: string, queuePrefix: string): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: queuePrefix,
    ADMIN_API_KEY: ADMIN_KEY,
    HOLD_TTL_SECONDS: '2',
    SWEEP_INTERVAL_SECONDS: '1',
    DB_POOL_SIZE: '6',
    RATE_LIMIT_MAX: '0',
    SHUTDOWN_TIMEOUT_SECONDS: '5',
  };
}

/** Deletes the BullMQ keys a test run left under its prefix. */
export async function deleteQueueKeys(redisUrl: string, queuePrefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const keys = await redis.keys(`${queuePrefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
  } catch {
    // the test's own Redis may be gone already
  } finally {
    redis.disconnect();
  }
}

/**
 * Creates a show through an API process (admin key): `body` as POST /api/shows takes it,
 * starting a day ahead unless it says otherwise; returns its id.
 */
export async function createShowVia(apiUrl: string, body: Record<string, unknown>): Promise<string> {
  const response = await fetch(`${apiUrl}/api/shows`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ start_time: new Date(Date.now() + 86_400_000).toISOString(), ...body }),
  });
  if (response.status !== 201) throw new Error(`create show: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { id: string }).id;
}

/** Creates general-admission shows through an API process; returns their ids. */
export async function createShows(apiUrl: string, count: number, totalSeats: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++)
    ids.push(await createShowVia(apiUrl, { title: `Load ${i}`, total_seats: totalSeats }));
  return ids;
}

/** A seat map as POST /api/shows takes it: sections of rows, best first. */
export interface SeatMapInput {
  sections: { name: string; rows: { label: string; seats: number; category?: string }[] }[];
}

/** Creates a seated show through an API process (admin key); returns its id. */
export async function createSeatedShow(apiUrl: string, seatMap: SeatMapInput, title = 'Seated'): Promise<string> {
  return createShowVia(apiUrl, { title, seat_map: seatMap });
}
