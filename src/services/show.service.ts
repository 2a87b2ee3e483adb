import { withTransaction, type Pool, type PoolClient } from '../adapters/postgres/pool.js';
import { UUID_PATTERN, type FreshRead } from '../domain/common.js';
import { AppError } from '../errors.js';
import { SeatPlan } from '../domain/seat-map.js';
import type { NewShow, SeatMapState, Show, ShowChanges, ShowSummary } from '../domain/show.js';
import {
  applyTicketTypeChanges,
  checkCurrency,
  checkTicketTypes,
  DEFAULT_TICKET_TYPE,
  storedTicketType,
} from '../domain/ticket-types.js';
import type { Booking, BookingStatus } from '../domain/booking.js';
import type { BookingRepository } from '../repositories/booking.repository.js';
import type { SeatPlans } from './seat-plans.service.js';
import type { ShowCatalogues } from './show-catalogues.service.js';
import type { ShowPageCursor, ShowRepository } from '../repositories/show.repository.js';
import type { IdempotencyService, Recorder } from './idempotency.service.js';
import type { ShowVersions } from './show-versions.service.js';
import { SharedReads } from './shared-reads.js';

export interface ShowPage {
  shows: Show[];
  /** Opaque cursor of the next page; absent on the last page. */
  nextCursor?: string;
}

export function encodeCursor(show: Pick<Show, 'start_time' | 'id'>): string {
  return encodeKeyset(show.start_time.toISOString(), show.id);
}

/** A keyset cursor: an instant (ISO, milli- or microseconds, UTC) and an id. */
export function encodeKeyset(at: string, id: string): string {
  return Buffer.from(JSON.stringify([at, id])).toString('base64url');
}

// Years 0001–9999 (year 0000 is valid ISO but not a PostgreSQL year). Bookings are made to the
// microsecond, so their cursors carry microseconds: a page would otherwise begin again inside
// the last millisecond of the one before.
const CURSOR_TIME = /^(?!0000)\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(\d{3})?Z$/;
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
        new Date(`${startTime.slice(0, 23)}Z`).toISOString() === `${startTime.slice(0, 23)}Z` &&
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

export interface BookingPage {
  bookings: Booking[];
  nextCursor?: string;
}

/** Most shows, seat maps and pages of shows each process keeps answers of. */
const MAX_SHARED_SHOWS = 10_000;
const MAX_SHARED_SEAT_MAPS = 64;
const MAX_SHARED_PAGES = 32;

/** Whether reads may be shared now (ShowChangeFollower.current), and for at most how long. */
export interface ShowReadSharing {
  current: () => boolean;
  maxAgeMs: number;
}

export class ShowService {
  // The reads every buyer's page makes, answered once per change of their show and served from
  // memory until the next (SharedReads): a change this process made, or read in the outbox.
  private readonly showReads: SharedReads<string, Show | null>;
  private readonly pageReads: SharedReads<string, ShowPage>;
  private readonly seatMapReads: SharedReads<string, SeatMapState>;

  /** @param sharing null: every read goes to the database */
  constructor(
    private readonly pool: Pool,
    private readonly shows: ShowRepository,
    private readonly bookings: BookingRepository,
    private readonly idempotency: IdempotencyService,
    private readonly plans: SeatPlans,
    private readonly catalogues: ShowCatalogues,
    private readonly showVersions: ShowVersions,
    /** DEFAULT_CURRENCY: the currency of a show created without one. */
    private readonly defaultCurrency: string,
    sharing: ShowReadSharing | null = null,
  ) {
    const canShare = sharing ? sharing.current : () => false;
    const maxAgeMs = sharing?.maxAgeMs ?? 0;
    this.showReads = new SharedReads({
      read: (id) => this.shows.findFresh(id),
      version: (id) => this.showVersions.version(id),
      canShare,
      maxAgeMs,
      maxKeys: MAX_SHARED_SHOWS,
    });
    // A page holds many shows: any change to any show is a new page.
    this.pageReads = new SharedReads({
      read: (key) => this.readPage(key),
      version: () => this.showVersions.latest(),
      canShare,
      maxAgeMs,
      maxKeys: MAX_SHARED_PAGES,
    });
    this.seatMapReads = new SharedReads({
      read: (id) => this.readSeats(id),
      version: (id) => this.showVersions.version(id),
      canShare,
      maxAgeMs,
      maxKeys: MAX_SHARED_SEAT_MAPS,
    });
  }

