import type { Pool, PoolClient } from '../adapters/postgres/pool.js';
import type { OutboxRow } from '../domain/events.js';

/**
 * A position in the outbox's commit order: (tx, seq). Everything at or before it has been
 * read. Its text form, `<tx>.<seq>`, is what readers keep (and what SSE sends as its id).
 */
export interface OutboxPosition {
  tx: string;
  seq: string;
}

export function positionText(position: OutboxPosition): string {
  return `${position.tx}.${position.seq}`;
}

/** Parses `<tx>.<seq>`; null for anything else (a client's Last-Event-ID is untrusted). */
export function parsePosition(text: string | undefined): OutboxPosition | null {
  const match = /^(\d{1,19})\.(\d{1,19})$/.exec(text ?? '');
  if (!match) return null;
  const [tx, seq] = [BigInt(match[1]!), BigInt(match[2]!)];
  if (tx > 2n ** 63n - 1n || seq > 2n ** 63n - 1n) return null;
  return { tx: tx.toString(), seq: seq.toString() };
}

export interface OutboxPage<T> {
  rows: T[];
  /** Where the next read starts: past every row read, and past every row that can still appear below it. */
  next: OutboxPosition;
}

/** What a reader of seat changes needs of an event, without its whole payload. */
export interface OutboxChange {
  seq: string;
  /** The transaction that made it: (tx, seq) is its position. */
  tx: string;
  type: string;
  show_id: string;
  occurred_at: Date;
  /** The seats it changed, for a seated show; null otherwise. */
  seat_ids: string[] | null;
}

// Rows below the oldest running transaction are final; a full page stops at its last row,
// a short one at that horizon (nothing below it is left to come).
const HORIZON = 'pg_snapshot_xmin(pg_current_snapshot())';

export class OutboxRepository {
  constructor(private readonly pool: Pool) {}

  /**
   * The position from which a new reader sees every event committed from now on: the oldest
   * running transaction's. It may read again a few events committed just before.
   */
  async head(db: Pool | PoolClient = this.pool): Promise<OutboxPosition> {
    const { rows } = await db.query<OutboxPosition>(`SELECT ${HORIZON}::text AS tx, '0' AS seq`);
    return rows[0]!;
  }

  /** Whole events after `from`, in commit order (pings, which are for one endpoint, included). */
  async eventsAfter(
    from: OutboxPosition,
    limit: number,
    db: Pool | PoolClient = this.pool,
  ): Promise<OutboxPage<OutboxRow & { endpoint_id: string | null; tx: string }>> {
    const { rows } = await db.query<OutboxRow & { endpoint_id: string | null; tx: string; horizon: string }>(
      `SELECT e.seq::text, e.tx::text, e.id, e.type, e.show_id, e.endpoint_id, e.occurred_at, e.data, h.horizon::text
       FROM (SELECT ${HORIZON} AS horizon) h
       LEFT JOIN LATERAL (
         SELECT * FROM outbox_events e
         WHERE (e.tx, e.seq) > ($1::xid8, $2::bigint) AND e.tx < h.horizon
         ORDER BY e.tx, e.seq LIMIT $3) e ON true`,
      [from.tx, from.seq, limit],
    );
    return page(rows, limit, from);
  }

  /**
   * The changes of the shows `showIds` after `from`, in commit order. Only the seat ids are
   * read out of each payload.
   */
  async changesAfter(from: OutboxPosition, showIds: string[], limit: number): Promise<OutboxPage<OutboxChange>> {
    return this.changes(from, 'e.show_id = ANY ($3::uuid[])', showIds, limit);
  }

  /**
   * The changes of one seated show's seats after `from`, in commit order, and its show.updated
   * (its map may have changed): what a stream resuming from a Last-Event-ID replays. An ordered
   * scan of the show's own such events (outbox_events_seat_changes_of_show) that stops after
   * `limit`: a resume from any position, however old or far, reads no more than it returns.
   */
  async seatChangesAfter(from: OutboxPosition, showId: string, limit: number): Promise<OutboxPage<OutboxChange>> {
    return this.changes(
      from,
      `e.show_id = $3::uuid AND (jsonb_typeof(e.data->'seat_ids') = 'array' OR e.type = 'show.updated')`,
      showId,
      limit,
    );
  }

