import type { Pool, PoolClient } from '../adapters/postgres/pool.js';
import { asBooking, BOOKING_COLUMNS, type Booking, type BookingLine, type BookingStatus } from '../domain/booking.js';
import type { Catalogue } from '../domain/ticket-types.js';

/** The version of a show's ticket types a group was priced at, and the show's currency. */
export type CatalogueVersion = Pick<Catalogue, 'version' | 'currency'>;
import type { ClaimRef, RecordedResponse } from './idempotency.repository.js';
import type { DbInstant } from './show.repository.js';

/** One request of a hold group, in arrival order. */
/** What a hold sells, priced by the API from the show's ticket types at one version of them. */
export interface Priced {
  lines: BookingLine[];
  total: number;
}

export interface GroupHold extends Priced {
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
  | 'type_not_on_sale'
  | 'customer_ref_required'
  | 'customer_limit';

export type HoldOutcome = 'held' | 'sold_out' | 'show_busy' | 'types_changed' | GateOutcome;

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
  /** type_not_on_sale: the type. */
  ticketType: string | null;
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
export interface SeatGroupHold extends Priced {
  id: string;
  seatNos: number[];
  seatIds: string[];
  tokenHash: Buffer;
  customerRef: string | undefined;
  answer?: { ref: ClaimRef; response: RecordedResponse } | undefined;
}

export type SeatHoldOutcome =
  'held' | GateOutcome | 'refused' | 'stale' | 'conflict' | 'not_seated' | 'map_changed' | 'types_changed';

export interface SeatGroupResult {
  outcome: SeatHoldOutcome;
  reclaimed: number;
  booking: Booking | null;
  available: number | null;
  allowed: number | null;
  salesStart: Date | null;
  /** type_not_on_sale: the type. */
  ticketType: string | null;
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
/** A booking's columns as the API shows it at `at` (SQL): a lapsed hold is EXPIRED (core.status_at). */
const seenColumns = (at: string) =>
  BOOKING_COLUMNS.split(', ')
    .map((column) => (column === 'status' ? `core.status_at(status, expires_at, ${at}) AS status` : column))
    .join(', ');

/** A booking as it is at the lock's instant, and the status its row still has (a lapsed hold's is PENDING). */
export type LockedBooking = Booking & { storedStatus: BookingStatus };

/** What a late confirm came to (core.confirm_late): confirmed, or why not. */
export type LateOutcome = 'confirmed' | 'seats_taken' | 'customer_limit' | Exclude<GateOutcome, 'taken_over'>;

type HoldGroupRow = Omit<Booking, 'id' | 'currency' | 'lines' | 'total'> & {
  outcome: HoldOutcome;
  available: number | null;
  reclaimed: number;
  allowed: number | null;
  salesStart: Date | null;
  ticketType: string | null;
  id: string | null;
};
const holdGroupColumns =
  'outcome, available, reclaimed, allowed, sales_start AS "salesStart", ticket_type AS "ticketType", id, show_id, seats, status, created_at, expires_at, updated_at';

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

/** The priced lines and totals of hold_group, hold_groups and hold_seats. */
function pricedArrays(holds: readonly Priced[]): unknown[] {
  return [holds.map((hold) => JSON.stringify(hold.lines)), holds.map((hold) => hold.total)];
}

/** A hold's result; its booking with what the API priced (the statement returns the rest). */
function toResult(
  { outcome, available, reclaimed, allowed, salesStart, ticketType, ...booking }: HoldGroupRow,
  hold: Priced,
  currency: string,
): GroupHoldResult {
  return {
    outcome,
    available,
    reclaimed,
    allowed,
    salesStart,
    ticketType,
    booking: pricedBooking(booking, hold, currency),
  };
}

/** The booking a hold statement wrote (none: its id is null), with what the API priced it at. */
function pricedBooking(
  row: Omit<Booking, 'id' | 'currency' | 'lines' | 'total'> & { id: string | null },
  { lines, total }: Priced,
  currency: string,
): Booking | null {
  return row.id === null ? null : ({ ...row, currency, lines, total } as Booking);
}

export class BookingRepository {
  constructor(private readonly pool: Pool) {}

