import { Redis } from 'ioredis';
import type pg from 'pg';
import { sleep } from './log.js';
import { countExpiryJobs, latestDelayedJobs } from './queue.js';
import { thousands } from './report.js';

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
  /** The seats of every seated show. */
  seats: SeatIntegrity;
}

/**
 * The seats of seated shows, read from the database. Every seated hold the bench makes is a
 * best available one (never allow_split), so each booking's seats must be one block of a row.
 */
export interface SeatIntegrity {
  /** Seated shows checked. */
  shows: number;
  /** Seats in state H. */
  held: number;
  /** Seats of the PENDING bookings of those shows (bookings.seats). */
  pendingSeats: number;
  /** Shows whose seats in state H are not as many as their PENDING bookings' seats: must be 0. */
  heldMismatched: number;
  /**
   * Seats in state H that are not listed by exactly one PENDING booking of their show, or whose
   * owner (seats.booking_id) is not that booking, and seats a PENDING booking lists that are not
   * in state H: must be 0.
   */
  misowned: number;
  /** Bookings with seats (any status). */
  bookings: number;
  /**
   * Bookings whose seat_nos are not consecutive numbers within one row of the show's map (the
   * map's rows give the boundaries: seats are numbered through sections, then rows), or whose
   * seat_ids do not name exactly those seats (<section>-<row>-<number>): must be 0.
   */
  scattered: number;
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
  const { rows } = await db.query<Omit<Integrity, 'seats'>>(
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
  const integrity = { ...rows[0]!, seats: await checkSeats(db) };
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

// checkSeats' statement; $1: the shows' ids, or null for every seated show.
const SEAT_CHECK = `WITH shown AS MATERIALIZED (
       SELECT id, seat_map FROM shows WHERE seat_map IS NOT NULL AND ($1::uuid[] IS NULL OR id = ANY ($1::uuid[]))),
     map_rows AS (
       SELECT s.id AS show_id, sec.section ->> 'name' AS section, r.row ->> 'label' AS label,
              sum((r.row ->> 'seats')::int) OVER (PARTITION BY s.id ORDER BY sec.i, r.j) - (r.row ->> 'seats')::int AS start,
              (r.row ->> 'seats')::int AS length
       FROM shown s
       CROSS JOIN LATERAL jsonb_array_elements(s.seat_map -> 'sections') WITH ORDINALITY AS sec(section, i)
       CROSS JOIN LATERAL jsonb_array_elements(sec.section -> 'rows') WITH ORDINALITY AS r(row, j)),
     maps AS MATERIALIZED (
       SELECT show_id, array_agg(start::int ORDER BY start) AS starts, array_agg(length ORDER BY start) AS lengths,
              array_agg(section ORDER BY start) AS sections, array_agg(label ORDER BY start) AS labels
       FROM map_rows GROUP BY show_id),
     per_show AS MATERIALIZED (
       SELECT s.id,
              (SELECT count(*) FROM seats st WHERE st.show_id = s.id AND st.state = 'H') AS held,
              (SELECT COALESCE(sum(b.seats), 0) FROM bookings b WHERE b.show_id = s.id AND b.status = 'PENDING') AS pending_seats,
              -- Seats a PENDING booking lists that are not held by it.
              (SELECT COALESCE(sum(b.seats - (
                 SELECT count(*) FROM seats st
                 WHERE st.show_id = b.show_id AND st.seat_no = ANY (b.seat_nos) AND st.booking_id = b.id AND st.state = 'H')), 0)
               FROM bookings b WHERE b.show_id = s.id AND b.status = 'PENDING') AS unowned,
              -- Held seats whose owner is not a PENDING booking of the show that lists them. With the
              -- above, every held seat is listed by exactly one PENDING booking: a second one listing
              -- it could not own it.
              (SELECT count(*) FROM seats st LEFT JOIN bookings b ON b.id = st.booking_id
               WHERE st.show_id = s.id AND st.state = 'H'
                 AND NOT COALESCE(b.status = 'PENDING' AND b.show_id = st.show_id AND st.seat_no = ANY (b.seat_nos), false)) AS stray
       FROM shown s),
     blocks AS MATERIALIZED (
       SELECT COALESCE(
                w.r >= 1 AND cardinality(b.seat_nos) = b.seats
                AND b.seat_nos = ARRAY(SELECT generate_series(b.seat_nos[1], b.seat_nos[1] + b.seats - 1))
                AND b.seat_nos[b.seats] < m.starts[w.r] + m.lengths[w.r]
                AND b.seat_ids = ARRAY(
                  SELECT format('%s-%s-%s', m.sections[w.r], m.labels[w.r], g - m.starts[w.r] + 1)
                  FROM generate_series(b.seat_nos[1], b.seat_nos[1] + b.seats - 1) AS g ORDER BY g),
                false) AS adjacent
       FROM bookings b JOIN maps m ON m.show_id = b.show_id
       CROSS JOIN LATERAL (SELECT width_bucket(b.seat_nos[1], m.starts) AS r) w
       WHERE b.seat_nos IS NOT NULL)
     SELECT (SELECT count(*) FROM per_show)::int AS shows,
            (SELECT COALESCE(sum(held), 0) FROM per_show)::int AS held,
            (SELECT COALESCE(sum(pending_seats), 0) FROM per_show)::int AS "pendingSeats",
            (SELECT count(*) FROM per_show WHERE held <> pending_seats)::int AS "heldMismatched",
            (SELECT COALESCE(sum(unowned + stray), 0) FROM per_show)::int AS misowned,
            (SELECT count(*) FROM blocks)::int AS bookings,
            (SELECT count(*) FROM blocks WHERE NOT adjacent)::int AS scattered`;

/**
 * The seats of the given seated shows (every seated show when none are given), from one
 * statement: see SeatIntegrity. Every join is by an index or against a few rows, whatever the
 * planner estimates (a join of 20,000 booked seats with the 100,000 seats of a generated map ran
 * for minutes as a nested loop): the seats of a booking are looked up by the seats' primary key,
 * as in check:consistency, and the row of a seat number is found by width_bucket over the
 * starts of the map's rows (seats are numbered through sections, then rows, from 0).
 */
export async function checkSeats(db: pg.Pool, showIds?: string[]): Promise<SeatIntegrity> {
  const client = await db.connect();
  try {
    // The planner's guesses at the jsonb and array functions' rows make JIT compile for a second, for nothing.
    await client.query('BEGIN READ ONLY');
    await client.query('SET LOCAL jit = off');
    const { rows } = await client.query<SeatIntegrity>(SEAT_CHECK, [showIds ?? null]);
    await client.query('COMMIT');
    return rows[0]!;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

export function seatsOk(seats: SeatIntegrity): boolean {
  return seats.heldMismatched === 0 && seats.misowned === 0 && seats.scattered === 0;
}

/** The seat checks in one line. */
export function seatLine(seats: SeatIntegrity): string {
  return (
    `${thousands(seats.held)} seats held (H) = ${thousands(seats.pendingSeats)} seats of PENDING bookings ` +
    `(shows differing: ${seats.heldMismatched}); seats not owned by exactly one PENDING booking that lists them: ${seats.misowned}; ` +
    `bookings not one block of a row: ${seats.scattered} of ${thousands(seats.bookings)}`
  );
}

/** Oversold or miscounted shows, and seats held or owned wrongly, fail the run. */
export function integrityOk(integrity: Integrity): boolean {
  return integrity.oversold === 0 && integrity.mismatched === 0 && seatsOk(integrity.seats);
}

export function integrityLines(i: Integrity): string[] {
  return [
    `oversold shows: ${i.oversold} (must be 0); shows whose counters differ from their rows: ${i.mismatched} (must be 0) ${i.oversold === 0 && i.mismatched === 0 ? '✓' : '✗'}`,
    i.uncovered === undefined
      ? `PENDING holds: ${i.pending} in ${i.groups} groups (the queue of a --url service is not checked)`
      : `PENDING holds: ${i.pending} in ${i.groups} groups on ${i.pendingShows} shows; BullMQ delayed expiry jobs: ${i.delayedJobs}; ` +
        `shows whose last PENDING deadline has no delayed job due at or after it: ${i.uncovered} ${i.uncovered === 0 ? '✓' : '✗'}`,
    ...(i.seats.shows === 0
      ? []
      : [
          `seats of every seated show (${i.seats.shows}): ${seatLine(i.seats)} (differing, not owned and not one block: must be 0) ${seatsOk(i.seats) ? '✓' : '✗'}`,
        ]),
  ];
}
