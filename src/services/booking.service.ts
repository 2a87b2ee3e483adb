import type { Booking } from '../domain/booking.js';
import type { CustomerAction } from '../domain/booking-lifecycle.js';
import { AppError } from '../errors.js';
import type { BookingRepository } from '../repositories/booking.repository.js';
import { secretMatches } from '../secrets.js';
import type { TicketAsk } from '../domain/ticket-types.js';
import type { GrantedHold, LaneOptions, ShowLanes } from './show-lanes/show-lanes.js';
import type { SeatPlans } from './seat-plans.service.js';

/** What a hold asks for (the body of POST /api/shows/:id/book). */
export interface HoldAsk {
  /** How many (general admission, or best available on a seated show); 1 when nothing else is said. */
  seats?: number | undefined;
  /** Exactly these seats (seated shows). */
  seat_ids?: string[] | undefined;
  category?: string | undefined;
  section?: string | undefined;
  allow_split?: boolean | undefined;
  customer_ref?: string | undefined;
  /** The tickets by type (instead of `seats`); with seat_ids, as many as there are seats. */
  tickets?: TicketAsk[] | undefined;
}

/** Who is asking: the admin key, a hold token, or credentials that are neither. */
export interface Caller {
  isAdmin: boolean;
  holdToken?: string | undefined;
  /** Some credential was sent, even if it turned out to be wrong (403 rather than 401). */
  presentedCredentials: boolean;
}

/**
 * Holds, confirms, extends and cancels. Every one of them changes a show's seats or holds, so
 * every one goes through the show's lane (group commit under the show's lock); only reads go straight to
 * the database.
 */
export class BookingService {
  constructor(
    private readonly bookings: BookingRepository,
    private readonly lanes: ShowLanes,
    private readonly plans: SeatPlans,
    /** MAX_SEATS_PER_BOOKING: the most tickets one hold may have. */
    private readonly maxSeatsPerBooking: number,
  ) {}

  async hold(showId: string, ask: HoldAsk, options?: LaneOptions<GrantedHold>): Promise<GrantedHold> {
    // Known after a show's first hold: the hot path does not wait for a promise (null is general admission).
    const known = this.plans.known(showId);
    const plan = known === undefined ? await this.plans.get(showId) : known;
    if (plan === undefined) throw new AppError('show_not_found');
    const { seat_ids: seatIds, category, section, allow_split: allowSplit, customer_ref: customerRef, tickets } = ask;
    const count = ticketCount(ask, this.maxSeatsPerBooking);
    if (plan === null) {
      if (seatIds !== undefined || category !== undefined || section !== undefined || allowSplit !== undefined) {
        throw new AppError(
          'show_not_seated',
          'The show has general admission: ask for a number of seats only (seat_ids, category, section and allow_split are for seated shows)',
        );
      }
      return this.lanes.hold(showId, { seats: count, tickets, customerRef }, options);
    }
    // Seated: what the ids, category and section name is read in the show's lane, on its current map.
    if (seatIds !== undefined) {
      if (ask.seats !== undefined || category !== undefined || section !== undefined || allowSplit !== undefined) {
        throw new AppError('validation_failed', 'seat_ids names the seats: send it alone', {
          errors: [
            { path: 'body', message: 'seat_ids cannot be combined with seats, category, section or allow_split' },
          ],
        });
      }
      return this.lanes.hold(showId, { seats: seatIds.length, tickets, seating: { seatIds }, customerRef }, options);
    }
    const seating = { best: { count, category, section, allowSplit } };
    return this.lanes.hold(showId, { seats: count, tickets, seating, customerRef }, options);
  }

  async get(id: string, caller: Caller): Promise<Booking> {
    const booking: Booking & { hold_token_hash?: Buffer } = await this.authorized(id, caller);
    delete booking.hold_token_hash;
    return booking;
  }

  confirm(id: string, caller: Caller, options?: LaneOptions<Booking>): Promise<Booking> {
    return this.act('confirm', id, caller, options);
  }

  cancel(id: string, caller: Caller, options?: LaneOptions<Booking>): Promise<Booking> {
    return this.act('cancel', id, caller, options);
  }

  extend(id: string, caller: Caller, options?: LaneOptions<Booking>): Promise<Booking> {
    return this.act('extend', id, caller, options);
  }

  private async act(
    action: CustomerAction,
    id: string,
    caller: Caller,
    options: LaneOptions<Booking> | undefined,
  ): Promise<Booking> {
    const { show_id: showId } = await this.authorized(id, caller);
    return this.lanes.act(showId, action, id, options);
  }

  /** The booking as it is now (a lapsed hold is EXPIRED), if the caller may see and act on it. */
  private async authorized(id: string, caller: Caller): Promise<Booking & { hold_token_hash: Buffer }> {
    if (!caller.isAdmin && !caller.presentedCredentials) {
      throw new AppError('unauthorized', 'Send the hold token in X-Hold-Token, or the admin key as a Bearer token');
    }
    const booking = await this.bookings.findById(id);
    if (!booking) throw new AppError('booking_not_found');
    const allowed =
      caller.isAdmin || (caller.holdToken !== undefined && secretMatches(caller.holdToken, booking.hold_token_hash));
    if (!allowed) throw new AppError('forbidden', 'The hold token does not belong to this booking');
    return booking;
  }
}

/**
 * How many seats a hold takes: `seats` (1 when nothing is said), or the tickets' quantities, which
 * must then be as many as the seat_ids given (400 otherwise), and at most MAX_SEATS_PER_BOOKING.
 */
function ticketCount(ask: HoldAsk, max: number): number {
  const invalid = (path: string, message: string) =>
    new AppError('validation_failed', `${path} ${message}`, { errors: [{ path: `body/${path}`, message }] });
  if (ask.tickets === undefined) return ask.seats ?? ask.seat_ids?.length ?? 1;
  if (ask.seats !== undefined) throw invalid('tickets', 'cannot be sent with seats: the tickets say how many');
  const count = ask.tickets.reduce((sum, line) => sum + line.quantity, 0);
  if (count > max) throw invalid('tickets', `must add up to at most ${max} tickets`);
  if (ask.seat_ids !== undefined && count !== ask.seat_ids.length) {
    throw invalid('tickets', `must add up to the ${ask.seat_ids.length} seat(s) of seat_ids, not ${count}`);
  }
  return count;
}
