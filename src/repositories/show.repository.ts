import { withTransaction, type Pool, type PoolClient } from '../db/pool.js';
import type { NewShow, Show } from '../domain/show.js';

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
}

export interface CounterMismatch {
  id: string;
  title: string;
  totalSeats: number;
  heldSeats: number;
  pendingRowSeats: number;
  confirmedSeats: number;
  confirmedRowSeats: number;
}

export interface ShowPageCursor {
  startTime: string;
  id: string;
}

// Overdue holds stop counting the instant they pass expires_at, before any worker
// reclaims them: they are added back here. Only overdue PENDING rows are visited
// (the partial index bookings_pending_by_show), which the sweep keeps few.
const showColumns = `
  s.id, s.title, s.description, s.start_time, s.total_seats, s.created_at,
  s.total_seats - s.held_seats - s.confirmed_seats + COALESCE((
    SELECT sum(b.seats) FROM bookings b
    WHERE b.show_id = s.id AND b.status = 'PENDING' AND b.expires_at <= statement_timestamp()
  ), 0)::int AS available_seats`;

export class ShowRepository {
  constructor(private readonly pool: Pool) {}

  /** Inserts the show unless start_time is not in the future by the database clock; null then. */
  async create(show: NewShow, client?: PoolClient): Promise<Show | null> {
    const { rows } = await (client ?? this.pool).query<Show>(
      `INSERT INTO shows (title, description, start_time, total_seats)
       SELECT $1, $2, date_trunc('milliseconds', $3::timestamptz), $4 WHERE $3::timestamptz > statement_timestamp()
       RETURNING id, title, description, start_time, total_seats, total_seats AS available_seats, created_at`,
      [show.title, show.description ?? null, show.start_time, show.total_seats],
    );
    return rows[0] ?? null;
  }

  async findById(id: string): Promise<Show | null> {
    const { rows } = await this.pool.query<Show>(`SELECT ${showColumns} FROM shows s WHERE s.id = $1`, [id]);
    return rows[0] ?? null;
  }

  /** A page in (start_time, id) order, starting after the cursor. */
  async list(limit: number, after: ShowPageCursor | null): Promise<Show[]> {
    const { rows } = after
      ? await this.pool.query<Show>(
          `SELECT ${showColumns} FROM shows s
           WHERE (s.start_time, s.id) > ($2::timestamptz, $3::uuid)
           ORDER BY s.start_time, s.id LIMIT $1`,
          [limit, after.startTime, after.id],
        )
      : await this.pool.query<Show>(`SELECT ${showColumns} FROM shows s ORDER BY s.start_time, s.id LIMIT $1`, [limit]);
    return rows;
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
      `WITH locked AS MATERIALIZED (SELECT id FROM shows WHERE id = $1 FOR UPDATE),
       granted AS MATERIALIZED (SELECT clock_timestamp() AS at FROM locked)
       SELECT at::text AS now, at AS "nowDate" FROM granted`,
      [id],
    );
    return rows[0] ?? null;
  }

  /** Shows that have PENDING holds past their deadline, for the sweep. */
  async idsWithOverdueHolds(limit: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT s.id FROM shows s
       WHERE s.held_seats > 0 AND EXISTS (
         SELECT 1 FROM bookings b
         WHERE b.show_id = s.id AND b.status = 'PENDING' AND b.expires_at <= statement_timestamp())
       LIMIT $1`,
      [limit],
    );
    return rows.map((row) => row.id);
  }

  /**
   * Every show whose counters disagree with its booking rows, or that holds and sells more
   * seats than it has, read from one snapshot. The constraints and the single-statement
   * updates should make this always empty; operators and the fault tests check that it is.
   */
  async counterMismatches(): Promise<{ checked: number; mismatches: CounterMismatch[] }> {
    return withTransaction(this.pool, async (client) => {
      await client.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      const { rows } = await client.query<CounterMismatch>(
        `SELECT s.id, s.title, s.total_seats AS "totalSeats",
                s.held_seats AS "heldSeats", COALESCE(b.pending, 0)::int AS "pendingRowSeats",
                s.confirmed_seats AS "confirmedSeats", COALESCE(b.confirmed, 0)::int AS "confirmedRowSeats"
         FROM shows s
         LEFT JOIN (
           SELECT show_id, sum(seats) FILTER (WHERE status = 'PENDING') AS pending,
                  sum(seats) FILTER (WHERE status = 'CONFIRMED') AS confirmed
           FROM bookings GROUP BY show_id) b ON b.show_id = s.id
         WHERE s.held_seats <> COALESCE(b.pending, 0)
            OR s.confirmed_seats <> COALESCE(b.confirmed, 0)
            OR s.held_seats + s.confirmed_seats > s.total_seats
         ORDER BY s.start_time, s.id`,
      );
      const { rows: count } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM shows');
      return { checked: count[0]!.n, mismatches: rows };
    });
  }
}
