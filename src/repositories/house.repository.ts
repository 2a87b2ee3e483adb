import type { PoolClient } from '../adapters/postgres/pool.js';
import { asBooking, BOOKING_COLUMNS, type Booking } from '../domain/booking.js';
import type { SeatBlock } from '../domain/show.js';
import type { DbInstant } from './show.repository.js';

const blockColumns = 'id, show_id, seats, seat_ids, note, created_at';

function asBlock(row: SeatBlock & { seat_ids?: string[] | null }): SeatBlock {
  if (row.seat_ids === null) delete row.seat_ids;
  return row;
}

/** A seat of a seated show as it stands under the show's lock. */
export interface SeatState {
  seatNo: number;
  state: 'F' | 'H' | 'S' | 'B';
  blockId: string | null;
}

/**
 * The house's seats: blocks (seats kept back) and complimentary bookings. Every method runs
 * in a transaction that holds the show's lock and has reclaimed its overdue holds, and moves
 * the show's counters (and, seated, its seat_version) in the statement that moves seats.
 */
export class HouseRepository {
  /** Free seats of a general-admission show. */
  async freeSeats(client: PoolClient, showId: string): Promise<number> {
    const { rows } = await client.query<{ free: number }>(
      'SELECT total_seats - held_seats - confirmed_seats - blocked_seats AS free FROM shows WHERE id = $1',
      [showId],
    );
    return rows[0]!.free;
  }

  async seatStates(client: PoolClient, showId: string, seatNos: number[]): Promise<SeatState[]> {
    const { rows } = await client.query<SeatState>(
      `SELECT seat_no AS "seatNo", state, block_id AS "blockId" FROM seats
       WHERE show_id = $1 AND seat_no = ANY($2::int[]) ORDER BY seat_no`,
      [showId, seatNos],
    );
    return rows;
  }

  /** Keeps back free seats: `seatNos` (seated, all free) or a number of them (general admission, enough free). */
  async block(
    client: PoolClient,
    showId: string,
    now: DbInstant,
    block: { seats: number; seatNos: number[] | null; seatIds: string[] | null; note: string | null },
  ): Promise<SeatBlock> {
    const { rows } = await client.query<SeatBlock>(
      `WITH inserted AS (
         INSERT INTO seat_blocks (show_id, seats, seat_nos, seat_ids, note, created_at)
         VALUES ($1, $2, $3, $4, $5, $6::timestamptz)
         RETURNING ${blockColumns}),
       blocked AS (
         UPDATE seats SET state = 'B', block_id = (SELECT id FROM inserted),
                          version = (SELECT seat_version + 1 FROM shows WHERE id = $1)
         WHERE show_id = $1 AND seat_no = ANY($3::int[]) AND state = 'F'),
       counted AS (
         UPDATE shows SET blocked_seats = blocked_seats + $2, seat_version = seat_version + ($3::int[] IS NOT NULL)::int
         WHERE id = $1)
       SELECT * FROM inserted`,
      [showId, block.seats, block.seatNos, block.seatIds, block.note, now],
    );
    return asBlock(rows[0]!);
  }

  async activeBlocks(client: PoolClient, showId: string): Promise<SeatBlock[]> {
    const { rows } = await client.query<SeatBlock>(
      `SELECT ${blockColumns} FROM seat_blocks WHERE show_id = $1 AND released_at IS NULL AND seats > 0
       ORDER BY created_at, id`,
      [showId],
    );
    return rows.map(asBlock);
  }

  async activeBlock(
    client: PoolClient,
    showId: string,
    blockId: string,
  ): Promise<(SeatBlock & { seatNos: number[] | null }) | null> {
    const { rows } = await client.query<SeatBlock & { seatNos: number[] | null }>(
      `SELECT ${blockColumns}, seat_nos AS "seatNos" FROM seat_blocks
       WHERE id = $2 AND show_id = $1 AND released_at IS NULL AND seats > 0`,
      [showId, blockId],
    );
    return rows[0] ? (asBlock(rows[0]) as SeatBlock & { seatNos: number[] | null }) : null;
  }

