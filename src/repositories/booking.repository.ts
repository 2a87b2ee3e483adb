import type { Pool, PoolClient } from '../db/pool.js';
import { asBooking, BOOKING_COLUMNS, type Booking, type BookingStatus, type StoredBooking } from '../domain/booking.js';
import type { ClaimRef, RecordedResponse } from './idempotency.repository.js';
import type { DbInstant } from './show.repository.js';

/** One request of a hold group, in arrival order. */
export interface GroupHold {
  id: string;
  seats: number;
  tokenHash: Buffer;
  customerRef: string | undefined;
  /** The Idempotency-Key claim and the answer to record with the hold, if it is granted. */
  answer?: { ref: ClaimRef; response: RecordedResponse } | undefined;
}

/** What the gate of every hold group (hold_gate) answers before seats are considered. */
export type GateOutcome =
  | 'show_started'
  | 'taken_over'
  | 'show_not_found'
  | 'sales_not_open'
  | 'sales_closed'
  | 'customer_ref_required'
  | 'customer_limit';

export type HoldOutcome = 'held' | 'sold_out' | 'show_busy' | GateOutcome;

export interface GroupHoldResult {
  outcome: HoldOutcome;
  /** Overdue holds of the show this group's statement turned EXPIRED (the same on every result of a group). */
  reclaimed: number;
  /** The booking written, when held. */
  booking: Booking | null;
  /** Seats left free after the group. */
  available: number | null;
  /** customer_limit: the seats the customer may still hold. */
  allowed: number | null;
  salesStart: Date | null;
}

/**
 * In a recorded answer, the instants only the database knows when it decides the group;
 * hold_group fills them in (as toISOString writes them). A Date stand-in that serializes as
 * the placeholder lets the API write the rest of the answer as usual.
 */
export const DB_NOW = placeholderDate('@@now@@');
export const DB_EXPIRES = placeholderDate('@@expires@@');

function placeholderDate(placeholder: string): Date {
  return { toJSON: () => placeholder } as unknown as Date;
}

/** One request of a seated hold group, in arrival order: the seats chosen for it, none when refused. */
export interface SeatGroupHold {
  id: string;
  seatNos: number[];
  seatIds: string[];
  tokenHash: Buffer;
  customerRef: string | undefined;
  answer?: { ref: ClaimRef; response: RecordedResponse } | undefined;
}

export type SeatHoldOutcome = 'held' | GateOutcome | 'refused' | 'stale' | 'conflict' | 'not_seated' | 'map_changed';

export interface SeatGroupResult {
  outcome: SeatHoldOutcome;
  reclaimed: number;
  booking: Booking | null;
  available: number | null;
  allowed: number | null;
  salesStart: Date | null;
  /** The show's seat version when the group began, and after it. */
  versionBefore: string | null;
  versionAfter: string | null;
  /** Seats of the overdue holds the group reclaimed (first result only). */
  freed: number[] | null;
}

/** A status change decided under the show's lock: `id` moves from `from` to `to`. */
export interface Move {
  id: string;
  from: BookingStatus;
  to: BookingStatus;
}

const bookingColumns = BOOKING_COLUMNS;
const bookingColumnsOf = (alias: string) =>
  BOOKING_COLUMNS.split(', ')
    .map((column) => `${alias}.${column}`)
    .join(', ');

type HoldGroupRow = Omit<Booking, 'id'> & {
  outcome: HoldOutcome;
  available: number | null;
  reclaimed: number;
  allowed: number | null;
  salesStart: Date | null;
  id: string | null;
};
const holdGroupColumns =
  'outcome, available, reclaimed, allowed, sales_start AS "salesStart", id, show_id, seats, status, created_at, expires_at, updated_at';

