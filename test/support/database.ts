import type { Pool } from '../../src/adapters/postgres/pool.js';

/** What a test reads straight from the database, to check what the API says against the rows. */

/** The show's counters next to what its booking rows add up to. */
export async function inventory(pool: Pool, showId: string) {
  const { rows } = await pool.query<{
    total: number;
    held: number;
    confirmed: number;
    pending_rows: number;
    confirmed_rows: number;
  }>(
    `SELECT s.total_seats AS total, s.held_seats AS held, s.confirmed_seats AS confirmed,
            COALESCE(sum(b.seats) FILTER (WHERE b.status = 'PENDING'), 0)::int AS pending_rows,
            COALESCE(sum(b.seats) FILTER (WHERE b.status = 'CONFIRMED'), 0)::int AS confirmed_rows
     FROM shows s LEFT JOIN bookings b ON b.show_id = s.id WHERE s.id = $1 GROUP BY s.id`,
    [showId],
  );
  return rows[0]!;
}

/** A seated show's counters per category, in category order. */
export async function categoryCounts(pool: Pool, showId: string) {
  const { rows } = await pool.query<{
    name: string;
    total_seats: number;
    held_seats: number;
    sold_seats: number;
    blocked_seats: number;
  }>(
    `SELECT name, total_seats, held_seats, sold_seats, blocked_seats FROM show_categories
     WHERE show_id = $1 ORDER BY category`,
    [showId],
  );
  return rows;
}

/** The status a booking's row has (a lapsed hold's is PENDING until something expires it). */
export async function storedStatus(pool: Pool, bookingId: string): Promise<string> {
  const { rows } = await pool.query<{ status: string }>('SELECT status FROM bookings WHERE id = $1', [bookingId]);
  return rows[0]!.status;
}
