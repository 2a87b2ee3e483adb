import { withTransaction, type Pool, type PoolClient } from '../adapters/postgres/pool.js';
import type { SeatMap, SeatPlan } from '../domain/seat-map.js';
import type { FreshRead } from '../domain/common.js';
import type { LateConfirmPolicy, NewShow, Show, ShowChanges, ShowSummary } from '../domain/show.js';
import { listedTicketType, type Catalogue, type StoredTicketType } from '../domain/ticket-types.js';

/** The fields PATCH changes on the row itself (seats, maps and ticket types move by their own rules). */
export type ShowFieldChanges = Omit<ShowChanges, 'seat_map' | 'ticket_types'>;

// A show's ticket types written from a JSON array (the types in order, every field present), into
// the show's rows: new codes inserted, known ones changed. `show` is the show's id, `types` that
// array, `from` another source of rows the id comes from (none: the id is a parameter).
const saveTicketTypes = (show: string, types: string, from = '') => `
  INSERT INTO ticket_types AS t (show_id, code, position, name, price, category_prices, categories, max_per_booking,
                                 available_from, available_until, requires_code, retired)
  SELECT ${show}, r.code, r.position, r.name, r.price, r.category_prices, r.categories, r.max_per_booking,
         date_trunc('milliseconds', r.available_from), date_trunc('milliseconds', r.available_until),
         r.requires_code, r.retired
  FROM jsonb_to_recordset(${types}::jsonb) AS r(code text, position smallint, name text, price integer,
    category_prices jsonb, categories text[], max_per_booking integer, available_from timestamptz,
    available_until timestamptz, requires_code boolean, retired boolean)${from}
  ON CONFLICT (show_id, code) DO UPDATE SET
    name = excluded.name, price = excluded.price, category_prices = excluded.category_prices,
    categories = excluded.categories, max_per_booking = excluded.max_per_booking,
    available_from = excluded.available_from, available_until = excluded.available_until,
    requires_code = excluded.requires_code, retired = excluded.retired`;

/** The JSON saveTicketTypes reads: the types in order, their positions from 1. */
function ticketTypesJson(types: readonly StoredTicketType[]): string {
  return JSON.stringify(
    types.map((type, index) => ({ ...type, category_prices: type.category_prices ?? null, position: index + 1 })),
  );
}

/**
 * The database clock at one instant, as PostgreSQL's own text (exact to the microsecond,
 * which a JavaScript Date is not). A transaction reads it once, right after it is granted
 * its show's lock, and judges every deadline of that transaction at it.
 */
export type DbInstant = string & { readonly __brand: 'DbInstant' };

/** A show's row, locked: the instant the lock was granted, at which its transaction judges every deadline. */
export interface ShowLock {
  /** As PostgreSQL's text: later statements of the transaction take it as their `now`. */
  now: DbInstant;
  /** The same instant as a Date, for answers (the database writes `now` itself). */
  nowDate: Date;
  /** The show's policy for late confirms, as it stands under the lock. */
  lateConfirm: LateConfirmPolicy;
  /** shows.seat_map_version under the lock: a plan of another version numbers the seats otherwise. */
  mapVersion: number;
  salesStart: Date | null;
  /** The show's gate for the house (a block, a comp) at that instant (core.show_gate): null when it may take seats. */
  houseGate: 'show_started' | null;
}

export interface CounterMismatch {
  id: string;
  title: string;
  totalSeats: number;
  heldSeats: number;
  pendingRowSeats: number;
  confirmedSeats: number;
  confirmedRowSeats: number;
  blockedSeats: number;
}

/** One way a seated show's seat rows disagree with its counters or its bookings, or a booking's lines with its seats. */
export interface SeatMismatch {
  id: string;
  problem: string;
}

