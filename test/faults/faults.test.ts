import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { Pool } from '../../src/adapters/postgres/pool.js';
import { createTestDatabase, inspectionPool, sleep, type TestDatabase } from '../helpers.js';
import { runCustomers, type LoadReport } from '../support/customers.js';
import { checkInvariants } from '../support/invariants.js';
import {
  createShows,
  deleteQueueKeys,
  OwnRedis,
  serviceEnv,
  startAll,
  startApi,
  startWorker,
  type ServiceProcess,
} from '../support/processes.js';

// Each fault strikes mid-load, then the same invariant check runs (test/support/invariants.ts).
// Only processes these tests started are killed: their own APIs, workers and redis-server.

interface Cluster {
  database: TestDatabase;
  pool: Pool;
  env: Record<string, string>;
  apis: ServiceProcess[];
  workers: ServiceProcess[];
  redisUrl: string;
  queuePrefix: string;
  liveUrls(): string[];
}

let cluster: Cluster | undefined;
const cleanups: (() => Promise<unknown>)[] = [];

async function startCluster(apiCount: number, workerCount: number, redisUrl = inject('redisUrl')): Promise<Cluster> {
  const database = await createTestDatabase();
  const queuePrefix = `faults-${randomBytes(4).toString('hex')}`;
  const env = serviceEnv(database.url, redisUrl, queuePrefix);
  const processes = await startAll([
    ...Array.from({ length: apiCount }, (_, i) => startApi(`api-${i + 1}`, env)),
    ...Array.from({ length: workerCount }, (_, i) => startWorker(`worker-${i + 1}`, env)),
  ]);
  const [apis, workers] = [processes.slice(0, apiCount), processes.slice(apiCount)];
  const started: Cluster = {
    database,
    pool: inspectionPool(database.url),
    env,
    apis,
    workers,
    redisUrl,
    queuePrefix,
    liveUrls: () => started.apis.filter((api) => api.alive).map((api) => api.url!),
  };
  cluster = started;
  return started;
}

