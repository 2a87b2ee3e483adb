import { withTransaction, type Pool, type PoolClient } from '../db/pool.js';
import { AppError } from '../errors.js';
import type { NewShow, Show, ShowPageCursor, ShowRepository } from '../repositories/show.repository.js';
import type { IdempotencyService, Recorder } from './idempotency.service.js';

export interface ShowPage {
  shows: Show[];
  /** Opaque cursor of the next page; absent on the last page. */
  nextCursor?: string;
}

export function encodeCursor(show: Pick<Show, 'start_time' | 'id'>): string {
  return Buffer.from(JSON.stringify([show.start_time.toISOString(), show.id])).toString('base64url');
}

export function decodeCursor(cursor: string): ShowPageCursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      typeof value[0] === 'string' &&
      !Number.isNaN(Date.parse(value[0])) &&
      typeof value[1] === 'string' &&
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value[1])
    ) {
      return { startTime: value[0], id: value[1] };
    }
  } catch {
    // fall through: any undecodable cursor is the client's error
  }
  throw new AppError('invalid_cursor', 'Use the cursor from the Link header of the previous page unchanged');
}

export class ShowService {
  constructor(
    private readonly pool: Pool,
    private readonly shows: ShowRepository,
    private readonly idempotency: IdempotencyService,
  ) {}

  /** With a recorder, the show and the answer to its Idempotency-Key commit together. */
  async create(show: NewShow, recorder?: Recorder<Show>): Promise<Show> {
    if (!recorder) return this.insert(show);
    return withTransaction(this.pool, async (client) => {
      const created = await this.insert(show, client);
      await this.idempotency.recordWithin(client, recorder, created);
      return created;
    });
  }

  private async insert(show: NewShow, client?: PoolClient): Promise<Show> {
    const created = await this.shows.create(show, client);
    if (!created) throw new AppError('start_time_in_past', 'start_time must be in the future');
    return created;
  }

  async get(id: string): Promise<Show> {
    const show = await this.shows.findById(id);
    if (!show) throw new AppError('show_not_found');
    return show;
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
