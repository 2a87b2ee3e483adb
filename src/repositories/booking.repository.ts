import type { Pool, PoolClient } from '../db/pool.js';

export const bookingStatuses = ['PENDING', 'CONFIRMED', 'EXPIRED', 'CANCELLED'] as const;
export type BookingStatus = (typeof bookingStatuses)[number];

export interface Booking {
  id: string;
  show_id: string;
  seats: number;
  status: BookingStatus;
  created_at: Date;
  expires_at: Date;
  updated_at: Date;
}

export interface StoredBooking extends Booking {
  hold_token_hash: Buffer;
  /** PENDING and past expires_at by the database clock: no longer a hold. */
  overdue: boolean;
}

export interface NewHold {
  id: string;
  seats: number;
  tokenHash: Buffer;
}

const bookingColumns = 'id, show_id, seats, status, created_at, expires_at, updated_at';

export class BookingRepository {
  constructor(private readonly pool: Pool) {}

  /**
   * Inserts every hold of a group in one statement and adds their seats to the show's
   * held counter in the same statement; the counter is derived from the rows actually
   * inserted. Caller holds the show's inventory lock and has checked the seats are free
   * (the CHECK constraints refuse the statement otherwise).
   */
  async insertHolds(
    client: PoolClient,
    showId: string,
    holds: NewHold[],
    ttlSeconds: number,
  ): Promise<{ createdAt: Date; expiresAt: Date }> {
    const { rows } = await client.query<{ createdAt: Date; expiresAt: Date }>(
      `WITH t AS (
         SELECT statement_timestamp() AS created_at,
                statement_timestamp() + make_interval(secs => $5) AS expires_at),
       inserted AS (
         INSERT INTO bookings (id, show_id, seats, hold_token_hash, created_at, expires_at, updated_at)
         SELECT h.id, $1, h.seats, h.hash, t.created_at, t.expires_at, t.created_at
         FROM unnest($2::uuid[], $3::int[], $4::bytea[]) AS h(id, seats, hash), t
         RETURNING seats),
       counted AS (
         UPDATE shows SET held_seats = held_seats + (SELECT sum(seats) FROM inserted) WHERE id = $1)
       SELECT created_at AS "createdAt", expires_at AS "expiresAt" FROM t`,
      [showId, holds.map((h) => h.id), holds.map((h) => h.seats), holds.map((h) => h.tokenHash), ttlSeconds],
    );
    return rows[0]!;
  }

  /**
   * Moves every overdue PENDING hold of the show to EXPIRED and returns their seats to
   * sale, in one statement. Caller holds the show's inventory lock. Returns the seats freed.
   */
  async expireOverdue(client: PoolClient, showId: string): Promise<number> {
    const { rows } = await client.query<{ freed: number }>(
      `WITH expired AS (
         UPDATE bookings SET status = 'EXPIRED', updated_at = statement_timestamp()
         WHERE show_id = $1 AND status = 'PENDING' AND expires_at <= statement_timestamp()
         RETURNING seats),
       freed AS (SELECT COALESCE(sum(seats), 0)::int AS seats FROM expired),
       counted AS (
         UPDATE shows SET held_seats = held_seats - freed.seats FROM freed WHERE id = $1 AND freed.seats > 0)
       SELECT seats AS freed FROM freed`,
      [showId],
    );
    return rows[0]?.freed ?? 0;
  }

  /**
   * A conditional transition: moves the booking from `from` to `to` only if it is still in
   * `from` (and, leaving PENDING for anything but EXPIRED, only before its deadline), and
   * moves the show's counters by its seats in the same statement. Caller holds the show's
   * inventory lock. Null when the booking was not in a state to move.
   *
   * The deadline is judged at now(), the transaction's own timestamp, as findById judges
   * `overdue`: a decision read in a transaction and its guarded update agree even when the
   * deadline falls between the two statements.
   */
  async transition(client: PoolClient, id: string, from: BookingStatus, to: BookingStatus): Promise<Booking | null> {
    const { rows } = await client.query<Booking>(
      `WITH moved AS (
         UPDATE bookings SET status = $3::booking_status, updated_at = statement_timestamp()
         WHERE id = $1 AND status = $2::booking_status
           AND ($2::booking_status <> 'PENDING' OR $3::booking_status = 'EXPIRED' OR expires_at > now())
           AND ($3::booking_status <> 'EXPIRED' OR expires_at <= now())
         RETURNING ${bookingColumns}),
       counted AS (
         UPDATE shows SET
           held_seats = held_seats - CASE WHEN $2::booking_status = 'PENDING' THEN moved.seats ELSE 0 END,
           confirmed_seats = confirmed_seats
             + CASE WHEN $3::booking_status = 'CONFIRMED' THEN moved.seats ELSE 0 END
             - CASE WHEN $2::booking_status = 'CONFIRMED' THEN moved.seats ELSE 0 END
         FROM moved WHERE shows.id = moved.show_id)
       SELECT * FROM moved`,
      [id, from, to],
    );
    return rows[0] ?? null;
  }

  /** The booking as stored, with whether it is an overdue hold at now() (see transition). */
  async findById(id: string, client?: PoolClient): Promise<StoredBooking | null> {
    const { rows } = await (client ?? this.pool).query<StoredBooking>(
      `SELECT ${bookingColumns}, hold_token_hash,
              (status = 'PENDING' AND expires_at <= now()) AS overdue
       FROM bookings WHERE id = $1`,
      [id],
    );
    return rows[0] ?? null;
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
