import type { Pool, PoolClient } from '../../adapters/postgres/pool.js';
import { newBookingId, type Booking } from '../../domain/booking.js';
import { AppError } from '../../errors.js';
import { DB_EXPIRES, DB_NOW, type BookingRepository, type GroupHold } from '../../repositories/booking.repository.js';
import type { DbInstant } from '../../repositories/show.repository.js';
import { hashSecret, newTokens } from '../../secrets.js';
import type { IdempotencyService } from '../idempotency.service.js';
import type { HoldBatches } from './hold-batches.js';
import { gateError, markCommitted, withCustomer, type GroupTally, type HoldRequest } from './requests.js';

export interface GeneralAdmissionHoldsOptions {
  bookings: BookingRepository;
  idempotency: IdempotencyService;
  holdTtlSeconds: number;
  batches: HoldBatches;
}

/**
 * The holds of a general-admission show's group, decided and written by one statement
 * (core.hold_group): the gate, then first come first served and never partial, lapsed holds
 * expired only when seats are short, keyed answers recorded with their holds. Tokens are drawn
 * before, for every request: the database decides who wins.
 */
export class GeneralAdmissionHolds {
  constructor(private readonly options: GeneralAdmissionHoldsOptions) {}

  /**
   * Decides `holds`: on their own (now null: one statement, alone or batched with other shows'
   * groups, committed when it returns), or inside a transaction that holds the show's lock (at its
   * instant). Sets each request's outcome; returns the holds written.
   */
  async grant(
    db: Pool | PoolClient,
    showId: string,
    holds: HoldRequest[],
    now: DbInstant | null,
    tally: GroupTally,
  ): Promise<Booking[]> {
    const { bookings, idempotency, holdTtlSeconds, batches } = this.options;
    const tokens = newTokens(holds.length);
    const requests: GroupHold[] = holds.map((request, index) => {
      const id = newBookingId(showId);
      const holdToken = tokens[index]!;
      const { recorder } = request;
      // The answer as the route writes it, with the instants the database decides left as placeholders.
      const provisional = {
        booking: withCustomer(
          {
            id,
            show_id: showId,
            seats: request.seats,
            status: 'PENDING' as const,
            created_at: DB_NOW,
            expires_at: DB_EXPIRES,
            updated_at: DB_NOW,
          },
          request.customerRef,
        ),
        holdToken,
      };
      return {
        id,
        seats: request.seats,
        tokenHash: hashSecret(holdToken),
        customerRef: request.customerRef,
        answer: recorder && {
          ref: recorder.claim,
          response: idempotency.toRecord(recorder.claim, recorder.answer(provisional)),
        },
      };
    });
    let results =
      now === null
        ? await batches.hold(showId, requests)
        : await bookings.holdGroup(db, showId, requests, holdTtlSeconds, now);
    // Another transaction held the show when its batch came by: on its own, it waits for the lock.
    if (results[0]?.outcome === 'show_busy') {
      results = await bookings.holdGroup(db, showId, requests, holdTtlSeconds, now);
    }
    tally.reclaim += results[0]?.reclaimed ?? 0;
    const held: Booking[] = [];
    let soldOut: AppError | undefined;
    holds.forEach((request, index) => {
      const result = results[index]!;
      const { outcome, booking, available } = result;
      switch (outcome) {
        case 'held':
          request.outcome = {
            value: { booking: withCustomer(booking!, request.customerRef), holdToken: tokens[index]! },
          };
          held.push(booking!);
          break;
        case 'sold_out':
          // Built only when someone is refused: capturing a stack costs every group otherwise.
          soldOut ??= new AppError('sold_out', `Only ${available} seat(s) are available`, {
            available_seats: available,
          });
          request.outcome = { error: soldOut };
          break;
        case 'show_busy':
          throw new Error('hold_group answered show_busy without SKIP LOCKED');
        case 'show_started':
        case 'taken_over':
        case 'show_not_found':
        case 'sales_not_open':
        case 'sales_closed':
        case 'customer_ref_required':
        case 'customer_limit':
          request.outcome = { error: gateError(outcome, result) };
      }
    });
    if (now === null) markCommitted(holds);
    return held;
  }
}