/** The per-request arrays of hold_group and hold_groups, in their parameter order. */
function requestArrays(holds: GroupHold[]): unknown[] {
  const keyed = holds.some((hold) => hold.answer);
  const perKey = <T>(value: (answer: NonNullable<GroupHold['answer']>) => T) =>
    keyed ? holds.map((hold) => (hold.answer ? value(hold.answer) : null)) : null;
  return [
    holds.map((hold) => hold.id),
    holds.map((hold) => hold.seats),
    holds.map((hold) => hold.tokenHash),
    holds.map((hold) => hold.customerRef ?? null),
    perKey((answer) => answer.ref.scopeHash),
    perKey((answer) => answer.ref.claimId),
    perKey((answer) => answer.response.statusCode),
    perKey((answer) => answer.response.body),
    perKey((answer) => answer.response.location),
  ];
}

/**
 * A CTE (named seats_moved) that moves the seats of the seated bookings in CTE `source` (rows
 * with id, seat_nos and, for `state`/`owner`, status: aliased `e`) to `state` and `owner`,
 * recording the show's next seat_version on them. For the statements that change bookings'
 * status under the show's lock; the same statement moves seat_version by one.
 */
function releaseSeats(source: string, state: string, owner: string): string {
  return `seats_moved AS (
         UPDATE seats st SET state = ${state}, booking_id = ${owner},
           version = (SELECT seat_version + 1 FROM shows WHERE id = $1)
         FROM ${source} e CROSS JOIN LATERAL unnest(e.seat_nos) AS r(seat_no)
         WHERE st.show_id = $1 AND st.seat_no = r.seat_no AND st.booking_id = e.id)`;
}

function toResult({ outcome, available, reclaimed, allowed, salesStart, ...booking }: HoldGroupRow): GroupHoldResult {
  return {
    outcome,
    available,
    reclaimed,
    allowed,
    salesStart,
    booking: booking.id === null ? null : (booking as Booking),
  };
}

export class BookingRepository {
  constructor(private readonly pool: Pool) {}