// Every booking: its lines sell as many tickets as it has seats, for its total, on its seats.
// Seated shows: the rows of each map with the number of their first seat (seats are numbered
// through the map in order: sections, rows, then seats left to right, as SeatPlan numbers them);
// category counters = their seat rows; show counters = the sum of its
// categories; a booking owns its seats in the state its status gives them (the lifecycle,
// core.booking_statuses: a PENDING hold's held, a CONFIRMED booking's sold), or none; a seat's
// owner is a booking of the same show that lists it and whose status gives it that state; each
// seat a booking or an active block names by id is the seat of that number on the map.
const SEAT_MISMATCHES = `
  WITH map_rows AS (
    SELECT s.id AS show_id, (sec.value->>'name') || '-' || (r.value->>'label') || '-' AS prefix,
           (r.value->>'seats')::integer AS seats,
           coalesce(sum((r.value->>'seats')::integer) OVER (
             PARTITION BY s.id ORDER BY sec.ord, r.ord ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)::integer AS start
    FROM shows s
    CROSS JOIN LATERAL jsonb_array_elements(s.seat_map->'sections') WITH ORDINALITY AS sec(value, ord)
    CROSS JOIN LATERAL jsonb_array_elements(sec.value->'rows') WITH ORDINALITY AS r(value, ord)
    WHERE s.seat_map IS NOT NULL
      AND (EXISTS (SELECT 1 FROM bookings b WHERE b.show_id = s.id AND b.seat_nos IS NOT NULL)
           OR EXISTS (SELECT 1 FROM seat_blocks k WHERE k.show_id = s.id AND k.seat_nos IS NOT NULL)))
  SELECT c.show_id AS id,
         format('category %s: held_seats %s vs %s held seats, sold_seats %s vs %s sold seats, blocked_seats %s vs %s blocked seats',
                c.name, c.held_seats, r.held, c.sold_seats, r.sold, c.blocked_seats, r.blocked) AS problem
  FROM show_categories c
  LEFT JOIN LATERAL (
    SELECT count(*) FILTER (WHERE st.state = 'H') AS held, count(*) FILTER (WHERE st.state = 'S') AS sold,
           count(*) FILTER (WHERE st.state = 'B') AS blocked, count(*) AS total
    FROM seats st WHERE st.show_id = c.show_id AND st.category = c.category) r ON true
  WHERE c.held_seats <> r.held OR c.sold_seats <> r.sold OR c.blocked_seats <> r.blocked OR c.total_seats <> r.total
  UNION ALL
  SELECT s.id, format('held_seats %s, confirmed_seats %s, blocked_seats %s, total_seats %s vs %s held, %s sold, %s blocked, %s seats in its categories',
                      s.held_seats, s.confirmed_seats, s.blocked_seats, s.total_seats,
                      sum(c.held_seats), sum(c.sold_seats), sum(c.blocked_seats), sum(c.total_seats))
  FROM shows s JOIN show_categories c ON c.show_id = s.id
  GROUP BY s.id
  HAVING s.held_seats <> sum(c.held_seats) OR s.confirmed_seats <> sum(c.sold_seats)
      OR s.blocked_seats <> sum(c.blocked_seats) OR s.total_seats <> sum(c.total_seats)
  UNION ALL
  SELECT s.id, format('blocked_seats %s vs %s seats in its active blocks', s.blocked_seats, COALESCE(sum(b.seats), 0))
  FROM shows s LEFT JOIN seat_blocks b ON b.show_id = s.id AND b.released_at IS NULL
  GROUP BY s.id HAVING s.blocked_seats <> COALESCE(sum(b.seats), 0)
  UNION ALL
  SELECT b.show_id, format('block %s owns %s of its %s seats', b.id, count(st.seat_no), b.seats)
  FROM seat_blocks b
  LEFT JOIN seats st ON st.show_id = b.show_id AND st.seat_no = ANY (b.seat_nos) AND st.block_id = b.id AND st.state = 'B'
  WHERE b.seat_nos IS NOT NULL
  GROUP BY b.id
  HAVING count(st.seat_no) <> CASE WHEN b.released_at IS NULL THEN b.seats ELSE 0 END
  UNION ALL
  SELECT st.show_id, format('seat %s is blocked by %s, which does not keep it', st.seat_no, st.block_id)
  FROM seats st LEFT JOIN seat_blocks b ON b.id = st.block_id
  WHERE st.block_id IS NOT NULL
    AND (b.show_id IS DISTINCT FROM st.show_id OR b.released_at IS NOT NULL OR NOT st.seat_no = ANY (b.seat_nos))
  UNION ALL
  SELECT b.show_id, format('booking %s (%s) owns %s of its %s seats as it should', b.id, b.status, count(st.seat_no),
                           b.seats)
  FROM bookings b
  JOIN core.booking_statuses bs ON bs.status = b.status
  LEFT JOIN seats st ON st.show_id = b.show_id AND st.seat_no = ANY (b.seat_nos) AND st.booking_id = b.id
    AND st.state = bs.seat_state
  WHERE b.seat_nos IS NOT NULL
  GROUP BY b.id, bs.seat_state
  HAVING count(st.seat_no) <> CASE WHEN bs.seat_state IS NOT NULL THEN b.seats ELSE 0 END
  UNION ALL
  SELECT st.show_id, format('seat %s is owned by booking %s, which does not hold it', st.seat_no, st.booking_id)
  FROM seats st LEFT JOIN bookings b ON b.id = st.booking_id LEFT JOIN core.booking_statuses bs ON bs.status = b.status
  WHERE st.booking_id IS NOT NULL
    AND (b.show_id IS DISTINCT FROM st.show_id OR bs.seat_state IS DISTINCT FROM st.state
         OR NOT st.seat_no = ANY (b.seat_nos))
  UNION ALL
  SELECT x.show_id, format('%s %s names seat %s, which is seat number %s: %s on the map', x.what, x.id, x.seat_id,
                           x.seat_no, coalesce(r.prefix || (x.seat_no - r.start + 1), 'none'))
  FROM (
    SELECT 'booking' AS what, b.id, b.show_id, u.seat_no, u.seat_id
    FROM bookings b, unnest(b.seat_nos, b.seat_ids) AS u(seat_no, seat_id)
    WHERE b.seat_nos IS NOT NULL AND u.seat_no >= 0
    UNION ALL
    SELECT 'block', k.id, k.show_id, u.seat_no, u.seat_id
    FROM seat_blocks k, unnest(k.seat_nos, k.seat_ids) AS u(seat_no, seat_id)
    WHERE k.seat_nos IS NOT NULL AND k.released_at IS NULL) x
  LEFT JOIN map_rows r ON r.show_id = x.show_id AND x.seat_no >= r.start AND x.seat_no < r.start + r.seats
  WHERE r.prefix || (x.seat_no - r.start + 1) IS DISTINCT FROM x.seat_id
  UNION ALL
  SELECT b.show_id, format('booking %s sells %s ticket(s) for %s in its lines (seats %s), not its %s seat(s) for %s (seats %s)',
                           b.id, l.quantity, l.amount, l.seat_ids, b.seats, b.total, bs.seat_ids)
  FROM bookings b
  CROSS JOIN LATERAL (
    SELECT coalesce(sum((x.line->>'quantity')::int), 0) AS quantity,
           coalesce(sum((x.line->>'quantity')::bigint * (x.line->>'unit_price')::bigint), 0) AS amount,
           (SELECT array_agg(i.id ORDER BY i.id) FROM jsonb_array_elements(b.lines) y(line),
              jsonb_array_elements_text(y.line->'seat_ids') i(id)) AS seat_ids
    FROM jsonb_array_elements(b.lines) x(line)) l
  CROSS JOIN LATERAL (SELECT array_agg(i.id ORDER BY i.id) AS seat_ids FROM unnest(b.seat_ids) i(id)) bs
  WHERE l.quantity <> b.seats OR l.amount <> b.total OR l.seat_ids IS DISTINCT FROM bs.seat_ids
  ORDER BY 1, 2`;

