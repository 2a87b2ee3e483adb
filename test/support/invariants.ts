import { expect } from 'vitest';
import type { Pool } from '../../src/adapters/postgres/pool.js';
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

/** One show's seats by its booking rows, read in one statement at `at` (database clock). */
interface RowView {
  /** The show's seats less those the house keeps back (blocks: never available, never booked). */
  total: number;
  confirmed: number;
  /** Seats of PENDING holds whose expires_at is after `at`. */
  active: number;
  activeHolds: number;
  /** Ids of the CONFIRMED bookings and of the active holds: equal views counted the same rows. */
  counted: string;
  /** statement_timestamp() of the read, as text so that it goes back to the database exactly. */
  at: string;
  /** PENDING holds whose expires_at fell in (since, at]; 0 when no `since` was given. */
  crossed: number;
}

async function readRows(pool: Pool, showId: string, since: string | null): Promise<RowView> {
  const { rows } = await pool.query<RowView>(
    `SELECT s.total_seats - s.blocked_seats AS total,
            COALESCE(sum(b.seats) FILTER (WHERE b.status = 'CONFIRMED'), 0)::int AS confirmed,
            COALESCE(sum(b.seats) FILTER (WHERE b.status = 'PENDING' AND b.expires_at > statement_timestamp()), 0)::int
              AS active,
            count(b.id) FILTER (WHERE b.status = 'PENDING' AND b.expires_at > statement_timestamp())::int
              AS "activeHolds",
            COALESCE(string_agg(b.id::text, ',' ORDER BY b.id) FILTER (
              WHERE b.status = 'CONFIRMED' OR (b.status = 'PENDING' AND b.expires_at > statement_timestamp())), '')
              AS counted,
            statement_timestamp()::text AS at,
            count(b.id) FILTER (
              WHERE b.status = 'PENDING' AND b.expires_at > $2::timestamptz AND b.expires_at <= statement_timestamp())::int
              AS crossed
     FROM shows s LEFT JOIN bookings b ON b.show_id = s.id WHERE s.id = $1 GROUP BY s.id`,
    [showId, since],
  );
  return rows[0]!;
}

/**
 * confirmed + active holds + available = total, checked while holds are still live, for
 * every show. Call it only once load has stopped: then nothing changes a show's bookings
 * but time, which turns active holds into overdue ones (and the sweep, which expires only
 * overdue ones and so moves none of the terms).
 *
 * For each show: the rows (one statement, at tA), then available_seats from the API (its
 * own statement, at some tAPI with tA < tAPI), then the rows again (at tB > tAPI). The
 * sample counts only if no hold's deadline fell in (tA, tB] and both reads counted the same
 * bookings: then every hold is active or overdue alike for the rows and for the API. Else
 * the show is read again.
 *
 * Returns the active seats and holds it saw, so that callers can tell it saw some.
 */
export async function checkLiveSeats(pool: Pool, apiUrl: string) {
  const { rows: shows } = await pool.query<{ id: string }>('SELECT id FROM shows ORDER BY id');
  let activeSeats = 0;
  let activeHolds = 0;
  let retries = 0;
  for (const { id } of shows) {
    for (let attempt = 1; ; attempt++) {
      const before = await readRows(pool, id, null);
      const response = await fetch(`${apiUrl}/api/shows/${id}`);
      expect(response.status, `GET /api/shows/${id}`).toBe(200);
      const { available_seats: available } = (await response.json()) as { available_seats: number };
      const after = await readRows(pool, id, before.at);
      if (after.crossed === 0 && after.counted === before.counted) {
        expect(
          before.confirmed + before.active + available,
          `show ${id} while holds are live: confirmed ${before.confirmed} + active holds ${before.active} + available ${available} = total`,
        ).toBe(before.total);
        activeSeats += before.active;
        activeHolds += before.activeHolds;
        break;
      }
      retries++;
      expect(attempt, `show ${id}: a deadline fell between the reads on every attempt`).toBeLessThan(50);
    }
  }
  return { shows: shows.length, activeSeats, activeHolds, retries };
}

/**
 * The guarantees, checked after load (call it once load has stopped). First, while holds
 * are still live, for every show (checkLiveSeats):
 * - confirmed + active holds + available (as the API reports it) = total seats.
 * Then it waits until every hold made is past its deadline plus one sweep interval, and
 * asserts for every show that
 * - its counters equal its booking rows (and never exceed its seats);
 * - confirmed + active holds (none by then) + available (as the API reports it) = total seats;
 * - every booking whose confirm answered 200 (and was not cancelled by its customer) is CONFIRMED;
 * - no PENDING hold is past its expires_at by more than the sweep interval.
 * Returns, with the counts checked, the active seats and holds the live check saw.
 */
export async function checkInvariants(options: InvariantOptions) {
  const { pool, apiUrl, report, sweepIntervalSeconds } = options;
  const bound = sweepIntervalSeconds + (options.graceSeconds ?? 2);

  const live = await checkLiveSeats(pool, apiUrl);

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

  const { mismatches, seatMismatches } = await new ShowRepository(pool).counterMismatches();
  expect(mismatches, 'shows whose counters differ from their bookings').toEqual([]);
  expect(seatMismatches, 'seated shows whose seats differ from their counters or bookings').toEqual([]);

  // total: the show's seats less its blocked ones.
  const { rows: shows } = await pool.query<{ id: string; total: number; confirmed: number; active: number }>(
    `SELECT s.id, s.total_seats - s.blocked_seats AS total,
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

  return { shows: shows.length, confirmed: confirmedIds.length, live };
}