  /**
   * Decides and writes a hold group in one statement (the hold_group function, see its
   * migration): lock, reclaim overdue holds if short, first come first served, insert,
   * count, record the answers of keyed requests. On the pool it runs on its own
   * (autocommit): the show's lock is held for that one round trip. Inside a transaction that
   * holds the lock, pass its instant. One result per request, in order.
   */
  async holdGroup(
    db: Pool | PoolClient,
    showId: string,
    holds: GroupHold[],
    ttlSeconds: number,
    now: DbInstant | null,
  ): Promise<GroupHoldResult[]> {
    const { rows } = await db.query<HoldGroupRow>(
      `SELECT ${holdGroupColumns} FROM hold_group($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [showId, ttlSeconds, now, ...requestArrays(holds)],
    );
    return rows.map(toResult);
  }

  /**
   * Writes a seated hold group in one statement (hold_seats, see its migration): the seats
   * were chosen at seat version `version`; if the show's seats changed since, every result is
   * `stale` and nothing is written. Like holdGroup, on the pool it runs on its own.
   */
  async holdSeats(
    db: Pool | PoolClient,
    showId: string,
    version: { map: number; seats: string },
    holds: SeatGroupHold[],
    ttlSeconds: number,
    now: DbInstant | null,
  ): Promise<SeatGroupResult[]> {
    const keyed = holds.some((hold) => hold.answer);
    const perKey = <T>(value: (answer: NonNullable<SeatGroupHold['answer']>) => T) =>
      keyed ? holds.map((hold) => (hold.answer ? value(hold.answer) : null)) : null;
    const { rows } = await db.query<
      Omit<Booking, 'id'> & {
        id: string | null;
        outcome: SeatHoldOutcome;
        available: number | null;
        reclaimed: number;
        allowed: number | null;
        salesStart: Date | null;
        versionBefore: string | null;
        versionAfter: string | null;
        freed: number[] | null;
      }
    >(
      `SELECT outcome, available, reclaimed, allowed, sales_start AS "salesStart",
              version_before::text AS "versionBefore", version_after::text AS "versionAfter", freed,
              id, show_id, seats, seat_ids, status, created_at, expires_at, updated_at
       FROM hold_seats($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
      [
        showId,
        ttlSeconds,
        now,
        version.map,
        version.seats,
        holds.map((hold) => hold.id),
        holds.map((hold) => hold.seatNos.length),
        holds.flatMap((hold) => hold.seatNos),
        holds.flatMap((hold, index) => hold.seatNos.map(() => index + 1)),
        holds.flatMap((hold) => hold.seatIds),
        holds.map((hold) => hold.tokenHash),
        holds.map((hold) => hold.customerRef ?? null),
        perKey((answer) => answer.ref.scopeHash),
        perKey((answer) => answer.ref.claimId),
        perKey((answer) => answer.response.statusCode),
        perKey((answer) => answer.response.body),
        perKey((answer) => answer.response.location),
      ],
    );
    return rows.map(
      ({ outcome, available, reclaimed, allowed, salesStart, versionBefore, versionAfter, freed, ...booking }) => ({
        outcome,
        available,
        reclaimed,
        allowed,
        salesStart,
        versionBefore,
        versionAfter,
        freed,
        booking: booking.id === null ? null : (booking as Booking),
      }),
    );
  }

  /**
   * The hold groups of several shows in one statement, so one commit (hold_groups): shows
   * in id order, each locked with SKIP LOCKED, so a show another transaction holds answers
   * `show_busy` for its group instead of stalling the others. Results per group, in order.
   */
  async holdGroups(groups: { showId: string; holds: GroupHold[] }[], ttlSeconds: number): Promise<GroupHoldResult[][]> {
    const sorted = groups.map((group, index) => ({ ...group, index })).sort((a, b) => (a.showId < b.showId ? -1 : 1));
    let end = 0;
    const ends = sorted.map((group) => (end += group.holds.length));
    const { rows } = await this.pool.query<HoldGroupRow>(
      `SELECT ${holdGroupColumns} FROM hold_groups($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [sorted.map((group) => group.showId), ends, ttlSeconds, ...requestArrays(sorted.flatMap((group) => group.holds))],
    );
    const results: GroupHoldResult[][] = groups.map(() => []);
    let next = 0;
    for (const group of sorted) {
      results[group.index] = rows.slice(next, next + group.holds.length).map(toResult);
      next += group.holds.length;
    }
    return results;
  }

  /**
   * Moves the PENDING holds of the show overdue at `now` (at most `limit` of them, or all;
   * only those of `ids` when given) to EXPIRED and returns their seats to sale, in one statement. Caller holds the show's
   * lock. Returns how many bookings expired, the seats freed, and how late each one was
   * (seconds past its expires_at).
   */
  async expireOverdue(
    client: PoolClient,
    showId: string,
    now: DbInstant,
    limit: number | null = null,
    ids: string[] | null = null,
  ): Promise<{ bookings: number; seats: number; lateSeconds: number[] }> {
    const { rows } = await client.query<{ bookings: number; seats: number; lateSeconds: number[] }>(
      `WITH expired AS (
         UPDATE bookings SET status = 'EXPIRED', updated_at = $2::timestamptz
         WHERE id IN (
           SELECT id FROM bookings
           WHERE show_id = $1 AND status = 'PENDING' AND expires_at <= $2::timestamptz
             AND ($4::uuid[] IS NULL OR id = ANY($4::uuid[]))
           LIMIT $3)
         RETURNING id, seats, seat_nos, extract(epoch FROM $2::timestamptz - expires_at)::float8 AS late),
       freed AS (
         SELECT count(*)::int AS bookings, COALESCE(sum(seats), 0)::int AS seats,
                COALESCE(array_agg(late), '{}') AS late, bool_or(seat_nos IS NOT NULL) AS seated
         FROM expired),
       counted AS (
         UPDATE shows SET held_seats = held_seats - freed.seats,
                          seat_version = seat_version + (freed.seated)::int
         FROM freed WHERE id = $1 AND freed.seats > 0),
       ${releaseSeats('expired', "'F'", 'NULL::uuid')}
       SELECT bookings, seats, late AS "lateSeconds" FROM freed`,
      [showId, now, limit, ids],
    );
    return rows[0] ?? { bookings: 0, seats: 0, lateSeconds: [] };
  }

  /**
   * Applies status changes decided under the show's lock, in one statement, and moves the
   * show's counters by the seats of the rows actually moved, in the same statement. Each
   * move is conditional: the booking must still be in `from` and, leaving PENDING for
   * anything but EXPIRED, before its deadline at `now`. Returns the rows moved.
   */
  async applyMoves(client: PoolClient, showId: string, moves: Move[], now: DbInstant): Promise<Booking[]> {
    const { rows } = await client.query<Booking>(
      `WITH moved AS (
         UPDATE bookings b SET status = m.to_status, updated_at = $5::timestamptz
         FROM unnest($2::uuid[], $3::booking_status[], $4::booking_status[]) AS m(id, from_status, to_status)
         WHERE b.id = m.id AND b.show_id = $1 AND b.status = m.from_status
           AND (m.from_status <> 'PENDING' OR m.to_status = 'EXPIRED' OR b.expires_at > $5::timestamptz)
           AND (m.to_status <> 'EXPIRED' OR b.expires_at <= $5::timestamptz)
         RETURNING ${bookingColumnsOf('b')}, b.seat_nos, m.from_status),
       counted AS (
         UPDATE shows SET
           held_seats = held_seats
             - COALESCE((SELECT sum(seats) FROM moved WHERE from_status = 'PENDING'), 0),
           confirmed_seats = confirmed_seats
             + COALESCE((SELECT sum(seats) FROM moved WHERE status = 'CONFIRMED'), 0)
             - COALESCE((SELECT sum(seats) FROM moved WHERE from_status = 'CONFIRMED'), 0),
           seat_version = seat_version + (EXISTS (SELECT 1 FROM moved WHERE seat_nos IS NOT NULL))::int
         WHERE id = $1),
       ${releaseSeats('moved', "CASE WHEN e.status = 'CONFIRMED' THEN 'S' ELSE 'F' END", "CASE WHEN e.status = 'CONFIRMED' THEN e.id END")}
       SELECT ${bookingColumns} FROM moved`,
      [showId, moves.map((m) => m.id), moves.map((m) => m.from), moves.map((m) => m.to), now],
    );
    return rows.map(asBooking);
  }

  /**
   * Extends live holds of the show, in one statement: each to `now` + ttl, never past its
   * created_at + maxLifetime. Only holds still PENDING before their deadline at `now` that
   * the move would take later are changed; the others (already at their limit) are left out
   * of the rows returned. Caller holds the show's lock.
   */
  async extendHolds(
    client: PoolClient,
    showId: string,
    ids: string[],
    now: DbInstant,
    ttlSeconds: number,
    maxLifetimeSeconds: number,
  ): Promise<Booking[]> {
    const { rows } = await client.query<Booking>(
      `WITH target AS (
         SELECT id, LEAST($3::timestamptz + make_interval(secs => $4), created_at + make_interval(secs => $5)) AS until
         FROM bookings
         WHERE id = ANY($2::uuid[]) AND show_id = $1 AND status = 'PENDING' AND expires_at > $3::timestamptz)
       UPDATE bookings b SET expires_at = target.until, updated_at = $3::timestamptz
       FROM target WHERE b.id = target.id AND target.until > b.expires_at
       RETURNING ${bookingColumnsOf('b')}`,
      [showId, ids, now, ttlSeconds, maxLifetimeSeconds],
    );
    return rows.map(asBooking);
  }

  /**
   * Confirms late (late_confirm = 'reclaim') the EXPIRED bookings of `ids`, in that order, each
   * only if its seats (seated) or as many seats (general admission) are free: the confirm_late
   * function. Caller holds the show's lock and reclaimed its overdue holds. Returns the bookings
   * as they are after, with whether each was confirmed.
   */
  async confirmLate(
    client: PoolClient,
    showId: string,
    ids: string[],
    now: DbInstant,
  ): Promise<{ booking: Booking; confirmed: boolean }[]> {
    const { rows: done } = await client.query<{ booking_id: string; confirmed: boolean }>(
      'SELECT booking_id, confirmed FROM confirm_late($1, $2, $3::timestamptz)',
      [showId, ids, now],
    );
    // A statement does not see what a function it calls wrote: the rows are read after.
    const { rows } = await client.query<Booking>(`SELECT ${bookingColumns} FROM bookings WHERE id = ANY($1::uuid[])`, [
      done.map((row) => row.booking_id),
    ]);
    const byId = new Map(rows.map((row) => [row.id, asBooking(row)]));
    return done.map((row) => ({ booking: byId.get(row.booking_id)!, confirmed: row.confirmed }));
  }

  /**
   * A page of the show's bookings in the order they were made, after the cursor, as the API
   * shows them (a hold past its deadline is EXPIRED, and is found by that status), each with its
   * created_at to the microsecond (for the next page's cursor).
   */
  async listForShow(
    showId: string,
    filter: { status?: BookingStatus | undefined; customerRef?: string | undefined },
    limit: number,
    after: { createdAt: string; id: string } | null,
  ): Promise<(Booking & { createdAtExact: string })[]> {
    const { rows } = await this.pool.query<Booking & { createdAtExact: string }>(
      `SELECT * FROM (
         SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "createdAtExact",
                id, show_id, seats, seat_ids,
                CASE WHEN status = 'PENDING' AND expires_at <= statement_timestamp() THEN 'EXPIRED' ELSE status END AS status,
                customer_ref, comp, late, created_at, expires_at, updated_at
         FROM bookings
         WHERE show_id = $1 AND ($3::text IS NULL OR customer_ref = $3)
           AND ($4::timestamptz IS NULL OR (created_at, id) > ($4::timestamptz, $5::uuid))
         ORDER BY created_at, id) b
       WHERE $2::booking_status IS NULL OR b.status = $2
       ORDER BY b.created_at, b.id
       LIMIT $6`,
      [showId, filter.status ?? null, filter.customerRef ?? null, after?.createdAt ?? null, after?.id ?? null, limit],
    );
    return rows.map(asBooking);
  }

  /** Bookings of the show as stored, judged at `now`. Caller holds the show's lock. */
  async findManyLocked(client: PoolClient, showId: string, ids: string[], now: DbInstant): Promise<StoredBooking[]> {
    const { rows } = await client.query<StoredBooking>(
      `SELECT ${bookingColumns}, hold_token_hash, (status = 'PENDING' AND expires_at <= $3::timestamptz) AS overdue
       FROM bookings WHERE id = ANY($2::uuid[]) AND show_id = $1`,
      [showId, ids, now],
    );
    return rows.map(asBooking);
  }

  /** The booking as stored, judged at this statement's time. */
  async findById(id: string): Promise<StoredBooking | null> {
    const { rows } = await this.pool.query<StoredBooking>(
      `SELECT ${bookingColumns}, hold_token_hash,
              (status = 'PENDING' AND expires_at <= statement_timestamp()) AS overdue
       FROM bookings WHERE id = $1`,
      [id],
    );
    return rows[0] ? asBooking(rows[0]) : null;
  }

  /** Milliseconds until the last PENDING hold of the show due at or before dueAt falls due; null if none. */
  async msUntilLastDue(showId: string, dueAt: Date): Promise<number | null> {
    const { rows } = await this.pool.query<{ ms: number | null }>(
      `SELECT (extract(epoch FROM max(expires_at) - statement_timestamp()) * 1000)::float8 AS ms
       FROM bookings WHERE show_id = $1 AND status = 'PENDING' AND expires_at <= $2`,
      [showId, dueAt],
    );
    return rows[0]?.ms ?? null;
  }
}
