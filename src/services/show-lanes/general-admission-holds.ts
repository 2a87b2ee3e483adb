import type { Pool, PoolClient } from '../../adapters/postgres/pool.js';
import { newBookingId, type Booking } from '../../domain/booking.js';
import { AppError } from '../../errors.js';
import { defaultTickets, priceHold, type Catalogue, type PricedHold } from '../../domain/ticket-types.js';
import {
  DB_EXPIRES,
  DB_NOW,
  type BookingRepository,
  type GroupHold,
  type GroupHoldResult,
} from '../../repositories/booking.repository.js';
import type { DbInstant } from '../../repositories/show.repository.js';
import { hashSecret, newTokens } from '../../secrets.js';
import type { IdempotencyService } from '../idempotency.service.js';
import type { ShowCatalogues } from '../show-catalogues.service.js';
import type { HoldBatches } from './hold-batches.js';
import { gateError, markCommitted, unavailable, withCustomer, type GroupTally, type HoldRequest } from './requests.js';

export interface GeneralAdmissionHoldsOptions {
  bookings: BookingRepository;
  catalogues: ShowCatalogues;
  idempotency: IdempotencyService;
  holdTtlSeconds: number;
  batches: HoldBatches;
}

/** Times a group is priced before its show's ticket types are deemed to change without end. */
const MAX_PRICINGS = 5;

/** Each request priced from the show's ticket types, or why it is refused. */
function priceEach(catalogue: Catalogue, holds: HoldRequest[]): (PricedHold | AppError)[] {
  return holds.map((request) => {
    try {
      return priceHold(catalogue, request.tickets ?? defaultTickets(catalogue, request.seats));
    } catch (error) {
      if (error instanceof AppError) return error;
      throw error;
    }
  });
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
    const { bookings, idempotency, holdTtlSeconds, batches, catalogues } = this.options;
    let catalogue = await catalogues.get(showId);
    /** Whether the catalogue was read from the database during this group. */
    let catalogueIsCurrent = false;
    for (let attempt = 1; ; attempt++) {
      if (!catalogue) {
        for (const request of holds) request.outcome = { error: new AppError('show_not_found') };
        return [];
      }
      // Priced from the show's ticket types as this process knows them; the statement refuses the
      // group if they changed since (types_changed), and the group is priced again. A refusal is
      // made only on types read during this group: what this process remembers may be from before
      // another process added a type or raised a limit.
      const priced = priceEach(catalogue, holds);
      if (!catalogueIsCurrent && priced.some((price) => price instanceof AppError)) {
        catalogue = await catalogues.reload(showId);
        catalogueIsCurrent = true;
        continue;
      }
      holds.forEach((request, index) => {
        const price = priced[index];
        if (price instanceof AppError) request.outcome = { error: price };
      });
      const sent = holds.filter((_, index) => !(priced[index] instanceof AppError));
      const prices = priced.filter((price): price is PricedHold => !(price instanceof AppError));
      const tokens = newTokens(sent.length);
      const { currency } = catalogue;
      const requests: GroupHold[] = sent.map((request, index) => {
        const id = newBookingId(showId);
        const holdToken = tokens[index]!;
        const { recorder } = request;
        const { lines, total } = prices[index]!;
        // The answer as the route writes it, with the instants the database decides left as placeholders.
        const provisional = {
          booking: withCustomer(
            {
              id,
              show_id: showId,
              seats: request.seats,
              currency,
              lines,
              total,
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
          lines,
          total,
          tokenHash: hashSecret(holdToken),
          customerRef: request.customerRef,
          answer: recorder && {
            ref: recorder.claim,
            response: idempotency.toRecord(recorder.claim, recorder.answer(provisional)),
          },
        };
      });
      if (requests.length === 0) {
        if (now === null) markCommitted(holds);
        return [];
      }
      let results =
        now === null
          ? await batches.hold(showId, requests, catalogue)
          : await bookings.holdGroup(db, showId, requests, holdTtlSeconds, now, catalogue);
      // Another transaction held the show when its batch came by: on its own, it waits for the lock.
      if (results[0]?.outcome === 'show_busy') {
        results = await bookings.holdGroup(db, showId, requests, holdTtlSeconds, now, catalogue);
      }
      if (results[0]?.outcome === 'types_changed') {
        if (attempt >= MAX_PRICINGS) {
          // Changed again and again while this group waited: nothing was written; it may try again.
          for (const request of sent) request.outcome = { error: unavailable() };
          if (now === null) markCommitted(holds);
          return [];
        }
        catalogue = await catalogues.reload(showId);
        catalogueIsCurrent = true;
        continue;
      }
      const held = this.answer(sent, results, tokens, (index) => requests[index]!.lines[0]!.type, tally);
      if (now === null) markCommitted(holds);
      return held;
    }
  }

  /** Sets each request's outcome from its result; returns the holds written. */
  private answer(
    holds: HoldRequest[],
    results: GroupHoldResult[],
    tokens: string[],
    typeOf: (index: number) => string,
    tally: GroupTally,
  ): Booking[] {
    tally.reclaim += results[0]?.reclaimed ?? 0;
    const held: Booking[] = [];
    // Built only when someone is refused: capturing a stack costs every group otherwise.
    const soldOut = new Map<string, AppError>();
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
        case 'sold_out': {
          const type = typeOf(index);
          let error = soldOut.get(type);
          if (!error) {
            error = new AppError('sold_out', `Only ${available} seat(s) are available`, {
              available_seats: available,
              ticket_type: type,
              available,
            });
            soldOut.set(type, error);
          }
          request.outcome = { error };
          break;
        }
        case 'show_busy':
        case 'types_changed':
          throw new Error(`hold_group answered ${outcome} for one request of a group`);
        case 'show_started':
        case 'taken_over':
        case 'show_not_found':
        case 'sales_not_open':
        case 'sales_closed':
        case 'type_not_on_sale':
        case 'customer_ref_required':
        case 'customer_limit':
          request.outcome = { error: gateError(outcome, result) };
      }
    });
    return held;
  }
}
