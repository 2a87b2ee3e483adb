import { withTransaction, type Pool, type PoolClient } from '../../adapters/postgres/pool.js';
import { newBookingId, type Booking } from '../../domain/booking.js';
import { allocateBestAvailable, type BestAvailable } from '../../domain/seat-allocator.js';
import { unknownSeats, type SeatPlan } from '../../domain/seat-map.js';
import {
  categoriesFor,
  checkTickets,
  defaultTickets,
  priceHold,
  type Catalogue,
  type PricedHold,
  type TicketAsk,
} from '../../domain/ticket-types.js';
import { AppError } from '../../errors.js';
import {
  DB_EXPIRES,
  DB_NOW,
  type BookingRepository,
  type SeatGroupHold,
} from '../../repositories/booking.repository.js';
import type { DbInstant, ShowRepository } from '../../repositories/show.repository.js';
import { hashSecret, newTokens } from '../../secrets.js';
import type { IdempotencyService } from '../idempotency.service.js';
import type { SeatPlans } from '../seat-plans.service.js';
import type { ShowCatalogues } from '../show-catalogues.service.js';
import { ShowSeats } from './show-seats.js';
import {
  gateError,
  markCommitted,
  unavailable,
  withCustomer,
  type GroupTally,
  type HoldRequest,
  type SeatAsk,
} from './requests.js';

/** Most seated shows whose seat states this process keeps; the least recently used are dropped. */
const MAX_SEATED_SHOWS = 64;
/** A seated group chosen against seats or a map that changed meanwhile is chosen again, this many times at most. */
const MAX_SEAT_ATTEMPTS = 5;

export interface SeatedHoldsOptions {
  pool: Pool;
  shows: ShowRepository;
  bookings: BookingRepository;
  idempotency: IdempotencyService;
  holdTtlSeconds: number;
  plans: SeatPlans;
  catalogues: ShowCatalogues;
}

/** A seated request as one plan reads it: its seats by number, the best available, or why neither. */
type Resolved = { seatNos: number[] } | { best: BestAvailable } | { error: AppError; ofTypes?: true };

/**
 * The holds of a seated show's group. The seats of each request are chosen here, in arrival order,
 * from the show's seat states as this process knows them (chosen seats taken meanwhile: 409
 * seats_taken; no block free: 409 sold_out), numbered on the show's plan, then written by one
 * statement (core.hold_seats) that refuses the whole group if the show's seats changed since those
 * states were read, or its map since the plan was read:
 * - seats changed (`stale`): this catches up with the changes and chooses again, under the show's
 *   lock (one transaction) so that a busy second process cannot keep it stale;
 * - the map changed (`map_changed`): the plan is read again and the seats asked for are numbered
 *   on it, so a seat added by another process is held, never refused as unknown;
 * - a seat counted free that was not (`conflict`): every seat is read again.
 * Lapsed holds the statement expired give their seats back to the requests it refused.
 */
export class SeatedHolds {
  /** Seat states of the seated shows this process sells. */
  private readonly showSeats = new Map<string, ShowSeats>();

  constructor(private readonly options: SeatedHoldsOptions) {}

  /** Something other than this process's holds changed the show's seats: catch up before choosing. */
  changed(showId: string): void {
    const seats = this.showSeats.get(showId);
    if (seats) seats.needsRefresh = true;
  }

  /** These bookings left PENDING (confirmed, cancelled, expired): their deadlines free nothing now. */
  ended(showId: string, bookingIds: Iterable<string>): void {
    const seats = this.showSeats.get(showId);
    if (seats) for (const id of bookingIds) seats.forget(id);
  }

  /** A hold of the show was extended to `until` (ms). */
  extended(showId: string, bookingId: string, until: number): void {
    this.showSeats.get(showId)?.holdUntil(bookingId, until);
  }

  /** What this process knows of the show's seats may be wrong (a rollback): read them again next time. */
  forgetSeats(showId: string): void {
    this.showSeats.delete(showId);
  }

