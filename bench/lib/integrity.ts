import { Redis } from 'ioredis';
import type pg from 'pg';
import { sleep } from './log.js';
import { countExpiryJobs, latestDelayedJobs } from './queue.js';

export interface Integrity {
  /** Shows with more seats held or sold than they have: must be 0. */
  oversold: number;
  /** Shows whose held_seats or confirmed_seats differ from their bookings' rows: must be 0. */
  mismatched: number;
  pending: number;
  /** Distinct (show, deadline) among PENDING holds. */
  groups: number;
  /** Shows with PENDING holds. */
  pendingShows: number;
  /** Delayed expiry jobs in the API's queue (not with --url). */
  delayedJobs?: number;
  /** Shows whose latest PENDING deadline no delayed job of theirs is due at or after: should be 0. */
  uncovered?: number;
}

/**
 * Read from the database: no show may have more seats held or sold than it has, and every
 * show's counters must equal its rows. With the queue (the bench's own service): every PENDING
 * hold must be covered by a delayed BullMQ expiry job of its show due at or after its deadline.
 */
export async function checkIntegrity(
  db: pg.Pool,
  queue: { redisUrl: string; prefix: string } | undefined,
): Promise<Integrity> {
  await sleep(500); // the API adds expiry jobs without waiting for them: let the last ones land
  const { rows } = await db.query<Integrity>(
    `WITH rows AS (
       SELECT s.id, s.total_seats, s.held_seats, s.confirmed_seats,
              COALESCE(sum(b.seats) FILTER (WHERE b.status = 'PENDING'), 0) AS pending_seats,
              COALESCE(sum(b.seats) FILTER (WHERE b.status = 'CONFIRMED'), 0) AS confirmed_rows
       FROM shows s LEFT JOIN bookings b ON b.show_id = s.id GROUP BY s.id)
     SELECT count(*) FILTER (WHERE held_seats + confirmed_seats > total_seats)::int AS oversold,
            count(*) FILTER (WHERE held_seats <> pending_seats OR confirmed_seats <> confirmed_rows)::int AS mismatched,
            (SELECT count(*) FROM bookings WHERE status = 'PENDING')::int AS pending,
            (SELECT count(DISTINCT (show_id, expires_at)) FROM bookings WHERE status = 'PENDING')::int AS groups,
            (SELECT count(DISTINCT show_id) FROM bookings WHERE status = 'PENDING')::int AS "pendingShows"
     FROM rows`,
  );
  const integrity = rows[0]!;
  if (!queue) return integrity;

  const redis = new Redis(queue.redisUrl);
  try {
    const jobs = await latestDelayedJobs(redis, queue.prefix);
    const { rows: deadlines } = await db.query<{ show_id: string; latest: number }>(
      `SELECT show_id, (extract(epoch FROM max(expires_at)) * 1000)::float8 AS latest
       FROM bookings WHERE status = 'PENDING' GROUP BY show_id`,
    );
    integrity.uncovered = deadlines.filter(
      ({ show_id, latest }) => (jobs.get(show_id) ?? -Infinity) < Math.floor(latest),
    ).length;
    integrity.delayedJobs = (await countExpiryJobs(redis, queue.prefix)).delayed;
  } finally {
    redis.disconnect();
  }
  return integrity;
}

/** Oversold or miscounted shows fail the run. */
export function integrityOk(integrity: Integrity): boolean {
  return integrity.oversold === 0 && integrity.mismatched === 0;
}

export function integrityLines(i: Integrity): string[] {
  return [
    `oversold shows: ${i.oversold} (must be 0); shows whose counters differ from their rows: ${i.mismatched} (must be 0) ${integrityOk(i) ? '✓' : '✗'}`,
    i.uncovered === undefined
      ? `PENDING holds: ${i.pending} in ${i.groups} groups (the queue of a --url service is not checked)`
      : `PENDING holds: ${i.pending} in ${i.groups} groups on ${i.pendingShows} shows; BullMQ delayed expiry jobs: ${i.delayedJobs}; ` +
        `shows whose last PENDING deadline has no delayed job due at or after it: ${i.uncovered} ${i.uncovered === 0 ? '✓' : '✗'}`,
  ];
}