  /**
   * Changes a show (admin), under its lock: title, description, a future start_time, the
   * checkout settings, its ticket types (added, changed, retired), and its seats (general
   * admission: total_seats, never below the seats held, sold and blocked; seated: a new seat_map
   * keeping every seat in use).
   */
  async update(id: string, changes: ShowChanges): Promise<Show> {
    const { seat_map: seatMap, ticket_types: typeChanges, ...fields } = changes;
    const newPlan = seatMap === undefined ? null : SeatPlan.fromInput(seatMap);
    try {
      return await withTransaction(this.pool, async (client) => {
        const show = await this.shows.lockInventory(client, id);
        if (!show) throw new AppError('show_not_found');
        // The map of the locked show: it numbers the seats the new map renumbers.
        const plan = await this.plans.underLock(client, id, show.mapVersion);
        if (plan && fields.total_seats !== undefined) {
          throw new AppError('show_seated', 'A seated show has the seats of its map: change seat_map instead');
        }
        if (!plan && newPlan) {
          throw new AppError('show_not_seated', 'The show has general admission: change total_seats instead');
        }
        // A seat whose hold lapsed is not in use.
        await this.bookings.expireOverdue(client, id, show.now);
        if (fields.total_seats !== undefined) {
          const inUse = await this.shows.seatsInUse(client, id);
          if (fields.total_seats < inUse) {
            throw new AppError('seats_in_use', `${inUse} seat(s) are held, sold or blocked`, { seats_in_use: inUse });
          }
        }
        const outcome = await this.shows.update(client, id, fields, show.now);
        if (outcome === 'start_time_in_past')
          throw new AppError('start_time_in_past', 'start_time must be in the future');
        if (outcome === 'sales_window') {
          throw new AppError('validation_failed', 'sales_end must be after sales_start', {
            errors: [{ path: 'body/sales_end', message: 'must be after sales_start' }],
          });
        }
        if (newPlan && plan) await this.remap(client, id, plan, newPlan);
        if (typeChanges || newPlan) {
          // Checked against the map the show has after this change: a new map may drop a
          // category some type names.
          const known = await this.shows.ticketTypes(client, id);
          const types = typeChanges ? applyTicketTypeChanges(known, typeChanges, '/ticket_types') : known;
          checkTicketTypes(types, newPlan ?? plan, '/ticket_types');
          if (typeChanges) await this.shows.updateTicketTypes(client, id, types);
        }
        return (await this.shows.findById(id, client))!;
      });
    } finally {
      if (newPlan) this.plans.forget(id);
      if (typeChanges) this.catalogues.forget(id);
      this.showVersions.changed(id);
    }
  }

  /**
   * A seated show's new map: every seat keeps its id; seats of the old map missing from the new
   * one must be free (409 seats_in_use naming them); the seats are renumbered in the new map's
   * order, with their bookings and blocks, and seat_map_version moves so that every API process
   * reads the new map before it chooses seats again.
   */
  private async remap(client: PoolClient, id: string, before: SeatPlan, after: SeatPlan): Promise<void> {
    const moves: { from: number; to: number }[] = [];
    const removed: number[] = [];
    for (let seatNo = 0; seatNo < before.total; seatNo++) {
      const to = after.seatNo(before.seatId(seatNo));
      if (to === undefined) removed.push(seatNo);
      else moves.push({ from: seatNo, to });
    }
    const inUse = await this.shows.seatsNotFree(client, id, removed);
    if (inUse.length > 0) {
      const ids = inUse.map((seatNo) => before.seatId(seatNo));
      throw new AppError('seats_in_use', `Held, sold or blocked: ${ids.slice(0, 20).join(', ')}`, {
        seat_ids_in_use: ids,
      });
    }
    await this.shows.remap(client, id, after, moves, removed);
  }

  /** The show's seats and bookings, from one snapshot (admin). */
  async summary(id: string): Promise<ShowSummary> {
    const summary = await this.shows.summary(id);
    if (!summary) throw new AppError('show_not_found');
    return summary;
  }