  /**
   * Decides `holds`: on their own (now null: each statement commits as it returns), or inside a
   * transaction that holds the show's lock (at its instant). Sets each request's outcome; returns
   * the holds written.
   */
  async grant(
    db: Pool | PoolClient,
    showId: string,
    holds: HoldRequest[],
    now: DbInstant | null,
    tally: GroupTally,
  ): Promise<Booking[]> {
    const { plans, catalogues } = this.options;
    const held: Booking[] = [];
    let plan = await plans.get(showId);
    let catalogue = await catalogues.get(showId);
    /** Whether the ticket types were read from the database during this group. */
    let catalogueIsCurrent = false;
    /** Whether the plan was read from the database during this group. */
    let planIsCurrent = false;
    let pending = holds;
    try {
      for (let attempt = 1; pending.length > 0; attempt++) {
        if (!plan || !catalogue) {
          for (const request of pending) request.outcome = { error: new AppError('show_not_found') };
          break;
        }
        if (attempt > MAX_SEAT_ATTEMPTS) {
          for (const request of pending) request.outcome = { error: unavailable() };
          break;
        }
        const resolved = pending.map((request) => typed(catalogue!, plan!, request));
        if (!catalogueIsCurrent && resolved.some((ask) => 'error' in ask && ask.ofTypes)) {
          // Refused on types this process remembers: another process may have added a type or
          // raised a limit since. Refusals are made on types read during this group.
          catalogue = await catalogues.reload(showId);
          catalogueIsCurrent = true;
          continue;
        }
        if (!planIsCurrent && resolved.some((ask) => 'error' in ask && !ask.ofTypes)) {
          // A seat id, category or section this plan does not know may be one a new map added
          // through another process: read the map again before answering 400.
          const current = await plans.reload(showId);
          planIsCurrent = true;
          if (current !== plan) {
            plan = current;
            continue;
          }
        }
        // Asks that name nothing on the show's current map are answered 400, without the database.
        pending = pending.filter((request, index) => {
          const ask = resolved[index]!;
          if (!('error' in ask)) return true;
          request.outcome = { error: ask.error };
          request.committed = true; // nothing to commit: the answer stands whatever the group does
          return false;
        });
        const asks = resolved.filter((ask): ask is Exclude<Resolved, { error: AppError }> => !('error' in ask));
        const tickets = pending.map((request) => ticketsOf(catalogue!, request));
        if (pending.length === 0) break;

        const seats = await this.seatsOf(db, showId, plan);
        if (seats === 'map_changed') {
          plan = await plans.reload(showId);
          planIsCurrent = true;
          continue;
        }
        seats.releaseOverdue(Date.now());
        const refusals = new Map<HoldRequest, AppError>();
        const chosen = pending.map((request, index) => {
          const seatNos = choose(seats, plan!, asks[index]!);
          if (Array.isArray(seatNos)) {
            seats.take(seatNos);
            return seatNos;
          }
          refusals.set(request, seatNos);
          return [];
        });
        // Priced on the seats chosen, in the order the tickets take them: the seats asked for as
        // asked, the best available left to right. Their categories are ones the types are sold in.
        const priced = chosen.map((seatNos, index) => {
          const ask = asks[index]!;
          const order = 'seatNos' in ask && seatNos.length > 0 ? ask.seatNos : seatNos;
          return seatNos.length === 0 ? NOT_HELD : priceOn(catalogue!, plan!, tickets[index]!, order);
        });
        const tokens = newTokens(pending.length);
        const requests = this.statementRequests(showId, plan, catalogue, pending, chosen, priced, tokens);
        const results = await this.options.bookings.holdSeats(
          db,
          showId,
          { map: plan.mapVersion, seats: seats.version },
          requests,
          this.options.holdTtlSeconds,
          now,
          catalogue,
        );
        const first = results[0]!;
        if (first.outcome === 'types_changed') {
          chosen.forEach((seatNos) => seats.release(seatNos));
          catalogue = await catalogues.reload(showId);
          catalogueIsCurrent = true;
          continue;
        }
        if (first.outcome === 'map_changed') {
          this.showSeats.delete(showId);
          plan = await plans.reload(showId);
          planIsCurrent = true;
          continue;
        }
        if (first.outcome === 'stale') {
          chosen.forEach((seatNos) => seats.release(seatNos));
          seats.needsRefresh = true;
          if (now === null) {
            // Another process changed the show's seats between the catch-up and the lock. Writes
            // there can go on and on, so the rest is decided under the show's lock, where the
            // catch-up and the statement see the same seats: it cannot be stale again.
            const rest = pending;
            const underLock = await withTransaction(this.options.pool, async (client) => {
              const lock = await this.options.shows.lockInventory(client, showId);
              if (!lock) {
                for (const request of rest) request.outcome = { error: new AppError('show_not_found') };
                return [];
              }
              return this.grant(client, showId, rest, lock.now, tally);
            });
            markCommitted(rest);
            return held.concat(underLock);
          }
          continue;
        }
        if (first.outcome === 'show_not_found') {
          for (const request of pending) request.outcome = { error: new AppError('show_not_found') };
          break;
        }
        seats.version = first.versionAfter!;
        const freed = first.freed ?? [];
        seats.release(freed);
        tally.reclaim += first.reclaimed;
        if (first.outcome === 'conflict') {
          // A seat counted free (a hold this process thought lapsed, extended elsewhere?) was
          // not: read every seat again (an extension changes no seat, so no version tells it).
          seats.reset();
          continue;
        }
        const again: HoldRequest[] = [];
        // Seats came free after the refusals were decided: those the statement reclaimed, and those
        // chosen for requests it then refused (a customer's limit, a taken-over key). The requests
        // refused for want of seats are chosen again.
        const cameFree =
          freed.length > 0 ||
          pending.some((_, index) => results[index]!.outcome !== 'held' && chosen[index]!.length > 0);
        pending.forEach((request, index) => {
          const result = results[index]!;
          const { outcome, booking } = result;
          if (outcome !== 'held') seats.release(chosen[index]!);
          switch (outcome) {
            case 'held':
              request.outcome = {
                value: { booking: withCustomer(booking!, request.customerRef), holdToken: tokens[index]! },
              };
              held.push(booking!);
              seats.holdUntil(booking!.id, booking!.expires_at.getTime(), chosen[index]);
              break;
            case 'refused':
              if (cameFree) again.push(request);
              else request.outcome = { error: refusals.get(request)! };
              break;
            case 'not_seated':
            case 'stale':
            case 'conflict':
            case 'map_changed':
            case 'types_changed':
              throw new Error(`hold_seats answered ${outcome} for one request of a group`);
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
        if (now === null) markCommitted(pending);
        pending = again;
      }
    } catch (error) {
      // The seat states may no longer match what the database has: read them again next time.
      this.showSeats.delete(showId);
      throw error;
    }
    return held;
  }

  /** The statement's requests: the seats chosen for each (none when refused), its token, its keyed answer. */
  private statementRequests(
    showId: string,
    plan: SeatPlan,
    catalogue: Catalogue,
    pending: HoldRequest[],
    chosen: number[][],
    priced: PricedHold[],
    tokens: string[],
  ): SeatGroupHold[] {
    const { idempotency } = this.options;
    return pending.map((request, index) => {
      const id = newBookingId(showId);
      const seatNos = chosen[index]!;
      const seatIds = seatNos.map((seatNo) => plan.seatId(seatNo));
      const { lines, total } = priced[index]!;
      const { recorder } = request;
      const provisional = {
        booking: withCustomer(
          {
            id,
            show_id: showId,
            seats: seatNos.length,
            currency: catalogue.currency,
            lines,
            total,
            seat_ids: seatIds,
            status: 'PENDING' as const,
            created_at: DB_NOW,
            expires_at: DB_EXPIRES,
            updated_at: DB_NOW,
          },
          request.customerRef,
        ),
        holdToken: tokens[index]!,
      };
      return {
        id,
        seatNos,
        seatIds,
        lines,
        total,
        tokenHash: hashSecret(tokens[index]!),
        customerRef: request.customerRef,
        answer:
          recorder && seatNos.length > 0
            ? { ref: recorder.claim, response: idempotency.toRecord(recorder.claim, recorder.answer(provisional)) }
            : undefined,
      };
    });
  }

  /** The show's seat states, caught up with the database if something changed them; `map_changed` if the plan is out of date. */
  private async seatsOf(db: Pool | PoolClient, showId: string, plan: SeatPlan): Promise<ShowSeats | 'map_changed'> {
    let seats = this.showSeats.get(showId);
    if (seats && seats.plan === plan) {
      this.showSeats.delete(showId); // most recently used last
    } else {
      seats = new ShowSeats(plan);
    }
    this.showSeats.set(showId, seats);
    if (this.showSeats.size > MAX_SEATED_SHOWS) this.showSeats.delete(this.showSeats.keys().next().value!);
    if (seats.needsRefresh) {
      const states = await this.options.shows.seatStates(db, showId, seats.version === '' ? null : seats.version);
      if (!states) throw new AppError('show_not_found');
      if (states.mapVersion !== plan.mapVersion) {
        this.showSeats.delete(showId);
        return 'map_changed';
      }
      seats.apply(states);
    }
    return seats;
  }
}

/** What a request that holds nothing is written with (the statement inserts no booking for it). */
const NOT_HELD: PricedHold = { lines: [], total: 0 };

/** The tickets a request asks for: as named, or its seats of the show's first type. */
function ticketsOf(catalogue: Catalogue, request: HoldRequest): TicketAsk[] {
  return request.tickets ?? defaultTickets(catalogue, request.seats);
}

/** The category of a seat of the plan. */
function categoryOf(plan: SeatPlan, seatNo: number): string {
  return plan.rows[plan.rowIndexOf(seatNo)]!.category;
}

/** The tickets priced on their seats, in the order given. */
function priceOn(catalogue: Catalogue, plan: SeatPlan, tickets: TicketAsk[], seatNos: readonly number[]): PricedHold {
  return priceHold(catalogue, tickets, {
    ids: seatNos.map((seatNo) => plan.seatId(seatNo)),
    categories: seatNos.map((seatNo) => categoryOf(plan, seatNo)),
  });
}

/**
 * What a request asks for, read on `plan` with its ticket types: unknown seats, categories or
 * sections are 400, and so is an unknown type; a type it may not have is refused (checkTickets), as
 * is a seat asked for in a category its type is not sold in; the best available is looked for only
 * where every type asked for is sold.
 */
function typed(catalogue: Catalogue, plan: SeatPlan, request: HoldRequest): Resolved {
  const ask = resolve(plan, request.seating!);
  if ('error' in ask) return ask;
  const tickets = ticketsOf(catalogue, request);
  try {
    checkTickets(catalogue, tickets);
    if ('seatNos' in ask) {
      priceOn(catalogue, plan, tickets, ask.seatNos);
      return ask;
    }
    const categories = categoriesFor(catalogue, tickets);
    if (categories === null) return ask;
    if (categories.length === 0) {
      throw new AppError('type_not_in_category', 'No seat category sells every ticket type asked for together', {
        ticket_types: tickets.map(({ type }) => type),
      });
    }
    const { category } = ask.best;
    if (category !== undefined && !categories.includes(category)) {
      const offender = tickets.find(({ type: code }) => {
        const soldIn = catalogue.types.find((type) => type.code === code)?.categories;
        return soldIn != null && !soldIn.includes(category);
      })!;
      throw new AppError('type_not_in_category', `"${offender.type}" is not sold in ${category}`, {
        ticket_type: offender.type,
        category,
      });
    }
    return { best: { ...ask.best, categories } };
  } catch (error) {
    if (error instanceof AppError) return { error, ofTypes: true };
    throw error;
  }
}

/** What a request asks for, read on `plan`: unknown seats, categories or sections are 400. */
function resolve(plan: SeatPlan, ask: SeatAsk): Resolved {
  if ('seatIds' in ask) {
    const resolved = plan.resolve(ask.seatIds);
    return resolved.unknown ? { error: unknownSeats(resolved.unknown) } : { seatNos: resolved.seatNos };
  }
  const { category, section } = ask.best;
  if (category !== undefined && !plan.categories.includes(category)) {
    return {
      error: new AppError('validation_failed', `The show has no category "${category}"`, {
        errors: [{ path: 'body/category', message: `is not one of ${plan.categories.join(', ')}` }],
      }),
    };
  }
  if (section !== undefined && !plan.rows.some((row) => row.section === section)) {
    return {
      error: new AppError('validation_failed', `The show has no section "${section}"`, {
        errors: [{ path: 'body/section', message: 'is not a section of the map' }],
      }),
    };
  }
  return { best: ask.best };
}

/** The seats a request gets from the states known, or why it gets none. */
function choose(seats: ShowSeats, plan: SeatPlan, ask: Exclude<Resolved, { error: AppError }>): number[] | AppError {
  if ('seatNos' in ask) {
    const taken = ask.seatNos.filter((seatNo) => !seats.isFree(seatNo));
    if (taken.length === 0) return [...ask.seatNos].sort((a, b) => a - b);
    const ids = taken.map((seatNo) => plan.seatId(seatNo));
    return new AppError('seats_taken', `Already held or sold: ${ids.join(', ')}`, { taken_seat_ids: ids });
  }
  const { best } = ask;
  // The longest free run of a row is what tells the allocator which rows can be skipped: fewer
  // than `count` together means no block there, and 0 means no free seat at all.
  const seatNos = allocateBestAvailable(plan.rows, seats.free, seats.longestRuns(), best);
  if (seatNos) return seatNos;
  const available = seats.freeIn(best);
  return new AppError(
    'sold_out',
    available >= best.count
      ? `No ${best.count} adjacent seats are free in one row (${available} seat(s) are free apart; allow_split takes them)`
      : `Only ${available} seat(s) are available`,
    { available_seats: available },
  );
}
