import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import type { Pool } from '../../src/db/pool.js';
import { createTestDatabase, inspectionPool, type TestDatabase } from '../helpers.js';
import { runCustomers } from '../support/customers.js';
import { checkInvariants } from '../support/invariants.js';
import {
  createShows,
  deleteQueueKeys,
  serviceEnv,
  startApi,
  startWorker,
  type ServiceProcess,
} from '../support/processes.js';

// Two API processes and two workers, started as `npm start` and `npm run worker` would be,
// on one database and one Redis; customers spread over both APIs.
let database: TestDatabase;
let pool: Pool;
let processes: ServiceProcess[] = [];
const queuePrefix = `stress-${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = inspectionPool(database.url);
  const env = serviceEnv(database.url, inject('redisUrl'), queuePrefix);
  processes = await Promise.all([
    startApi('api-1', env),
    startApi('api-2', env),
    startWorker('worker-1', env),
    startWorker('worker-2', env),
  ]);
});

afterAll(async () => {
  await Promise.all(processes.map((process) => process.stop()));
  await pool?.end();
  await database?.drop();
  await deleteQueueKeys(inject('redisUrl'), queuePrefix);
});

it('two APIs and two workers: every show adds up, every 200 confirm stands, no hold outlives its deadline', async () => {
  const [api1, api2] = processes as [ServiceProcess, ServiceProcess];
  // Four small shows, which customers sell out (by the end nearly all confirmed), and one
  // that never sells out, so that holds are still live when the load stops.
  const showIds = [...(await createShows(api1.url!, 4, 40)), ...(await createShows(api1.url!, 1, 2_000))];
  const report = await runCustomers({
    urls: () => [api1.url!, api2.url!],
    showIds,
    customers: 48,
    durationMs: 6_000,
  });
  expect(report.serverErrors).toEqual([]);
  expect(report.unreachable).toBe(0);
  // The small shows are small on purpose: customers contend, sell out, and buy what lapsed holds free.
  expect(report.holds).toBeGreaterThan(100);
  expect(report.statuses.get(409) ?? 0).toBeGreaterThan(0);
  expect(report.confirmed.size).toBeGreaterThan(20);
  // Checked right after the load, while the holds of its last HOLD_TTL_SECONDS (2 s) are live:
  // the live phase of the check must have seen some (on the big show at least).
  const { live } = await checkInvariants({
    pool,
    apiUrl: api2.url!,
    report,
    sweepIntervalSeconds: 1,
    boundLateness: true,
  });
  expect(live.activeSeats, 'seats of live holds the check saw').toBeGreaterThan(0);
}, 60_000);
