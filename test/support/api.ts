import type { FastifyInstance } from 'fastify';
import type {
  Booking,
  Hold,
  HoldRequest,
  NewBlock,
  NewComp,
  NewShow,
  SeatBlock,
  SeatMapState,
  Show,
  ShowChanges,
  ShowSummary,
} from '../../client/src/index.js';
import { ADMIN_KEY, expectProblem } from '../helpers.js';

/**
 * The tests' vocabulary for the API: what a show's admin and its buyers do, typed from the
 * generated client (client/src/index.ts), over app.inject (no port). Each verb answers the raw
 * answer, for tests of statuses and problems; the past-tense forms (`held`, `confirmed`…) assert
 * the success and give its body.
 */

/** An answer as a test reads it: its status, headers and body, typed as the route documents it. */
export interface Answer<T> {
  statusCode: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
  json(): T;
}

/** A booking a buyer holds: its id and, when they have it, its hold token. */
export type BookingRef = { id: string; hold_token?: string };

/** Who acts on a booking: the token holder (the default), the admin, or whoever sends these headers. */
export type Actor = 'buyer' | 'admin' | Record<string, string>;

export type CustomerAction = 'confirm' | 'cancel' | 'extend';

export const admin = { authorization: `Bearer ${ADMIN_KEY}` };

/** A well-formed id no show or booking has. */
export const unknownId = '00000000-0000-4000-8000-000000000000';

export function futureIso(minutesAhead = 60 * 24): string {
  return new Date(Date.now() + minutesAhead * 60_000).toISOString();
}

/** A seat map of one section (`S` unless named), each row given as `[label, seats]` or `[label, seats, category]`. */
export function seatMap(rows: [string, number, string?][], section = 'S'): NonNullable<NewShow['seat_map']> {
  return {
    sections: [
      {
        name: section,
        rows: rows.map(([label, seats, category]) => ({ label, seats, ...(category ? { category } : {}) })),
      },
    ],
  };
}

export class Api {
  constructor(private readonly app: FastifyInstance) {}

  private call<T>(method: string, url: string, payload?: unknown, headers: Record<string, string> = {}) {
    return this.app.inject({
      method: method as 'GET',
      url,
      headers,
      ...(payload === undefined ? {} : { payload: payload as object }),
    }) as Promise<Answer<T>>;
  }

  // ── the admin's shows ──

  /** POST /api/shows: a show starting tomorrow, 10 seats of general admission unless told otherwise. */
  createShow(body: Partial<NewShow> = {}, headers: Record<string, string> = admin) {
    const seats = body.seat_map === undefined ? { total_seats: body.total_seats ?? 10 } : {};
    return this.call<Show>(
      'POST',
      '/api/shows',
      { title: 'Hamlet', start_time: futureIso(), ...seats, ...body },
      headers,
    );
  }

  /** A show created (201), as the API answered it. */
  async show(body: Partial<NewShow> = {}): Promise<Show> {
    return created(await this.createShow(body), 201);
  }

  /** A seated show of these rows (see seatMap), with these settings. */
  seatedShow(rows: [string, number, string?][], settings: Partial<NewShow> = {}): Promise<Show> {
    return this.show({ title: 'Seated', seat_map: seatMap(rows), ...settings });
  }

  getShow(showId: string) {
    return this.call<Show>('GET', `/api/shows/${showId}`);
  }

  /** The show as GET /api/shows/:id answers it now (200). */
  async showNow(showId: string): Promise<Show> {
    return created(await this.getShow(showId), 200);
  }

  /** Any GET, by the admin unless other headers are given. */
  get<T = any>(url: string, headers: Record<string, string> = admin) {
    return this.call<T>('GET', url, undefined, headers);
  }

  patchShow(
    showId: string,
    changes: ShowChanges | Record<string, unknown> | unknown[],
    headers: Record<string, string> = admin,
  ) {
    return this.call<Show>('PATCH', `/api/shows/${showId}`, changes, headers);
  }

  /** The seats left, as GET /api/shows/:id counts them. */
  async available(showId: string): Promise<number> {
    return created(await this.getShow(showId), 200).available_seats;
  }

  seats(showId: string) {
    return this.call<SeatMapState>('GET', `/api/shows/${showId}/seats`);
  }

  /** Each row's seat states (F, H, S, B), by `<section>-<row>`. */
  async seatStates(showId: string): Promise<Record<string, string>> {
    const map = created(await this.seats(showId), 200);
    return Object.fromEntries(
      map.sections.flatMap((section) => section.rows.map((row) => [`${section.name}-${row.label}`, row.status])),
    );
  }

  summary(showId: string, headers: Record<string, string> = admin) {
    return this.call<ShowSummary>('GET', `/api/shows/${showId}/summary`, undefined, headers);
  }

  bookingsOf(showId: string, query = '', headers: Record<string, string> = admin) {
    return this.call<Booking[]>('GET', `/api/shows/${showId}/bookings${query}`, undefined, headers);
  }

  // ── house seats and comps ──