afterEach(async () => {
  const current = cluster;
  cluster = undefined;
  if (current) {
    await Promise.all([...current.apis, ...current.workers].map((process) => process.stop()));
    await current.pool.end();
    await current.database.drop();
    await deleteQueueKeys(current.redisUrl, current.queuePrefix);
  }
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** Runs customers for durationMs while `fault` strikes at faultAtMs. */
async function underLoad(
  c: Cluster,
  options: { shows?: number; seats?: number; durationMs?: number; faultAtMs?: number },
  fault: () => Promise<void>,
): Promise<LoadReport> {
  const showIds = await createShows(c.apis[0]!.url!, options.shows ?? 3, options.seats ?? 50);
  const load = runCustomers({
    urls: () => c.liveUrls(),
    showIds,
    customers: 32,
    durationMs: options.durationMs ?? 6_000,
  });
  await sleep(options.faultAtMs ?? 1_500);
  await fault();
  return load;
}

const holdsAfterwards = async (url: string, showId: string) =>
  (await fetch(`${url}/api/shows/${showId}/book`, { method: 'POST' })).status;

describe('an API process killed with SIGKILL mid-load', () => {
  it('customers move to the other process; nothing is lost or oversold', async () => {
    const c = await startCluster(2, 1);
    const report = await underLoad(c, {}, () => c.apis[0]!.kill());
    expect(c.apis[0]!.alive).toBe(false);
    expect(report.unreachable).toBeGreaterThan(0); // the kill was felt…
    expect(report.serverErrors).toEqual([]); // …as dropped connections, never as a 5xx
    expect(report.holds).toBeGreaterThan(50);
    await checkInvariants({ pool: c.pool, apiUrl: c.apis[1]!.url!, report, sweepIntervalSeconds: 1 });
  }, 90_000);
});

describe('a worker killed with SIGKILL, then restarted', () => {
  it('holds made meanwhile still expire, within a sweep interval of the restart', async () => {
    const c = await startCluster(1, 1);
    let overdueAtRestart = 0;
    // Shows too big to sell out, so no hold group reclaims overdue holds: only a worker can.
    const report = await underLoad(c, { seats: 5_000 }, async () => {
      await c.workers[0]!.kill();
      await sleep(3_000); // holds fall due with no worker at all
      const { rows } = await c.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM bookings WHERE status = 'PENDING' AND expires_at < now()`,
      );
      overdueAtRestart = rows[0]!.n;
      c.workers.push(await startWorker('worker-restarted', c.env));
    });
    expect(overdueAtRestart).toBeGreaterThan(0); // the worker's absence was felt
    expect(report.serverErrors).toEqual([]);
    await checkInvariants({ pool: c.pool, apiUrl: c.apis[0]!.url!, report, sweepIntervalSeconds: 1 });
  }, 90_000);
});

describe('Redis faults (a redis-server of the test its own)', () => {
  it('Redis flushed mid-load (every delayed expiry job lost): holds still expire through the sweep', async () => {
    const redis = await OwnRedis.start();
    cleanups.push(() => redis.close());
    const c = await startCluster(1, 1, redis.url);
    const report = await underLoad(c, {}, () => redis.flushAll());
    expect(report.serverErrors).toEqual([]);
    await checkInvariants({ pool: c.pool, apiUrl: c.apis[0]!.url!, report, sweepIntervalSeconds: 1 });
  }, 90_000);

  it('Redis stopped, then started again: booking goes on, readiness says 503, holds expire once it is back', async () => {
    const redis = await OwnRedis.start();
    cleanups.push(() => redis.close());
    const c = await startCluster(1, 1, redis.url);
    const api = c.apis[0]!;
    const [showId] = await createShows(api.url!, 1, 1000);
    let readinessWhileDown: { status: number; body: any } | undefined;
    let holdWhileDown = 0;
    const report = await underLoad(c, { durationMs: 7_000 }, async () => {
      await redis.stop();
      await sleep(500);
      const ready = await fetch(`${api.url}/health/ready`);
      readinessWhileDown = { status: ready.status, body: await ready.json() };
      holdWhileDown = await holdsAfterwards(api.url!, showId!);
      await sleep(2_000);
      await redis.start();
    });
    expect(readinessWhileDown?.status).toBe(503);
    expect(readinessWhileDown?.body).toMatchObject({
      code: 'service_unavailable',
      checks: { database: 'ok', redis: 'unavailable' },
    });
    expect(holdWhileDown).toBe(201);
    // Holds the database accepted were answered 201 whether or not their expiry job could be queued.
    expect(report.serverErrors).toEqual([]);
    await checkInvariants({ pool: c.pool, apiUrl: api.url!, report, sweepIntervalSeconds: 1 });
    expect((await fetch(`${api.url}/health/ready`)).status).toBe(200);
  }, 90_000);
});

describe('PostgreSQL connections terminated mid-load', () => {
  it('answers 503 problem+json for what failed, recovers by itself, leaves nothing half-done', async () => {
    const c = await startCluster(2, 1);
    const terminate = () =>
      c.pool.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()`,
      );
    const report = await underLoad(c, {}, async () => {
      await terminate();
      await sleep(1_000);
      await terminate();
    });
    // The terminations were felt (20 to 30 answers here), and only as 503s the clients retried; never a 500.
    expect(report.serverErrors.length).toBeGreaterThan(0);
    expect(report.serverErrors.filter((error) => error.status !== 503 || error.code !== 'service_unavailable')).toEqual(
      [],
    );
    const [showId] = await createShows(c.apis[0]!.url!, 1, 10);
    for (const api of c.apis) expect(await holdsAfterwards(api.url!, showId!)).toBe(201);
    await checkInvariants({ pool: c.pool, apiUrl: c.apis[0]!.url!, report, sweepIntervalSeconds: 1 });
  }, 90_000);
});
