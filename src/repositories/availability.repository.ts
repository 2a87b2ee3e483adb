import type { Pool } from '../adapters/postgres/pool.js';
import type { OutboxPosition } from './outbox.repository.js';
import { availabilityColumns } from './show.repository.js';

/** A show's availability now, as GET /api/shows/:id counts it, and the state of the seats asked for. */
export interface AvailabilityRow {
  id: string;
  available_seats: number;
  available_by_category: Record<string, number> | null;
  /** shows.seat_map_version: the numbering `seats` are read in. */
  seat_map_version: number;
  /** Seat number → F, H, S or B, for the seats asked for (an overdue hold's seat reads F). */
  seats: Record<string, string> | null;
}

export interface AvailabilityRead {
  shows: AvailabilityRow[];
  /** The outbox position of the read: every change below it is in it (outbox.repository.ts, head). */
  horizon: OutboxPosition;
}

export class AvailabilityRepository {
  constructor(private readonly pool: Pool) {}

  /**
   * The availability of `showIds` and the states of the seats `seats` names (pairs of show id
   * and seat number), from one snapshot, with the outbox position that snapshot covers: one
   * statement, so the counts, the seats and the position agree.
   */
  async read(showIds: string[], seats: { showIds: string[]; seatNos: number[] }): Promise<AvailabilityRead> {
    const { rows } = await this.pool.query<AvailabilityRow & { horizon: string }>(
      `WITH asked AS (SELECT * FROM unnest($2::uuid[], $3::int[]) AS a(show_id, seat_no))
       SELECT s.id, s.seat_map_version, ${availabilityColumns},
              (SELECT jsonb_object_agg(st.seat_no,
                        CASE WHEN st.state = 'H' AND core.lapsed(b.status, b.expires_at, statement_timestamp())
                             THEN 'F' ELSE st.state::text END)
               FROM asked a JOIN seats st ON st.show_id = a.show_id AND st.seat_no = a.seat_no
               LEFT JOIN bookings b ON b.id = st.booking_id
               WHERE a.show_id = s.id) AS seats,
              h.horizon::text
       FROM (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS horizon) h
       LEFT JOIN shows s ON s.id = ANY ($1::uuid[])`,
      [showIds, seats.showIds, seats.seatNos],
    );
    const horizon = { tx: rows[0]!.horizon, seq: '0' };
    return {
      horizon,
      shows: rows
        .filter((row) => row.id !== null)
        .map((row) => {
          const show: Partial<typeof row> = { ...row };
          delete show.horizon;
          return show as AvailabilityRow;
        }),
    };
  }

  /** The first position still in the outbox (older events may have been purged; null when it is empty). */
  async oldest(): Promise<OutboxPosition | null> {
    const { rows } = await this.pool.query<OutboxPosition>(
      'SELECT tx::text, seq::text FROM outbox_events ORDER BY tx, seq LIMIT 1',
    );
    return rows[0] ?? null;
  }
}

/** a < b in commit order. */
export function before(a: OutboxPosition, b: OutboxPosition): boolean {
  const [ta, tb] = [BigInt(a.tx), BigInt(b.tx)];
  return ta < tb || (ta === tb && BigInt(a.seq) < BigInt(b.seq));
}
