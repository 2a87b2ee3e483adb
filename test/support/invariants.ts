import { expect } from 'vitest';
import type { Pool } from '../../src/db/pool.js';
import { ShowRepository } from '../../src/repositories/show.repository.js';
import { sleep } from '../helpers.js';
import type { LoadReport } from './customers.js';

export interface InvariantOptions {
  pool: Pool;
  /** Any API process that is up, to read available_seats as customers see them. */
  apiUrl: string;
  report: LoadReport;
  sweepIntervalSeconds: number;
  /** Scheduling slack on a loaded 2-core machine, added to the sweep interval. */
  graceSeconds?: number;
  /** Also bound, over every hold that expired, how late its status changed (not during a Redis outage). */
  boundLateness?: boolean;
}

/**
 * The guarantees, checked after load: waits until every hold made is past its deadline
 * plus one sweep interval, then asserts for every show that
 * - its counters equal its booking rows (and never exceed its seats);
 * - confirmed + active holds + available (as the API reports it) = total seats;
 * - every booking whose confirm answered 200 (and was not cancelled by its customer) is CONFIRMED;
 * - no PENDING hold is past its expires_at by more than the sweep interval.
 */
export async function checkInvariants(options: InvariantOptions) {
  const { pool, apiUrl, report, sweepIntervalSeconds } = options;
  const bound = sweepIntervalSeconds + (options.graceSeconds ?? 2);

  const { rows: last } = await pool.query<{ wait_ms: number | null }>(
    `SELECT (extract(epoch FROM max(expires_at) - now()) * 1000)::float8 AS wait_ms FROM bookings`,
  );
  await sleep(Math.max(0, last[0]?.wait_ms ?? 0) + bound * 1000);

  const { rows: stale } = await pool.query<{ id: string; late_s: number }>(
    `SELECT id, extract(epoch FROM now() - expires_at)::float8 AS late_s FROM bookings
     WHERE status = 'PENDING' AND expires_at < now() - make_interval(secs => $1)`,
    [bound],
  );
  expect(stale, 'PENDING holds past their deadline by more than the sweep interval').toEqual([]);

  if (options.boundLateness) {
    const { rows } = await pool.query<{ late_s: number | null }>(
      `SELECT max(extract(epoch FROM updated_at - expires_at))::float8 AS late_s FROM bookings WHERE status = 'EXPIRED'`,
    );
    expect(rows[0]?.late_s ?? 0, 'seconds between a deadline and its EXPIRED status').toBeLessThanOrEqual(bound);
  }

  const { mismatches } = await new ShowRepository(pool).counterMismatches();
  expect(mismatches, 'shows whose counters differ from their bookings').toEqual([]);

  const { rows: shows } = await pool.query<{ id: string; total: number; confirmed: number; active: number }>(
    `SELECT s.id, s.total_seats AS total,
            COALESCE(sum(b.seats) FILTER (WHERE b.status = 'CONFIRMED'), 0)::int AS confirmed,
            COALESCE(sum(b.seats) FILTER (WHERE b.status = 'PENDING' AND b.expires_at > now()), 0)::int AS active
     FROM shows s LEFT JOIN bookings b ON b.show_id = s.id GROUP BY s.id`,
  );
  for (const show of shows) {
    const response = await fetch(`${apiUrl}/api/shows/${show.id}`);
    const { available_seats: available } = (await response.json()) as { available_seats: number };
    expect(show.confirmed + show.active + available, `seats of show ${show.id}`).toBe(show.total);
  }

  const confirmedIds = [...report.confirmed.keys()];
  const { rows: notConfirmed } = await pool.query<{ id: string; status: string }>(
    `SELECT id, status FROM bookings WHERE id = ANY($1::uuid[]) AND status <> 'CONFIRMED'`,
    [confirmedIds],
  );
  expect(notConfirmed, 'bookings confirmed with a 200 that are no longer CONFIRMED').toEqual([]);
  const { rows: found } = await pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM bookings WHERE id = ANY($1::uuid[])',
    [confirmedIds],
  );
  expect(found[0]!.n).toBe(confirmedIds.length);

  return { shows: shows.length, confirmed: confirmedIds.length };
}