export interface ShowPageCursor {
  startTime: string;
  id: string;
}

// Lapsed holds stop counting the instant they pass expires_at, before any worker expires them:
// they are added back here (core.lapsed). Only lapsed PENDING rows are visited (the partial index
// bookings_pending_by_show), which the sweep keeps few.
// Also what live availability sends (src/repositories/availability.repository.ts): the same numbers.
export const availabilityColumns = `
  s.total_seats - s.held_seats - s.confirmed_seats - s.blocked_seats + COALESCE((
    SELECT sum(b.seats) FROM bookings b
    WHERE b.show_id = s.id AND core.lapsed(b.status, b.expires_at, statement_timestamp())
  ), 0)::int AS available_seats,
  CASE WHEN s.seat_map IS NOT NULL THEN (
    SELECT jsonb_object_agg(c.name, c.total_seats - c.held_seats - c.sold_seats - c.blocked_seats + COALESCE((
      SELECT count(*) FROM bookings b JOIN seats st
        ON st.show_id = b.show_id AND st.seat_no = ANY (b.seat_nos) AND st.booking_id = b.id
      WHERE b.show_id = s.id AND core.lapsed(b.status, b.expires_at, statement_timestamp())
        AND st.category = c.category), 0) ORDER BY c.category)
    FROM show_categories c WHERE c.show_id = s.id)
  END AS available_by_category`;

const showColumns = `
  s.id, s.title, s.description, s.start_time, s.total_seats, s.created_at,
  s.late_confirm, s.max_seats_per_customer, s.sales_start, s.sales_end, s.currency,
  core.listed_ticket_types(s.id) AS ticket_types,
  CASE WHEN s.seat_map IS NULL THEN 'general_admission' ELSE 'assigned' END AS seating,
  ${availabilityColumns}`;