  /**
   * Decides and writes a hold group in one statement (core.hold_group, db/functions/hold_group.sql): lock, reclaim overdue holds if short, first come first served, insert,
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
    catalogue: CatalogueVersion,
  ): Promise<GroupHoldResult[]> {
    const { rows } = await db.query<HoldGroupRow>(
      `SELECT ${holdGroupColumns}
       FROM core.hold_group($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb[], $15)`,
      [showId, ttlSeconds, now, ...requestArrays(holds), catalogue.version, ...pricedArrays(holds)],
    );
    return rows.map((row, index) => toResult(row, holds[index]!, catalogue.currency));
  }

  /**
   * Writes a seated hold group in one statement (core.hold_seats, db/functions/hold_seats.sql): the seats
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
    catalogue: CatalogueVersion,
  ): Promise<SeatGroupResult[]> {
    const keyed = holds.some((hold) => hold.answer);
    const perKey = <T>(value: (answer: NonNullable<SeatGroupHold['answer']>) => T) =>
      keyed ? holds.map((hold) => (hold.answer ? value(hold.answer) : null)) : null;
    const { rows } = await db.query<
      Omit<Booking, 'id' | 'currency' | 'lines' | 'total'> & {
        id: string | null;
        outcome: SeatHoldOutcome;
        available: number | null;
        reclaimed: number;
        allowed: number | null;
        salesStart: Date | null;
        ticketType: string | null;
        versionBefore: string | null;
        versionAfter: string | null;
        freed: number[] | null;
      }
    >(
      `SELECT outcome, available, reclaimed, allowed, sales_start AS "salesStart", ticket_type AS "ticketType",
              version_before::text AS "versionBefore", version_after::text AS "versionAfter", freed,
              id, show_id, seats, seat_ids, status, created_at, expires_at, updated_at
       FROM core.hold_seats($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                            $19::jsonb[], $20)`,
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
        catalogue.version,
        ...pricedArrays(holds),
      ],
    );
    return rows.map(
      (
        {
          outcome,
          available,
          reclaimed,
          allowed,
          salesStart,
          ticketType,
          versionBefore,
          versionAfter,
          freed,
          ...booking
        },
        index,
      ) => ({
        outcome,
        available,
        reclaimed,
        allowed,
        salesStart,
        ticketType,
        versionBefore,
        versionAfter,
        freed,
        booking: pricedBooking(booking, holds[index]!, catalogue.currency),
      }),
    );
  }

  /**
   * The hold groups of several shows in one statement, so one commit (hold_groups): shows
   * in id order, each locked with SKIP LOCKED, so a show another transaction holds answers
   * `show_busy` for its group instead of stalling the others. Results per group, in order.
   */
  async holdGroups(
    groups: { showId: string; holds: GroupHold[]; catalogue: CatalogueVersion }[],
    ttlSeconds: number,
  ): Promise<GroupHoldResult[][]> {
    const sorted = groups.map((group, index) => ({ ...group, index })).sort((a, b) => (a.showId < b.showId ? -1 : 1));
    let end = 0;
    const ends = sorted.map((group) => (end += group.holds.length));
    const holds = sorted.flatMap((group) => group.holds);
    const { rows } = await this.pool.query<HoldGroupRow>(
      `SELECT ${holdGroupColumns}
       FROM core.hold_groups($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb[], $15)`,
      [
        sorted.map((group) => group.showId),
        ends,
        ttlSeconds,
        ...requestArrays(holds),
        sorted.map((group) => group.catalogue.version),
        ...pricedArrays(holds),
      ],
    );
    const results: GroupHoldResult[][] = groups.map(() => []);
    let next = 0;
    for (const group of sorted) {
      results[group.index] = rows
        .slice(next, next + group.holds.length)
        .map((row, index) => toResult(row, group.holds[index]!, group.catalogue.currency));
      next += group.holds.length;
    }
    return results;
  }

  /**
   * Expires the show's holds lapsed at `now` (at most `limit` of them, or all; only those of `ids`
   * when given) and returns their seats to sale: core.expire_overdue, what an expired hold means on
   * every path. Caller holds the show's lock. Returns how many bookings expired, the seats freed,
   * and how late each one was (seconds past its expires_at).
   */
  async expireOverdue(
    client: PoolClient,
    showId: string,
    now: DbInstant,
    limit: number | null = null,
    ids: string[] | null = null,
  ): Promise<{ bookings: number; seats: number; lateSeconds: number[] }> {
    const { rows } = await client.query<{ bookings: number; seats: number; lateSeconds: number[] | null }>(
      'SELECT bookings, seats, late_seconds AS "lateSeconds" FROM core.expire_overdue($1, $2::timestamptz, $3, $4)',
      [showId, now, limit, ids],
    );
    const row = rows[0]!;
    return { bookings: row.bookings, seats: row.seats, lateSeconds: row.lateSeconds ?? [] };
  }