  /** Puts a block's seats back on sale. */
  async release(client: PoolClient, showId: string, blockId: string, now: DbInstant): Promise<boolean> {
    const { rows } = await client.query<{ id: string }>(
      `WITH released AS (
         UPDATE seat_blocks SET released_at = $3::timestamptz
         WHERE id = $2 AND show_id = $1 AND released_at IS NULL AND seats > 0
         RETURNING id, seats, seat_nos),
       freed AS (
         UPDATE seats SET state = 'F', block_id = NULL, version = (SELECT seat_version + 1 FROM shows WHERE id = $1)
         FROM released r
         WHERE seats.show_id = $1 AND seats.seat_no = ANY (r.seat_nos) AND seats.block_id = r.id),
       counted AS (
         UPDATE shows SET blocked_seats = blocked_seats - r.seats, seat_version = seat_version + (r.seat_nos IS NOT NULL)::int
         FROM released r WHERE shows.id = $1)
       SELECT id FROM released`,
      [showId, blockId, now],
    );
    return rows.length > 0;
  }

  /**
   * A complimentary booking, straight to CONFIRMED. Seated: on `seatNos` (each free or blocked;
   * blocked ones leave their blocks). General admission: `seats` free ones, or from block
   * `fromBlock` (which has at least that many).
   */
  async comp(
    client: PoolClient,
    showId: string,
    now: DbInstant,
    comp: {
      id: string;
      tokenHash: Buffer;
      seats: number;
      seatNos: number[] | null;
      seatIds: string[] | null;
      /** Seated: the seats taken out of blocks; general admission: how many from fromBlock. */
      fromBlocks: number;
      fromBlock: string | null;
      customerRef: string | null;
    },
  ): Promise<Booking> {
    // Blocked seats leave their blocks. A block the comps empty is used up, not released: its seats
    // were sold, not put back on sale (no show.seats_released), and it is no longer listed.
    if (comp.seatNos) {
      await client.query(
        `WITH taken AS (
           SELECT block_id, array_agg(seat_no) AS seat_nos FROM seats
           WHERE show_id = $1 AND seat_no = ANY($2::int[]) AND state = 'B' GROUP BY block_id),
         kept AS (
           SELECT b.id, coalesce(array_agg(k.seat_no ORDER BY k.ord) FILTER (WHERE k.seat_no IS NOT NULL), '{}') AS seat_nos,
                  coalesce(array_agg(k.seat_id ORDER BY k.ord) FILTER (WHERE k.seat_no IS NOT NULL), '{}') AS seat_ids
           FROM seat_blocks b JOIN taken t ON t.block_id = b.id
           LEFT JOIN LATERAL unnest(b.seat_nos, b.seat_ids) WITH ORDINALITY AS k(seat_no, seat_id, ord)
             ON NOT k.seat_no = ANY (t.seat_nos)
           GROUP BY b.id)
         UPDATE seat_blocks b SET seat_nos = kept.seat_nos, seat_ids = kept.seat_ids, seats = cardinality(kept.seat_nos)
         FROM kept WHERE b.id = kept.id`,
        [showId, comp.seatNos],
      );
    } else if (comp.fromBlock) {
      await client.query('UPDATE seat_blocks SET seats = seats - $2 WHERE id = $1', [comp.fromBlock, comp.seats]);
    }
    const { rows } = await client.query<Booking>(
      // Complimentary: one line of the show's default type, at no price.
      `WITH inserted AS (
         INSERT INTO bookings (id, show_id, seats, seat_nos, seat_ids, status, hold_token_hash, customer_ref, comp,
                               created_at, expires_at, updated_at, currency, lines, total)
         SELECT $1, $2, $3, $4, $5, 'CONFIRMED', $6, $7, true, $8::timestamptz,
                $8::timestamptz + interval '1 millisecond', $8::timestamptz, s.currency,
                jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
                  'type', t.code, 'name', t.name, 'quantity', $3::integer, 'unit_price', 0, 'seat_ids', to_jsonb($5::text[])))),
                0
         FROM shows s, core.default_ticket_type(s.id) t
         WHERE s.id = $2
         RETURNING ${BOOKING_COLUMNS}),
       sold AS (
         UPDATE seats SET state = 'S', booking_id = $1, block_id = NULL,
                          version = (SELECT seat_version + 1 FROM shows WHERE id = $2)
         WHERE show_id = $2 AND seat_no = ANY($4::int[])),
       counted AS (
         UPDATE shows SET confirmed_seats = confirmed_seats + $3, blocked_seats = blocked_seats - $9,
                          seat_version = seat_version + ($4::int[] IS NOT NULL)::int
         WHERE id = $2)
       SELECT * FROM inserted`,
      [comp.id, showId, comp.seats, comp.seatNos, comp.seatIds, comp.tokenHash, comp.customerRef, now, comp.fromBlocks],
    );
    return asBooking(rows[0]!);
  }
}