// How long what a statement reads of the show's seats stays true if nothing else changes: until
// its next hold lapses (then its seats read as free). Milliseconds; NULL when nothing is held.
const freshForMsColumn = `
  (SELECT EXTRACT(epoch FROM min(b.expires_at) - statement_timestamp()) * 1000 FROM bookings b
   WHERE b.show_id = s.id AND b.status = 'PENDING' AND NOT core.lapsed(b.status, b.expires_at, statement_timestamp())
  )::float8 AS fresh_for_ms`;

type ShowRow = Omit<Show, 'ticket_types'> & {
  available_by_category?: Record<string, number> | null;
  ticket_types: StoredTicketType[];
  fresh_for_ms?: number | null;
};

/** A show row as read: general admission has no per-category counts, which the API leaves out. */
function asShow(row: ShowRow): Show {
  if (row.available_by_category === null) delete row.available_by_category;
  delete row.fresh_for_ms;
  const show = row as unknown as Show;
  show.ticket_types = row.ticket_types.map((type) => listedTicketType(type, show));
  return show;
}

/** A fresh_for_ms column as FreshRead has it. */
function freshFor(ms: number | null | undefined): number {
  return ms === null || ms === undefined ? Infinity : ms;
}

/** The seat states of a show as an API process keeps them, at one version of its seats. */
export interface SeatStates {
  /** shows.seat_version, as text (a bigint). */
  version: string;
  /** shows.seat_map_version: the numbering the seat numbers are in. */
  mapVersion: number;
  /** Seat numbers changed since the version asked for; null when every seat is given (in order). */
  seatNos: number[] | null;
  /** One state character per seat of seatNos (or per seat of the show). */
  states: string;
}

export class ShowRepository {
  constructor(private readonly pool: Pool) {}

  /**
   * Inserts the show unless start_time is not in the future by the database clock; null then.
   * A seated show gets its categories and one row per seat in the same statement.
   */
  async create(
    show: NewShow & { currency: string },
    plan: SeatPlan | null,
    types: readonly StoredTicketType[],
    client?: PoolClient,
  ): Promise<Show | null> {
    const db = client ?? this.pool;
    const { rows } = await db.query<{ id: string }>(
      `WITH inserted AS (
         INSERT INTO shows (title, description, start_time, total_seats, seat_map, late_confirm, max_seats_per_customer,
                            sales_start, sales_end, currency)
         SELECT $1, $2, date_trunc('milliseconds', $3::timestamptz), $4, $5::jsonb, $11, $12,
                date_trunc('milliseconds', $13::timestamptz), date_trunc('milliseconds', $14::timestamptz), $15
         WHERE $3::timestamptz > statement_timestamp()
         RETURNING id),
       types AS (${saveTicketTypes('i.id', '$16', ', inserted i')}),
       categories AS (
         INSERT INTO show_categories (show_id, category, name, total_seats)
         SELECT i.id, c.no, c.name, c.total FROM inserted i, unnest($6::text[], $7::int[]) WITH ORDINALITY AS c(name, total, no)),
       seated AS (
         INSERT INTO seats (show_id, seat_no, category)
         SELECT i.id, g.seat_no, r.category
         FROM inserted i, unnest($8::int[], $9::int[], $10::smallint[]) AS r(start, length, category),
              generate_series(r.start, r.start + r.length - 1) AS g(seat_no))
       SELECT id FROM inserted`,
      [
        show.title,
        show.description ?? null,
        show.start_time,
        plan ? plan.total : show.total_seats,
        plan ? JSON.stringify(plan.map) : null,
        plan ? plan.categories : [],
        plan
          ? plan.categories.map((name) => plan.rows.reduce((n, r) => n + (r.category === name ? r.length : 0), 0))
          : [],
        plan ? plan.rows.map((row) => row.start) : [],
        plan ? plan.rows.map((row) => row.length) : [],
        plan ? plan.rows.map((row) => plan.categories.indexOf(row.category) + 1) : [],
        show.late_confirm ?? 'refuse',
        show.max_seats_per_customer ?? null,
        show.sales_start ?? null,
        show.sales_end ?? null,
        show.currency,
        ticketTypesJson(types),
      ],
    );
    return rows[0] ? this.findById(rows[0].id, db) : null;
  }

  async findById(id: string, db: Pool | PoolClient = this.pool): Promise<Show | null> {
    const { rows } = await db.query<ShowRow>({
      name: 'show',
      text: `SELECT ${showColumns} FROM shows s WHERE s.id = $1`,
      values: [id],
    });
    return rows[0] ? asShow(rows[0]) : null;
  }

