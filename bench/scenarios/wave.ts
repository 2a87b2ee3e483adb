import { Redis } from 'ioredis';
import type pg from 'pg';
import { insertShow } from '../lib/database.js';
import { log, sleep, waitFor } from '../lib/log.js';
import { groupMeter } from '../lib/metrics.js';
import { countExpiryJobs, deletePrefix, type JobCounts } from '../lib/queue.js';
import { goal, rowOf, type Scenario } from '../lib/scenario.js';
import { startService, startWorker, type Service, type ServiceEnv } from '../lib/service.js';
import { thousands } from '../lib/report.js';
import { runWrk, unexpected } from '../lib/wrk.js';

const HOLDS = 10_000;
/** Long enough for the 10,000 holds to be made, and their jobs counted, before the first falls due. */
const TTL_SECONDS = Number(process.env.BENCH_WAVE_TTL_SECONDS ?? '5');
const LATENESS_GOAL_MS = 1000;
const HOLD_P99_GOAL_MS = 50;

interface Burst {
  holds: number;
  firstCreated: number;
  lastCreated: number;
  firstDue: number;
  lastDue: number;
  /** Holds of the burst no longer PENDING just after the jobs were counted (their jobs may have run and gone). */
  settled: number;
}

export const wave: Scenario = {
  name: 'wave',
  setsUp:
    `its own API process (same database and Redis, another port and queue prefix, HOLD_TTL_SECONDS=${TTL_SECONDS}) ` +
    'and a worker (node dist/worker.js: the bench runs none otherwise, and only a worker runs expiry jobs); one show of 10,000,000 seats, and one of a single seat to warm the new process up',
  measures:
    `expiry wave: ${thousands(HOLDS)} holds made as fast as possible (256 connections) so they fall due within about as long as ` +
    'they took to make (1–2 s), then 64 connections keep holding on that show from 1 s before the first deadline to ' +
    `2 s after the last: (a) p99 and max of updated_at − expires_at over the ${thousands(HOLDS)} once EXPIRED (goal p99 ≤ 1 s), ` +
    `(b) holds p99 on that show during the wave (goal ≤ ${HOLD_P99_GOAL_MS} ms), (c) BullMQ expiry jobs added for the ` +
    `${thousands(HOLDS)} (counted in Redis before any falls due)`,
  async run({ env: baseEnv, db, rss }) {
    const show = await insertShow(db, 'expiry wave', 10_000_000);
    const env: ServiceEnv = { ...baseEnv, queuePrefix: `${baseEnv.queuePrefix}-wave`, holdTtlSeconds: TTL_SECONDS };
    const redis = new Redis(env.redisUrl);
    let worker: Service | undefined;
    let service: Service | undefined;
    try {
      log(`\nexpiry wave: starting a worker and an API with HOLD_TTL_SECONDS=${TTL_SECONDS}`);
      worker = await startWorker(env);
      service = await startService(env);
      rss.watch('wave API', service.pid);
      // A fresh process answers its first requests slowly (cold code): warm it on a show of one
      // seat, whose 409s take the whole hold path but leave one hold and one expiry job behind.
      const warmUp = await insertShow(db, 'expiry wave warm-up', 1);
      await runWrk({
        title: 'expiry wave: warm-up, 3,000 holds on a show of one seat',
        url: service.url,
        script: 'hold.lua',
        connections: 256,
        seconds: 30,
        limit: 3_000,
        shows: [warmUp],
      });
      const jobsBefore = await countExpiryJobs(redis, env.queuePrefix);
      const burstGroups = await groupMeter(service.url, env.adminKey);
      const made = await runWrk({
        title: `expiry wave: ${thousands(HOLDS)} holds on one show, 256 connections, as fast as possible`,
        url: service.url,
        script: 'hold.lua',
        connections: 256,
        seconds: 60,
        limit: HOLDS,
        shows: [show],
        cpuOf: service.pid,
      });
      const countedAt = Date.now();
      const jobs = minus(await countExpiryJobs(redis, env.queuePrefix), jobsBefore);
      const burst = await burstOf(db, show);
      // A job that has run is gone (removeOnComplete): a count taken after the first deadline may miss some.
      const countedLate = burst.settled > 0 || countedAt >= burst.firstDue;
      const burstGroupStats = await burstGroups(db, [show]);
      log(
        `  made in ${burst.lastCreated - burst.firstCreated} ms; deadlines spread over ${burst.lastDue - burst.firstDue} ms; ` +
          `expiry jobs in the queue: ${jobs.total}`,
      );

      await sleep(Math.max(0, burst.firstDue - 1000 - Date.now()));
      const seconds = Math.min(30, Math.max(2, Math.ceil((burst.lastDue + 2000 - Date.now()) / 1000)));
      const duringGroups = await groupMeter(service.url, env.adminKey);
      const during = await runWrk({
        title: `expiry wave: holds on the same show through the deadlines, 64 connections, ${seconds}s`,
        url: service.url,
        script: 'hold.lua',
        connections: 64,
        seconds,
        shows: [show],
        cpuOf: service.pid,
      });
      const duringGroupStats = await duringGroups(db, [show], burst.lastCreated + 1);

      // The worker's jobs (or, failing them, its sweep every 5 s) expire the burst; then the later holds.
      const burstExpired = await waitFor(async () => (await pendingOf(db, show, burst.lastCreated)) === 0, 30_000);
      const lateness = await latenessOf(db, show, burst.lastCreated);
      const allExpired = await waitFor(
        async () => (await pendingOf(db, show)) + (await pendingOf(db, warmUp)) === 0,
        TTL_SECONDS * 1000 + 30_000,
      );
      // Jobs whose holds an earlier job already expired still run, each at its own time.
      await waitFor(async () => (await countExpiryJobs(redis, env.queuePrefix)).total === 0, 10_000);
      const jobsLeft = await countExpiryJobs(redis, env.queuePrefix);

      const latenessMet = burstExpired && lateness.expired === HOLDS && lateness.p99 <= LATENESS_GOAL_MS;
      const burstNote =
        `${thousands(burst.holds)} holds in ${burst.lastCreated - burst.firstCreated} ms, due within ${burst.lastDue - burst.firstDue} ms; ` +
        `expired late by p99 ${lateness.p99} ms, max ${lateness.max} ms (${thousands(lateness.expired)} EXPIRED); ` +
        `${thousands(jobs.total)} expiry jobs for them${countedLate ? ' (counted after the first deadline: may be low)' : ''}`;
      return {
        rows: [
          rowOf(made, {
            scenario: 'wave',
            label: `expiry wave: ${thousands(HOLDS)} holds`,
            connections: 256,
            ok: made.statuses['201'] ?? 0,
            errors: unexpected(made, 201),
            groups: burstGroupStats,
            note: burstNote,
          }),
          rowOf(during, {
            scenario: 'wave',
            label: 'expiry wave: holds during it',
            connections: 64,
            ok: during.statuses['201'] ?? 0,
            errors: unexpected(during, 201),
            groups: duringGroupStats,
            note: 'same show, from 1 s before the first deadline to 2 s after the last',
          }),
        ],
        goals: [
          goal(
            'expiry wave: lateness (updated_at − expires_at)',
            `p99 ${lateness.p99} ms, max ${lateness.max} ms over ${thousands(lateness.expired)} EXPIRED`,
            `p99 ≤ ${LATENESS_GOAL_MS} ms`,
            latenessMet,
          ),
          goal(
            'expiry wave: holds p99 on the show during the wave',
            `${during.latency.p99} ms`,
            `≤ ${HOLD_P99_GOAL_MS} ms`,
            during.latency.p99 <= HOLD_P99_GOAL_MS,
          ),
        ],
        lines: [
          `expiry wave: BullMQ expiry jobs added for the ${thousands(HOLDS)} holds: ${jobs.total} (${jobs.delayed} delayed, ` +
            `${jobs.waiting + jobs.active} waiting or running, ${jobs.completed} kept completed); queue once the show's holds had all expired: ` +
            `${jobsLeft.total} jobs left${allExpired ? '' : '; SOME HOLDS OF THE SHOW WERE STILL PENDING'}`,
        ],
        data: { burst, jobs, countedLate, jobsLeft, lateness, allExpired, ttlSeconds: TTL_SECONDS },
      };
    } finally {
      rss.unwatch('wave API');
      await service?.stop();
      await worker?.stop();
      await deletePrefix(redis, env.queuePrefix);
      redis.disconnect();
    }
  },
};

