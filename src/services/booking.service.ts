import { withTransaction, type Pool } from '../db/pool.js';
import { AppError } from '../errors.js';
import type { Booking, BookingRepository, StoredBooking } from '../repositories/booking.repository.js';
import type { ShowRepository } from '../repositories/show.repository.js';
import { secretMatches } from '../secrets.js';
import { decide, type CustomerAction } from './booking-rules.js';
import type { GrantedHold, HoldEngine } from './hold-engine.js';
import type { IdempotencyService, Recorder } from './idempotency.service.js';

/** Who is asking: the admin key, a hold token, or credentials that are neither. */
export interface Caller {
  isAdmin: boolean;
  holdToken?: string;
  /** Some credential was sent, even if it turned out to be wrong (403 rather than 401). */
  presentedCredentials: boolean;
}

/** A booking as a customer sees it: a PENDING hold past its deadline is EXPIRED, swept or not. */
function asSeen(booking: StoredBooking): Booking {
  const { id, show_id, seats, created_at, expires_at, updated_at } = booking;
  return {
    id,
    show_id,
    seats,
    status: booking.overdue ? 'EXPIRED' : booking.status,
    created_at,
    expires_at,
    updated_at,
  };
}

export class BookingService {
  constructor(
    private readonly pool: Pool,
    private readonly shows: ShowRepository,
    private readonly bookings: BookingRepository,
    private readonly engine: HoldEngine,
    private readonly idempotency: IdempotencyService,
  ) {}

  hold(showId: string, seats: number, recorder?: Recorder<GrantedHold>): Promise<GrantedHold> {
    return this.engine.hold(showId, seats, recorder);
  }

  async get(id: string, caller: Caller): Promise<Booking> {
    return asSeen(await this.authorized(id, caller));
  }

  confirm(id: string, caller: Caller, recorder?: Recorder<Booking>): Promise<Booking> {
    return this.act('confirm', id, caller, recorder);
  }

  cancel(id: string, caller: Caller, recorder?: Recorder<Booking>): Promise<Booking> {
    return this.act('cancel', id, caller, recorder);
  }

  private async act(
    action: CustomerAction,
    id: string,
    caller: Caller,
    recorder: Recorder<Booking> | undefined,
  ): Promise<Booking> {
    const { show_id: showId } = await this.authorized(id, caller);
    const result = await withTransaction(this.pool, async (client) => {
      await this.shows.lockInventory(client, showId);
      // Read again under the show's lock: no other transition of this booking can run now.
      const current = (await this.bookings.findById(id, client))!;
      const decision = decide(action, current.status, current.overdue);
      let booking: Booking;
      switch (decision.kind) {
        case 'transition': {
          const moved = await this.bookings.transition(client, id, decision.from, decision.to);
          if (!moved) throw new Error(`booking ${id} left ${decision.from} while its show was locked`);
          booking = moved;
          break;
        }
        case 'unchanged':
          booking = asSeen(current);
          break;
        case 'expire_then_reject':
          // Commit the expiry (the seats go back on sale now), then answer with the error.
          await this.bookings.expireOverdue(client, showId);
          return { error: decision.error };
        case 'reject':
          return { error: decision.error };
      }
      if (recorder) await this.idempotency.recordWithin(client, recorder, booking);
      return { booking };
    });
    if (result.error) throw result.error;
    return result.booking;
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