  /** The show (null when there is none), and how long it reads the same if nothing changes. */
  async findFresh(id: string): Promise<FreshRead<Show | null>> {
    const { rows } = await this.pool.query<ShowRow>({
      name: 'show_fresh',
      text: `SELECT ${showColumns}, ${freshForMsColumn} FROM shows s WHERE s.id = $1`,
      values: [id],
    });
    const row = rows[0];
    return row ? { freshForMs: freshFor(row.fresh_for_ms), value: asShow(row) } : { freshForMs: Infinity, value: null };
  }

  /** The show's seat map (null for general admission) and its version; undefined when there is no such show. */
  async seating(
    id: string,
    db: Pool | PoolClient = this.pool,
  ): Promise<{ map: SeatMap | null; mapVersion: number } | undefined> {
    const { rows } = await db.query<{ map: SeatMap | null; mapVersion: number }>(
      'SELECT seat_map AS map, seat_map_version AS "mapVersion" FROM shows WHERE id = $1',
      [id],
    );
    return rows[0];
  }

  /**
   * Every seat's state from one snapshot (one statement), a hold past its deadline read as
   * free; null when the show does not exist or has no map.
   */
  async seatStatesNow(
    id: string,
  ): Promise<{ map: SeatMap; version: string; states: string; fresh_for_ms: number | null } | null> {
    const { rows } = await this.pool.query<{
      map: SeatMap;
      version: string;
      states: string;
      overdue: number[];
      fresh_for_ms: number | null;
    }>(
      `SELECT s.seat_map AS map, s.seat_version::text AS version, ${freshForMsColumn},
              -- In seat order as the primary key gives them: no sort of 100,000 rows.
              (SELECT string_agg(o.state::text, '') FROM (
                 SELECT st.state FROM seats st WHERE st.show_id = s.id ORDER BY st.seat_no) o) AS states,
              (SELECT COALESCE(array_agg(n.seat_no), '{}') FROM bookings b, unnest(b.seat_nos) AS n(seat_no)
               WHERE b.show_id = s.id AND core.lapsed(b.status, b.expires_at, statement_timestamp())) AS overdue
       FROM shows s WHERE s.id = $1 AND s.seat_map IS NOT NULL`,
      [id],
    );
    const row = rows[0];
    if (!row) return null;
    if (row.overdue.length === 0) return row;
    const states = Buffer.from(row.states, 'latin1');
    for (const seatNo of row.overdue) states[seatNo] = 0x46; // 'F'
    return { ...row, states: states.toString('latin1') };
  }

  /**
   * The states of the seats changed since `sinceVersion` (all seats when null), with the
   * version they are at, from one snapshot. Read by the API process that chooses the show's
   * seats; holds past their deadline still read as held (H) until they are reclaimed.
   */
  async seatStates(db: Pool | PoolClient, id: string, sinceVersion: string | null): Promise<SeatStates | null> {
    const { rows } = await db.query<SeatStates>(
      sinceVersion === null
        ? `SELECT s.seat_version::text AS version, s.seat_map_version AS "mapVersion", NULL::int[] AS "seatNos",
                  (SELECT string_agg(o.state::text, '') FROM (
                     SELECT st.state FROM seats st WHERE st.show_id = s.id ORDER BY st.seat_no) o) AS states
           FROM shows s WHERE s.id = $1`
        : `SELECT s.seat_version::text AS version, s.seat_map_version AS "mapVersion",
                  COALESCE(c.seat_nos, '{}') AS "seatNos", COALESCE(c.states, '') AS states
           FROM shows s, LATERAL (
             SELECT array_agg(st.seat_no ORDER BY st.seat_no) AS seat_nos,
                    string_agg(st.state::text, '' ORDER BY st.seat_no) AS states
             FROM seats st WHERE st.show_id = s.id AND st.version > $2::bigint) c
           WHERE s.id = $1`,
      sinceVersion === null ? [id] : [id, sinceVersion],
    );
    return rows[0] ?? null;
  }

  /** A page in (start_time, id) order, starting after the cursor, and how long it reads the same if nothing changes. */
  async list(limit: number, after: ShowPageCursor | null): Promise<FreshRead<Show[]>> {
    const { rows } = after
      ? await this.pool.query<ShowRow>({
          name: 'shows_page_after',
          text: `SELECT ${showColumns}, ${freshForMsColumn} FROM shows s
                 WHERE (s.start_time, s.id) > ($2::timestamptz, $3::uuid)
                 ORDER BY s.start_time, s.id LIMIT $1`,
          values: [limit, after.startTime, after.id],
        })
      : await this.pool.query<ShowRow>({
          name: 'shows_page',
          text: `SELECT ${showColumns}, ${freshForMsColumn} FROM shows s ORDER BY s.start_time, s.id LIMIT $1`,
          values: [limit],
        });
    const freshForMs = rows.reduce((least, row) => Math.min(least, freshFor(row.fresh_for_ms)), Infinity);
    return { freshForMs, value: rows.map(asShow) };
  }