const epochMs = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8`;

async function burstOf(db: pg.Pool, show: string): Promise<Burst> {
  const { rows } = await db.query<Record<keyof Burst, number>>(
    `SELECT count(*)::int AS holds,
            ${epochMs('min(created_at)')} AS "firstCreated", ${epochMs('max(created_at)')} AS "lastCreated",
            ${epochMs('min(expires_at)')} AS "firstDue", ${epochMs('max(expires_at)')} AS "lastDue",
            (count(*) FILTER (WHERE status <> 'PENDING'))::int AS settled
     FROM bookings WHERE show_id = $1`,
    [show],
  );
  const r = rows[0]!;
  return {
    holds: r.holds,
    firstCreated: Math.round(r.firstCreated),
    lastCreated: Math.round(r.lastCreated),
    firstDue: Math.round(r.firstDue),
    lastDue: Math.round(r.lastDue),
    settled: r.settled,
  };
}

/** PENDING holds of the show (made by lastCreated, when given). */
async function pendingOf(db: pg.Pool, show: string, lastCreated?: number) {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM bookings
     WHERE show_id = $1 AND status = 'PENDING' AND ($2::float8 IS NULL OR created_at <= to_timestamp($2::float8 / 1000))`,
    [show, lastCreated === undefined ? null : lastCreated + 1],
  );
  return rows[0]!.n;
}

/** How late the burst's holds were expired: updated_at − expires_at of those EXPIRED, in ms. */
async function latenessOf(db: pg.Pool, show: string, lastCreated: number) {
  const { rows } = await db.query<{ expired: number; p99: number | null; max: number | null }>(
    `SELECT count(*)::int AS expired,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM updated_at - expires_at)) * 1000 AS p99,
            max(extract(epoch FROM updated_at - expires_at)) * 1000 AS max
     FROM bookings
     WHERE show_id = $1 AND status = 'EXPIRED' AND created_at <= to_timestamp($2::float8 / 1000)`,
    [show, lastCreated + 1],
  );
  const r = rows[0]!;
  return { expired: r.expired, p99: Math.round(Number(r.p99 ?? NaN)), max: Math.round(Number(r.max ?? NaN)) };
}

function minus(after: JobCounts, before: JobCounts): JobCounts {
  const keys = Object.keys(after) as (keyof JobCounts)[];
  return Object.fromEntries(keys.map((key) => [key, after[key] - before[key]])) as unknown as JobCounts;
}