  /**
   * Applies status changes decided under the show's lock, in one statement (core.move_bookings:
   * each move conditional on the booking still being in `from` and allowed by the lifecycle, the
   * show's counters and seats moved by the rows actually moved). Returns the rows moved.
   */
  async applyMoves(client: PoolClient, showId: string, moves: Move[], now: DbInstant): Promise<Booking[]> {
    const { rows } = await client.query<Booking>(
      `SELECT ${bookingColumns} FROM core.move_bookings($1, $2::timestamptz, $3::uuid[], $4::booking_status[], $5::booking_status[])`,
      [showId, now, moves.map((m) => m.id), moves.map((m) => m.from), moves.map((m) => m.to)],
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
         WHERE id = ANY($2::uuid[]) AND show_id = $1
           -- In a status the lifecycle extends (a move to itself), as of now: a live hold.
           AND EXISTS (SELECT 1 FROM core.booking_transitions t
                       WHERE t.from_status = core.status_at(status, expires_at, $3::timestamptz)
                         AND t.to_status = t.from_status))
       UPDATE bookings b SET expires_at = target.until, updated_at = $3::timestamptz
       FROM target WHERE b.id = target.id AND target.until > b.expires_at
       RETURNING ${bookingColumnsOf('b')}`,
      [showId, ids, now, ttlSeconds, maxLifetimeSeconds],
    );
    return rows.map(asBooking);
  }

  /**
   * Confirms late (late_confirm = 'reclaim') the lapsed bookings of `ids`, in that order, each only
   * if it passes the gates of a sale and its seats are free (core.confirm_late). Caller holds the
   * show's lock. Returns each booking with its outcome (`confirmed`, or why not, with the seats its
   * customer may still have), as it is after, and how many lapsed holds the statement expired.
   */
  async confirmLate(
    client: PoolClient,
    showId: string,
    ids: string[],
    now: DbInstant,
  ): Promise<{
    results: { booking: Booking; outcome: LateOutcome; allowed: number | null; ticketType: string | null }[];
    reclaimed: number;
  }> {
    const { rows: done } = await client.query<{
      booking_id: string;
      outcome: LateOutcome;
      allowed: number | null;
      reclaimed: number;
      ticket_type: string | null;
    }>('SELECT booking_id, outcome, allowed, reclaimed, ticket_type FROM core.confirm_late($1, $2, $3::timestamptz)', [
      showId,
      ids,
      now,
    ]);
    // A statement does not see what a function it calls wrote: the rows are read after.
    const { rows } = await client.query<Booking>(`SELECT ${bookingColumns} FROM bookings WHERE id = ANY($1::uuid[])`, [
      done.map((row) => row.booking_id),
    ]);
    const byId = new Map(rows.map((row) => [row.id, asBooking(row)]));
    return {
      results: done.map((row) => ({
        booking: byId.get(row.booking_id)!,
        outcome: row.outcome,
        allowed: row.allowed,
        ticketType: row.ticket_type,
      })),
      reclaimed: done[0]?.reclaimed ?? 0,
    };
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
      `SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "createdAtExact",
              ${seenColumns('statement_timestamp()')}
       FROM bookings
       WHERE show_id = $1 AND ($3::text IS NULL OR customer_ref = $3)
         AND ($4::timestamptz IS NULL OR (created_at, id) > ($4::timestamptz, $5::uuid))
         AND ($2::booking_status IS NULL OR core.status_at(status, expires_at, statement_timestamp()) = $2)
       ORDER BY created_at, id
       LIMIT $6`,
      [showId, filter.status ?? null, filter.customerRef ?? null, after?.createdAt ?? null, after?.id ?? null, limit],
    );
    return rows.map(asBooking);
  }

  /**
   * Bookings of the show as they are at `now` (a lapsed hold is EXPIRED), each with the status its
   * row still has. Caller holds the show's lock.
   */
  async findManyLocked(client: PoolClient, showId: string, ids: string[], now: DbInstant): Promise<LockedBooking[]> {
    const { rows } = await client.query<LockedBooking>(
      `SELECT ${seenColumns('$3::timestamptz')}, status AS "storedStatus"
       FROM bookings WHERE id = ANY($2::uuid[]) AND show_id = $1`,
      [showId, ids, now],
    );
    return rows.map(asBooking);
  }

  /** The booking as it is now (a lapsed hold is EXPIRED), with the hash of its token. */
  async findById(id: string): Promise<(Booking & { hold_token_hash: Buffer }) | null> {
    const { rows } = await this.pool.query<Booking & { hold_token_hash: Buffer }>(
      `SELECT ${seenColumns('statement_timestamp()')}, hold_token_hash FROM bookings WHERE id = $1`,
      [id],
    );
    return rows[0] ? asBooking(rows[0]) : null;
  }

  /** Milliseconds until the last hold of the show lapsed by dueAt falls due; null if none. */
  async msUntilLastDue(showId: string, dueAt: Date): Promise<number | null> {
    const { rows } = await this.pool.query<{ ms: number | null }>(
      `SELECT (extract(epoch FROM max(expires_at) - statement_timestamp()) * 1000)::float8 AS ms
       FROM bookings WHERE show_id = $1 AND core.lapsed(status, expires_at, $2)`,
      [showId, dueAt],
    );
    return rows[0]?.ms ?? null;
  }
}