  /**
   * Locks the show's inventory row until the transaction ends. Every change to a show's
   * counters or to its bookings' status happens under this lock, always taken before any
   * booking row, so those changes serialize per show and can never deadlock each other.
   */
  async lockInventory(client: PoolClient, id: string): Promise<ShowLock | null> {
    // The clock is read in a second step over the locked row: evaluated in the locking
    // SELECT itself it could be read before a wait for the lock, and a deadline that
    // passed during the wait would be judged as not yet passed.
    // (The seat counters are read by the statements that move them: hold_group, under this lock.)
    const { rows } = await client.query<ShowLock>(
      `WITH locked AS MATERIALIZED (
         SELECT late_confirm, seat_map_version, start_time, sales_start, sales_end FROM shows WHERE id = $1 FOR UPDATE),
       granted AS MATERIALIZED (SELECT clock_timestamp() AS at, * FROM locked)
       SELECT at::text AS now, at AS "nowDate", late_confirm AS "lateConfirm", seat_map_version AS "mapVersion",
              sales_start AS "salesStart", core.show_gate('house', at, start_time, sales_start, sales_end) AS "houseGate"
       FROM granted`,
      [id],
    );
    return rows[0] ?? null;
  }

  /** The show's ticket types as holds are priced with them, at their version; undefined when there is no such show. */
  async catalogue(id: string): Promise<Catalogue | undefined> {
    const { rows } = await this.pool.query<Catalogue>({
      name: 'show_catalogue',
      text: `SELECT s.ticket_types_version AS version, s.currency, (core.default_ticket_type(s.id)).code AS "defaultType",
                    (SELECT jsonb_agg(to_jsonb(t) - 'show_id' - 'position' ORDER BY t.position)
                     FROM ticket_types t WHERE t.show_id = s.id) AS types
             FROM shows s WHERE s.id = $1`,
      values: [id],
    });
    return rows[0];
  }

  /** Every ticket type of the show, retired ones too, in order (caller holds its lock). */
  async ticketTypes(client: PoolClient, id: string): Promise<StoredTicketType[]> {
    const { rows } = await client.query<StoredTicketType>(
      `SELECT code, name, price, category_prices, categories, max_per_booking, available_from, available_until,
              requires_code, retired
       FROM ticket_types WHERE show_id = $1 ORDER BY position`,
      [id],
    );
    return rows;
  }

  /** Writes the show's ticket types as given, in order (caller holds its lock), and says the show changed. */
  async updateTicketTypes(client: PoolClient, id: string, types: readonly StoredTicketType[]): Promise<void> {
    await client.query(
      `WITH saved AS (${saveTicketTypes('$1::uuid', '$2')})
       UPDATE shows SET ticket_types_version = ticket_types_version + 1 WHERE id = $1`,
      [id, ticketTypesJson(types)],
    );
  }

  /**
   * Changes a show's fields (caller holds its lock). Only the columns named in `changes` move;
   * a start_time must still be in the future and a sales window must end after it starts (false
   * then, nothing changed), and total_seats can never go below the seats in use (the CHECK).
   */
  async update(
    client: PoolClient,
    id: string,
    changes: ShowFieldChanges,
    now: DbInstant,
  ): Promise<'updated' | 'start_time_in_past' | 'sales_window'> {
    const columns = Object.keys(changes) as (keyof ShowFieldChanges)[];
    if (columns.length === 0) return 'updated';
    const set = columns.map((column, index) =>
      column === 'start_time' || column === 'sales_start' || column === 'sales_end'
        ? `${column} = date_trunc('milliseconds', $${index + 3}::timestamptz)`
        : `${column} = $${index + 3}`,
    );
    const { rows } = await client.query<{ start_ok: boolean; window_ok: boolean }>(
      `WITH proposed AS (
         SELECT ${columns.includes('start_time') ? `$${columns.indexOf('start_time') + 3}::timestamptz` : 'start_time'} AS start_time,
                ${columns.includes('sales_start') ? `$${columns.indexOf('sales_start') + 3}::timestamptz` : 'sales_start'} AS sales_start,
                ${columns.includes('sales_end') ? `$${columns.indexOf('sales_end') + 3}::timestamptz` : 'sales_end'} AS sales_end
         FROM shows WHERE id = $1),
       checked AS (
         SELECT (p.start_time > $2::timestamptz ${columns.includes('start_time') ? '' : 'OR true'}) AS start_ok,
                (p.sales_start IS NULL OR p.sales_end IS NULL OR p.sales_end > p.sales_start) AS window_ok
         FROM proposed p),
       updated AS (
         UPDATE shows SET ${set.join(', ')} FROM checked
         WHERE id = $1 AND checked.start_ok AND checked.window_ok)
       SELECT start_ok, window_ok FROM checked`,
      [id, now, ...columns.map((column) => changes[column])],
    );
    const row = rows[0]!;
    return !row.start_ok ? 'start_time_in_past' : !row.window_ok ? 'sales_window' : 'updated';
  }