  /** The show's bookings in the order they were made, filtered, keyset-paginated (admin). */
  async bookingsOf(
    id: string,
    filter: { status?: BookingStatus | undefined; customer_ref?: string | undefined },
    limit: number,
    cursor: string | undefined,
  ): Promise<BookingPage> {
    const after = cursor === undefined ? null : decodeCursor(cursor);
    if ((await this.plans.get(id)) === undefined) throw new AppError('show_not_found');
    const rows = await this.bookings.listForShow(
      id,
      { status: filter.status, customerRef: filter.customer_ref },
      limit + 1,
      after && { createdAt: after.startTime, id: after.id },
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const bookings: Booking[] = page.map((row) => {
      const booking: Booking & { createdAtExact?: string } = { ...row };
      delete booking.createdAtExact;
      return booking;
    });
    return rows.length > limit && last
      ? { bookings, nextCursor: encodeKeyset(last.createdAtExact, last.id) }
      : { bookings };
  }

  /** With a recorder, the show and the answer to its Idempotency-Key commit together. */
  async create(show: NewShow, recorder?: Recorder<Show>): Promise<Show> {
    let created: Show | undefined;
    try {
      created = recorder
        ? await withTransaction(this.pool, async (client) => {
            const inserted = await this.insert(show, client);
            await this.idempotency.recordWithin(client, recorder, inserted);
            return inserted;
          })
        : await this.insert(show);
      if (recorder) recorder.claim.recorded = true; // committed with the show
      return created;
    } finally {
      // A new show on the pages of shows, and its own reads; some show, when reading it back
      // failed after it may have committed.
      if (created) this.showVersions.changed(created.id);
      else this.showVersions.changedSomeShow();
    }
  }

  private async insert(show: NewShow, client?: PoolClient): Promise<Show> {
    if ((show.total_seats === undefined) === (show.seat_map === undefined)) {
      throw new AppError('validation_failed', 'Send either total_seats (general admission) or seat_map, not both', {
        errors: [{ path: 'body', message: 'must have exactly one of total_seats and seat_map' }],
      });
    }
    if (show.sales_start && show.sales_end && Date.parse(show.sales_end) <= Date.parse(show.sales_start)) {
      throw new AppError('validation_failed', 'sales_end must be after sales_start', {
        errors: [{ path: 'body/sales_end', message: 'must be after sales_start' }],
      });
    }
    const plan = show.seat_map ? SeatPlan.fromInput(show.seat_map) : null;
    const currency = show.currency ?? this.defaultCurrency;
    checkCurrency(currency);
    const types = (show.ticket_types ?? [DEFAULT_TICKET_TYPE]).map(storedTicketType);
    checkTicketTypes(types, plan, '/ticket_types');
    const created = await this.shows.create({ ...show, currency }, plan, types, client);
    if (!created) throw new AppError('start_time_in_past', 'start_time must be in the future');
    return created;
  }

  /** The show with its available seats; the same object to every request until it changes. */
  async get(id: string): Promise<Show> {
    const show = await this.showReads.get(id);
    if (!show) throw new AppError('show_not_found');
    return show;
  }

  /**
   * A seated show's map with every seat's state, from one snapshot. During an on-sale thousands
   * of browsers poll the map of the same show: they share one read per change of the show, so
   * that reading 100,000 seats does not compete with the holds for the database.
   */
  seats(id: string): Promise<SeatMapState> {
    return this.seatMapReads.get(id);
  }

  private async readSeats(id: string): Promise<FreshRead<SeatMapState>> {
    const now = await this.shows.seatStatesNow(id);
    if (!now) {
      if ((await this.shows.seating(id)) === undefined) throw new AppError('show_not_found');
      throw new AppError('show_not_seated', 'The show has general admission: it has no seat map');
    }
    let next = 0;
    const map: SeatMapState = {
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
    return { value: map, freshForMs: now.fresh_for_ms ?? Infinity };
  }

  /** A page of shows by start time; the same object to every request until a show changes. */
  list(limit: number, cursor: string | undefined): Promise<ShowPage> {
    // Checked before the shared read: a bad cursor is the client's, never shared.
    if (cursor !== undefined) decodeCursor(cursor);
    return this.pageReads.get(JSON.stringify([limit, cursor ?? null]));
  }

  private async readPage(key: string): Promise<FreshRead<ShowPage>> {
    const [limit, cursor] = JSON.parse(key) as [number, string | null];
    const after = cursor === null ? null : decodeCursor(cursor);
    // One row more than asked tells whether a next page exists without a count query.
    const { value: rows, freshForMs } = await this.shows.list(limit + 1, after);
    const shows = rows.slice(0, limit);
    const last = shows[shows.length - 1];
    return { freshForMs, value: rows.length > limit && last ? { shows, nextCursor: encodeCursor(last) } : { shows } };
  }
}
