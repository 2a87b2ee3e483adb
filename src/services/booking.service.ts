import { bookingAsSeen, type Booking, type StoredBooking } from '../domain/booking.js';
import { AppError } from '../errors.js';
import type { BookingRepository } from '../repositories/booking.repository.js';
import { secretMatches } from '../secrets.js';
import type { CustomerAction } from './booking-rules.js';
import type { GrantedHold, LaneOptions, ShowLanes } from './show-lanes.js';

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
  ) {}

  hold(showId: string, seats: number, options?: LaneOptions<GrantedHold>): Promise<GrantedHold> {
    return this.lanes.hold(showId, seats, options);
  }

  async get(id: string, caller: Caller): Promise<Booking> {
    return bookingAsSeen(await this.authorized(id, caller));
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

  private async authorized(id: string, caller: Caller): Promise<StoredBooking> {
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