  /**
   * The show's seats and bookings from one statement (one snapshot): a hold past its deadline
   * counts as free and its booking as expired, as everywhere else.
   */
  async summary(id: string): Promise<ShowSummary | null> {
    const { rows } = await this.pool.query<Omit<ShowSummary, 'by_category'> & { by_category?: unknown }>(
      `WITH overdue AS (
         SELECT b.id, b.seats, b.seat_nos FROM bookings b
         WHERE b.show_id = $1 AND core.lapsed(b.status, b.expires_at, statement_timestamp())),
       overdue_seats AS (
         SELECT st.category, count(*)::int AS n FROM overdue o
         JOIN seats st ON st.show_id = $1 AND st.seat_no = ANY (o.seat_nos) AND st.booking_id = o.id
         GROUP BY st.category),
       counts AS (
         SELECT count(*) FILTER (WHERE b.status = 'PENDING')::int AS pending,
                count(*) FILTER (WHERE b.status = 'CONFIRMED')::int AS confirmed,
                count(*) FILTER (WHERE b.status = 'EXPIRED')::int AS expired,
                count(*) FILTER (WHERE b.status = 'CANCELLED')::int AS cancelled,
                count(*) FILTER (WHERE b.status = 'CONFIRMED' AND b.comp)::int AS comps
         FROM (SELECT core.status_at(status, expires_at, statement_timestamp()) AS status, comp
               FROM bookings WHERE show_id = $1) b),
       -- Tickets by type in the bookings that hold seats (H) or sold them (S), as the lifecycle
       -- says of each status (a lapsed hold's status is EXPIRED, which has none).
       sold_lines AS (
         SELECT l.line->>'type' AS type, bs.seat_state,
                sum((l.line->>'quantity')::int)::int AS quantity,
                sum((l.line->>'quantity')::bigint * (l.line->>'unit_price')::bigint) AS amount
         FROM bookings b
         JOIN core.booking_statuses bs ON bs.status = core.status_at(b.status, b.expires_at, statement_timestamp())
         CROSS JOIN LATERAL jsonb_array_elements(b.lines) AS l(line)
         WHERE b.show_id = $1 AND bs.seat_state IN ('H', 'S')
         GROUP BY 1, 2)
       SELECT s.id AS show_id, s.currency,
              jsonb_build_object(
                'total', s.total_seats,
                'free', s.total_seats - s.held_seats - s.confirmed_seats - s.blocked_seats
                        + (SELECT COALESCE(sum(o.seats), 0) FROM overdue o),
                'held', s.held_seats - (SELECT COALESCE(sum(o.seats), 0) FROM overdue o),
                'sold', s.confirmed_seats,
                'blocked', s.blocked_seats) AS seats,
              CASE WHEN s.seat_map IS NOT NULL THEN (
                SELECT jsonb_object_agg(c.name, jsonb_build_object(
                  'total', c.total_seats,
                  'free', c.total_seats - c.held_seats - c.sold_seats - c.blocked_seats + COALESCE(os.n, 0),
                  'held', c.held_seats - COALESCE(os.n, 0),
                  'sold', c.sold_seats,
                  'blocked', c.blocked_seats) ORDER BY c.category)
                FROM show_categories c LEFT JOIN overdue_seats os ON os.category = c.category
                WHERE c.show_id = s.id)
              END AS by_category,
              (SELECT to_jsonb(counts) FROM counts) AS bookings,
              (SELECT coalesce(sum(sl.amount) FILTER (WHERE sl.seat_state = 'S'), 0)::float8 FROM sold_lines sl) AS revenue,
              -- json, not jsonb: the types in their order, not sorted by code.
              (SELECT json_object_agg(t.code, json_build_object(
                        'name', t.name,
                        'held', coalesce((SELECT sum(sl.quantity) FROM sold_lines sl
                                          WHERE sl.type = t.code AND sl.seat_state = 'H'), 0),
                        'sold', coalesce((SELECT sum(sl.quantity) FROM sold_lines sl
                                          WHERE sl.type = t.code AND sl.seat_state = 'S'), 0),
                        'revenue', coalesce((SELECT sum(sl.amount) FROM sold_lines sl
                                             WHERE sl.type = t.code AND sl.seat_state = 'S'), 0)) ORDER BY t.position)
               FROM ticket_types t WHERE t.show_id = s.id) AS by_type,
              statement_timestamp() AS at
       FROM shows s WHERE s.id = $1`,
      [id],
    );
    const row = rows[0];
    if (row?.by_category === null) delete row.by_category;
    return (row as ShowSummary | undefined) ?? null;
  }