  /**
   * Which shows changed after `from`, in commit order, at most `limit` events' worth: what a
   * process that keeps answers of shows in memory must read again (ShowChangeFollower).
   */
  async showsChangedAfter(from: OutboxPosition, limit: number): Promise<{ showIds: string[]; next: OutboxPosition }> {
    const { rows } = await this.pool.query<{
      horizon: string;
      n: number;
      show_ids: string[] | null;
      tx: string | null;
      seq: string | null;
    }>(
      `WITH h AS (SELECT ${HORIZON} AS horizon),
       p AS MATERIALIZED (
         SELECT e.tx, e.seq, e.show_id FROM outbox_events e, h
         WHERE (e.tx, e.seq) > ($1::xid8, $2::bigint) AND e.tx < h.horizon
         ORDER BY e.tx, e.seq LIMIT $3),
       l AS (SELECT tx, seq FROM p ORDER BY tx DESC, seq DESC LIMIT 1)
       SELECT h.horizon::text, (SELECT count(*) FROM p)::int AS n,
              (SELECT array_agg(DISTINCT p.show_id) FROM p WHERE p.show_id IS NOT NULL) AS show_ids,
              l.tx::text, l.seq::text
       FROM h LEFT JOIN l ON true`,
      [from.tx, from.seq, limit],
    );
    const row = rows[0]!;
    const last = row.tx !== null && row.seq !== null ? { tx: row.tx, seq: row.seq } : undefined;
    return { showIds: row.show_ids ?? [], next: nextPosition(row.horizon, row.n === limit ? last : undefined, from) };
  }

  private async changes(
    from: OutboxPosition,
    which: string,
    shows: string | string[],
    limit: number,
  ): Promise<OutboxPage<OutboxChange>> {
    const { rows } = await this.pool.query<OutboxChange & { horizon: string }>(
      `SELECT e.seq::text, e.tx::text, e.type, e.show_id, e.occurred_at,
              CASE WHEN jsonb_typeof(e.data->'seat_ids') = 'array'
                   THEN ARRAY(SELECT jsonb_array_elements_text(e.data->'seat_ids')) END AS seat_ids,
              h.horizon::text
       FROM (SELECT ${HORIZON} AS horizon) h
       LEFT JOIN LATERAL (
         SELECT * FROM outbox_events e
         WHERE ${which} AND (e.tx, e.seq) > ($1::xid8, $2::bigint) AND e.tx < h.horizon
         ORDER BY e.tx, e.seq LIMIT $4) e ON true`,
      [from.tx, from.seq, shows, limit],
    );
    return page(rows, limit, from);
  }
}

function page<T extends { seq: string | null; tx: string | null; horizon: string }>(
  read: T[],
  limit: number,
  from: OutboxPosition,
): OutboxPage<Omit<T, 'horizon'>> {
  const found = read.filter((row) => row.seq !== null);
  const last = found.at(-1);
  const next = nextPosition(
    read[0]!.horizon,
    found.length === limit && last ? { tx: last.tx!, seq: last.seq! } : undefined,
    from,
  );
  const rows = found.map((row) => {
    const event: Partial<T> = { ...row };
    delete event.horizon;
    return event as Omit<T, 'horizon'>;
  });
  return { rows, next };
}

/**
 * Where the next read starts: after the last row of a full page; after a short one, at the
 * horizon (nothing below it is left to come), never behind `from`.
 */
function nextPosition(
  horizon: string,
  lastOfFullPage: OutboxPosition | undefined,
  from: OutboxPosition,
): OutboxPosition {
  if (lastOfFullPage) return lastOfFullPage;
  return BigInt(horizon) > BigInt(from.tx) ? { tx: horizon, seq: '0' } : from;
}
