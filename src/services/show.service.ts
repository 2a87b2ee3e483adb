import { withTransaction, type Pool, type PoolClient } from '../db/pool.js';
import { UUID_PATTERN } from '../domain/common.js';
import { AppError } from '../errors.js';
import { SeatPlan } from '../domain/seat-map.js';
import type { NewShow, SeatMapState, Show } from '../domain/show.js';
import type { ShowPageCursor, ShowRepository } from '../repositories/show.repository.js';
import type { IdempotencyService, Recorder } from './idempotency.service.js';

export interface ShowPage {
  shows: Show[];
  /** Opaque cursor of the next page; absent on the last page. */
  nextCursor?: string;
}

export function encodeCursor(show: Pick<Show, 'start_time' | 'id'>): string {
  return Buffer.from(JSON.stringify([show.start_time.toISOString(), show.id])).toString('base64url');
}

// Years 0001–9999 (year 0000 is valid ISO but not a PostgreSQL year).
const CURSOR_TIME = /^(?!0000)\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const CURSOR_ID = new RegExp(UUID_PATTERN);

/**
 * The cursor exactly as encodeCursor writes it, or 400: what Date.parse would accept
 * (`2020-02-30`, years beyond PostgreSQL's range…) is not enough.
 */
export function decodeCursor(cursor: string): ShowPageCursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2) {
      const [startTime, id] = value as unknown[];
      if (
        typeof startTime === 'string' &&
        CURSOR_TIME.test(startTime) &&
        new Date(startTime).toISOString() === startTime &&
        typeof id === 'string' &&
        CURSOR_ID.test(id)
      ) {
        return { startTime, id };
      }
    }
  } catch {
    // fall through: any undecodable cursor is the client's error
  }
  throw new AppError('invalid_cursor', 'Use the cursor from the Link header of the previous page unchanged');
}

/** Most shows whose seat map reads are shared at once. */
const MAX_SHARED_SEAT_MAPS = 256;

export class ShowService {
  /** Reads of seat maps in flight or recent, shared by the requests that come meanwhile. */
  private readonly seatMaps = new Map<string, { readAt: number; map: Promise<SeatMapState> }>();

  /** @param seatMapMaxAgeMs how long requests share one read of a seat map (SEAT_MAP_MAX_AGE_MS) */
  constructor(
    private readonly pool: Pool,
    private readonly shows: ShowRepository,
    private readonly idempotency: IdempotencyService,
    private readonly seatMapMaxAgeMs = 0,
  ) {}

  /** With a recorder, the show and the answer to its Idempotency-Key commit together. */
  async create(show: NewShow, recorder?: Recorder<Show>): Promise<Show> {
    if (!recorder) return this.insert(show);
    const created = await withTransaction(this.pool, async (client) => {
      const inserted = await this.insert(show, client);
      await this.idempotency.recordWithin(client, recorder, inserted);
      return inserted;
    });
    recorder.claim.recorded = true; // committed with the show
    return created;
  }

  private async insert(show: NewShow, client?: PoolClient): Promise<Show> {
    if ((show.total_seats === undefined) === (show.seat_map === undefined)) {
      throw new AppError('validation_failed', 'Send either total_seats (general admission) or seat_map, not both', {
        errors: [{ path: 'body', message: 'must have exactly one of total_seats and seat_map' }],
      });
    }
    const plan = show.seat_map ? SeatPlan.fromInput(show.seat_map) : null;
    const created = await this.shows.create(show, plan, client);
    if (!created) throw new AppError('start_time_in_past', 'start_time must be in the future');
    return created;
  }

  async get(id: string): Promise<Show> {
    const show = await this.shows.findById(id);
    if (!show) throw new AppError('show_not_found');
    return show;
  }

  /**
   * A seated show's map with every seat's state, from one snapshot. During an on-sale thousands
   * of browsers poll the map of the same show; the requests of the last seatMapMaxAgeMs share one
   * read (a snapshot at most that old), so that reading 100,000 seats does not compete with the
   * holds for the database.
   */
  seats(id: string): Promise<SeatMapState> {
    const now = Date.now();
    const shared = this.seatMaps.get(id);
    if (shared && now - shared.readAt < this.seatMapMaxAgeMs) return shared.map;
    const map = this.readSeats(id);
    if (this.seatMapMaxAgeMs > 0) {
      this.seatMaps.delete(id); // most recent last
      this.seatMaps.set(id, { readAt: now, map });
      if (this.seatMaps.size > MAX_SHARED_SEAT_MAPS) this.seatMaps.delete(this.seatMaps.keys().next().value!);
      // A failed read is not shared: the next request tries again.
      map.catch(() => {
        if (this.seatMaps.get(id)?.map === map) this.seatMaps.delete(id);
      });
    }
    return map;
  }

  private async readSeats(id: string): Promise<SeatMapState> {
    const now = await this.shows.seatStatesNow(id);
    if (!now) {
      const map = await this.shows.seatMap(id);
      if (map === undefined) throw new AppError('show_not_found');
      throw new AppError('show_not_seated', 'The show has general admission: it has no seat map');
    }
    let next = 0;
    return {
      show_id: id,
      version: now.version,
      sections: now.map.sections.map((section) => ({
        name: section.name,
        rows: section.rows.map((row) => {
          const status = now.states.slice(next, next + row.seats);
          next += row.seats;
          return { label: row.label, category: row.category, seats: row.seats, status };
        }),
      })),
    };
  }

  async list(limit: number, cursor: string | undefined): Promise<ShowPage> {
    const after = cursor === undefined ? null : decodeCursor(cursor);
    // One row more than asked tells whether a next page exists without a count query.
    const rows = await this.shows.list(limit + 1, after);
    const shows = rows.slice(0, limit);
    const last = shows[shows.length - 1];
    return rows.length > limit && last ? { shows, nextCursor: encodeCursor(last) } : { shows };
  }
}