  /** Seats held, sold or blocked (caller holds the show's lock and reclaimed overdue holds). */
  async seatsInUse(client: PoolClient, id: string): Promise<number> {
    const { rows } = await client.query<{ n: number }>(
      'SELECT held_seats + confirmed_seats + blocked_seats AS n FROM shows WHERE id = $1',
      [id],
    );
    return rows[0]!.n;
  }

  /** Of `seatNos`, those not free. */
  async seatsNotFree(client: PoolClient, id: string, seatNos: number[]): Promise<number[]> {
    if (seatNos.length === 0) return [];
    const { rows } = await client.query<{ seat_no: number }>(
      `SELECT seat_no FROM seats WHERE show_id = $1 AND seat_no = ANY($2::int[]) AND state <> 'F' ORDER BY seat_no`,
      [id, seatNos],
    );
    return rows.map((row) => row.seat_no);
  }

  /** A seated show's new map and seat numbering (core.remap_seats). Caller holds the show's lock. */
  async remap(
    client: PoolClient,
    id: string,
    plan: SeatPlan,
    moves: { from: number; to: number }[],
    removed: number[],
  ): Promise<void> {
    await client.query('SELECT core.remap_seats($1, $2::jsonb, $3, $4, $5, $6, $7, $8, $9)', [
      id,
      JSON.stringify(plan.map),
      plan.total,
      moves.map((move) => move.from),
      moves.map((move) => move.to),
      removed,
      plan.rows.map((row) => row.start),
      plan.rows.map((row) => row.length),
      plan.rows.map((row) => row.category),
    ]);
  }

  /** Shows that have PENDING holds past their deadline, for the sweep. */
  async idsWithOverdueHolds(limit: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT s.id FROM shows s
       WHERE s.held_seats > 0 AND EXISTS (
         SELECT 1 FROM bookings b
         WHERE b.show_id = s.id AND core.lapsed(b.status, b.expires_at, statement_timestamp()))
       LIMIT $1`,
      [limit],
    );
    return rows.map((row) => row.id);
  }

  /**
   * Every show whose counters disagree with its booking rows, or that holds and sells more
   * seats than it has, and every disagreement between a seated show's seats, its category
   * counters and its bookings, read from one snapshot. The constraints and the single-statement
   * updates should make this always empty; operators and the fault tests check that it is.
   */
  async counterMismatches(): Promise<{
    checked: number;
    mismatches: CounterMismatch[];
    seatMismatches: SeatMismatch[];
  }> {
    return withTransaction(this.pool, async (client) => {
      await client.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      // The seat checks' estimates (a map's rows, from its JSON) are large enough to trigger JIT
      // compilation, which costs more than the small checks it would speed up (1.3 s on one show).
      await client.query('SET LOCAL jit = off');
      const { rows } = await client.query<CounterMismatch>(
        `SELECT s.id, s.title, s.total_seats AS "totalSeats",
                s.held_seats AS "heldSeats", COALESCE(b.pending, 0)::int AS "pendingRowSeats",
                s.confirmed_seats AS "confirmedSeats", COALESCE(b.confirmed, 0)::int AS "confirmedRowSeats",
                s.blocked_seats AS "blockedSeats"
         FROM shows s
         LEFT JOIN (
           SELECT b.show_id, sum(b.seats) FILTER (WHERE bs.seats = 'held') AS pending,
                  sum(b.seats) FILTER (WHERE bs.seats = 'sold') AS confirmed
           FROM bookings b JOIN core.booking_statuses bs ON bs.status = b.status GROUP BY b.show_id) b ON b.show_id = s.id
         WHERE s.held_seats <> COALESCE(b.pending, 0)
            OR s.confirmed_seats <> COALESCE(b.confirmed, 0)
            OR s.held_seats + s.confirmed_seats + s.blocked_seats > s.total_seats
         ORDER BY s.start_time, s.id`,
      );
      const { rows: seats } = await client.query<SeatMismatch>(SEAT_MISMATCHES);
      const { rows: count } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM shows');
      return { checked: count[0]!.n, mismatches: rows, seatMismatches: seats };
    });
  }
}