  block(showId: string, body: NewBlock | Record<string, unknown>, headers: Record<string, string> = admin) {
    return this.call<SeatBlock>('POST', `/api/shows/${showId}/blocks`, body, headers);
  }

  async blocked(showId: string, body: NewBlock): Promise<SeatBlock> {
    return created(await this.block(showId, body), 201);
  }

  blocks(showId: string, headers: Record<string, string> = admin) {
    return this.call<SeatBlock[]>('GET', `/api/shows/${showId}/blocks`, undefined, headers);
  }

  release(showId: string, blockId: string, headers: Record<string, string> = admin) {
    return this.call<null>('DELETE', `/api/shows/${showId}/blocks/${blockId}`, undefined, headers);
  }

  comp(showId: string, body: NewComp | Record<string, unknown>, headers: Record<string, string> = admin) {
    return this.call<Booking>('POST', `/api/shows/${showId}/comps`, body, headers);
  }

  // ── a buyer's bookings ──

  /** POST /api/shows/:id/book (no body: one seat). */
  hold(showId: string, body?: HoldRequest | Record<string, unknown>, headers: Record<string, string> = {}) {
    return this.call<Hold>('POST', `/api/shows/${showId}/book`, body, headers);
  }

  /** A hold granted (201), with its token. */
  async held(showId: string, body?: HoldRequest | Record<string, unknown>): Promise<Hold> {
    return created(await this.hold(showId, body), 201);
  }

  /** POST /api/bookings/:id/{confirm,cancel,extend}, by the token holder unless another actor is named. */
  act(action: CustomerAction, booking: BookingRef, by: Actor = 'buyer', headers: Record<string, string> = {}) {
    return this.call<Booking>('POST', `/api/bookings/${booking.id}/${action}`, undefined, {
      ...actorHeaders(booking, by),
      ...headers,
    });
  }

  confirm(booking: BookingRef, by: Actor = 'buyer', headers: Record<string, string> = {}) {
    return this.act('confirm', booking, by, headers);
  }

  cancel(booking: BookingRef, by: Actor = 'buyer', headers: Record<string, string> = {}) {
    return this.act('cancel', booking, by, headers);
  }

  extend(booking: BookingRef, by: Actor = 'buyer', headers: Record<string, string> = {}) {
    return this.act('extend', booking, by, headers);
  }

  /** A booking confirmed (200). */
  async confirmed(booking: BookingRef, by: Actor = 'buyer'): Promise<Booking> {
    return created(await this.confirm(booking, by), 200);
  }

  /** A hold granted and confirmed: seats sold. The hold as granted (its token, to act on it later). */
  async sold(showId: string, body?: HoldRequest | Record<string, unknown>): Promise<Hold> {
    const hold = await this.held(showId, body);
    await this.confirmed(hold);
    return hold;
  }

  getBooking(booking: BookingRef, by: Actor = 'buyer') {
    return this.call<Booking>('GET', `/api/bookings/${booking.id}`, undefined, actorHeaders(booking, by));
  }

  /** Asserts a problem+json answer with this status and code (and no internals); its body. */
  problem(answer: Answer<unknown>, status: number, code: string) {
    return expectProblem(answer, status, code);
  }
}

function actorHeaders(booking: BookingRef, by: Actor): Record<string, string> {
  if (by === 'admin') return admin;
  if (by === 'buyer') return booking.hold_token === undefined ? {} : { 'x-hold-token': booking.hold_token };
  return by;
}

/** A seat map's seat ids in map order (sections, rows, seats left to right: `${section}-${label}-${n}`), the seat_no order of the seats table. */
export function seatIdsOf(map: NonNullable<NewShow['seat_map']>): string[] {
  return map.sections.flatMap((section) =>
    section.rows.flatMap((row) => Array.from({ length: row.seats }, (_, i) => `${section.name}-${row.label}-${i + 1}`)),
  );
}

/** The body of a success with this status; the test fails with the answer otherwise. */
export function created<T>(answer: Answer<T>, status: number): T {
  if (answer.statusCode !== status) {
    throw new Error(`expected ${status}, got ${answer.statusCode}: ${answer.body}`);
  }
  return answer.json();
}

/** A row of a seat map as POST /api/shows takes it. */
export interface SeatRowInput {
  label: string;
  seats: number;
  category?: string;
}

/** A show of general admission (10 seats unless told), created through `app`. */
export function createShow(app: FastifyInstance, body: Partial<NewShow> = {}): Promise<Show> {
  return new Api(app).show(body);
}

/** A seated show of one section (`Stalls` unless named) with these rows; its id. */
export async function createSeatedShow(
  app: FastifyInstance,
  rows: SeatRowInput[] = [{ label: 'A', seats: 4 }],
  section = 'Stalls',
): Promise<string> {
  const show = await new Api(app).show({ title: 'Seated', seat_map: { sections: [{ name: section, rows }] } });
  return show.id;
}

/** A hold of `seats` granted on the show, through `app`. */
export function hold(app: FastifyInstance, showId: string, seats = 1): Promise<Hold> {
  return new Api(app).held(showId, { seats });
}
