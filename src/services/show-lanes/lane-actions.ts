import type { PoolClient } from '../../adapters/postgres/pool.js';
import type { Booking } from '../../domain/booking.js';
import { decide, retakesSeats, type BookingStatus } from '../../domain/booking-lifecycle.js';
import { AppError } from '../../errors.js';
import type { BookingRepository, LateOutcome, Move } from '../../repositories/booking.repository.js';
import type { ShowLock } from '../../repositories/show.repository.js';
import type { IdempotencyClaim, IdempotencyService } from '../idempotency.service.js';
import { gateError, type ActionRequest, type GateResult, type GroupTally } from './requests.js';
import type { SeatedHolds } from './seated-holds.js';

export interface LaneActionsOptions {
  bookings: BookingRepository;
  idempotency: IdempotencyService;
  seated: SeatedHolds;
  holdTtlSeconds: number;
  /** An extended hold never lasts beyond its created_at plus this. */
  holdMaxLifetimeSeconds: number;
}

/** Where a booking stands while a group is decided: its status moves as the group's actions apply. */
interface Tracked {
  booking: Booking;
  /** Its status as of the lock's instant (a lapsed hold is EXPIRED), then as the group's actions move it. */
  status: BookingStatus;
  /** The status its row has: a lapsed hold's row still says PENDING until it is expired. */
  stored: BookingStatus;
  /** The status it had when the show was locked, once some action moved it. */
  movedFrom?: BookingStatus;
  /** An extension of it was accepted earlier in this group: later answers carry the new deadline. */
  extending?: boolean;
  /** Requests answered after that extension, whose answers get the extended row. */
  answeredAfterExtension?: ActionRequest[];
}

/**
 * The confirms, cancels and extends of a show's group, decided in arrival order under the show's
 * lock against the bookings as they are at the lock's instant, each by the lifecycle table
 * (src/domain/booking-lifecycle.ts), and written in a few statements whose guards the database
 * takes from the same table (core.move_bookings, core.confirm_late).
 */
export class LaneActions {
  constructor(private readonly options: LaneActionsOptions) {}

  /**
   * Decides and writes `actions` (the caller holds the show's lock in `client`'s transaction): a
   * request whose Idempotency-Key a retry took over fails alone; the answers of the others are
   * recorded with their effects. Seats they put back on sale are free for the group's holds.
   */
  async apply(client: PoolClient, showId: string, show: ShowLock, group: ActionRequest[], tally: GroupTally) {
    const actions = await this.refuseTakenOverKeys(client, group);
    await this.decideAndWrite(client, showId, show, actions, tally);
    await this.recordAnswers(client, actions);
  }

  /**
   * A request whose Idempotency-Key a retry took over while it waited fails alone, holding
   * nothing; the other keys are locked so that none can be taken over before commit.
   * Returns the requests that go on.
   */
  private async refuseTakenOverKeys(client: PoolClient, group: ActionRequest[]): Promise<ActionRequest[]> {
    const claims = group.flatMap((request) => (request.recorder ? [request.recorder.claim] : []));
    if (claims.length === 0) return group;
    const owned: Set<IdempotencyClaim> = await this.options.idempotency.lockOwned(client, claims);
    return group.filter((request) => {
      if (!request.recorder || owned.has(request.recorder.claim)) return true;
      request.outcome = {
        error: new AppError('idempotency_in_progress', 'The Idempotency-Key was taken over by a retry'),
      };
      return false;
    });
  }

  private async decideAndWrite(
    client: PoolClient,
    showId: string,
    show: ShowLock,
    actions: ActionRequest[],
    tally: GroupTally,
  ): Promise<void> {
    if (actions.length === 0) return;
    const { bookings, seated } = this.options;
    const ids = [...new Set(actions.map((request) => request.bookingId))];
    const rows = await bookings.findManyLocked(client, showId, ids, show.now);
    const tracked = new Map<string, Tracked>(
      rows.map(({ storedStatus, ...booking }) => [
        booking.id,
        { booking, status: booking.status, stored: storedStatus },
      ]),
    );
    const lapsed = new Set<string>();
    const extensions: ActionRequest[] = [];
    const lateConfirms: ActionRequest[] = [];
    for (const request of actions) {
      const booking = tracked.get(request.bookingId);
      if (!booking) {
        request.outcome = { error: new AppError('booking_not_found') };
        continue;
      }
      // A hold lapsed at the lock's instant is written down with the group, whatever the action:
      // its seats go back on sale now (the rest of the show's lapsed holds are the jobs' and the sweep's).
      if (booking.stored !== booking.status) lapsed.add(request.bookingId);
      const decision = decide(request.kind, booking.status, show.lateConfirm);
      switch (decision.kind) {
        case 'unchanged':
          request.outcome = { value: booking.booking };
          if (booking.extending) (booking.answeredAfterExtension ??= []).push(request);
          break;
        case 'refuse':
          request.outcome = { error: decision.error };
          break;
        case 'move':
          if (decision.to === decision.from) {
            // An extension: how far is decided below, with the database clock; a later action on
            // the same booking in this group sees it still where it is, and its answer the new deadline.
            extensions.push(request);
            booking.extending = true;
          } else if (retakesSeats(decision.from, decision.to)) {
            // Decided below, once every other action of the group has moved its seats.
            lateConfirms.push(request);
          } else {
            booking.movedFrom ??= booking.status;
            booking.status = decision.to;
            booking.booking = { ...booking.booking, status: decision.to, updated_at: show.nowDate };
            request.outcome = { value: booking.booking };
            if (booking.extending) (booking.answeredAfterExtension ??= []).push(request);
          }
      }
    }

    if (lapsed.size > 0) {
      tally.late_action += (await bookings.expireOverdue(client, showId, show.now, null, [...lapsed])).bookings;
    }
    if (extensions.length > 0) {
      const extended = await this.applyExtensions(client, showId, show, extensions, tally);
      for (const [id, booking] of tracked) {
        const row = extended.get(id);
        if (!row) continue;
        for (const request of booking.answeredAfterExtension ?? []) {
          const answered = request.outcome?.value;
          if (answered)
            request.outcome = { value: { ...answered, expires_at: row.expires_at, updated_at: row.updated_at } };
        }
      }
    }
    const moves: Move[] = [];
    for (const [id, booking] of tracked) {
      if (booking.movedFrom !== undefined) moves.push({ id, from: booking.movedFrom, to: booking.status });
    }
    seated.ended(showId, [...moves.map((move) => move.id), ...lapsed]);
    if (moves.length > 0) {
      const moved = await bookings.applyMoves(client, showId, moves, show.now);
      if (moved.length !== moves.length) {
        throw new Error(`moved ${moved.length} of ${moves.length} bookings under lock`);
      }
    }
    if (lateConfirms.length > 0) await this.confirmLate(client, showId, show, lateConfirms, tally);
    // Confirms, cancels and expiries move seats of a seated show: catch up before choosing more.
    seated.changed(showId);
  }

  /**
   * Confirms after the hold lapsed (late_confirm = 'reclaim'), in arrival order, each as a sale of
   * its seats would be made (core.confirm_late): 200 with `late: true`, or the gate's answer (the
   * show started, sales closed…), the customer's limit, or 409 hold_expired with
   * `reclaimable: false` when its seats are no longer all free (the storefront refunds).
   */
  private async confirmLate(
    client: PoolClient,
    showId: string,
    show: ShowLock,
    requests: ActionRequest[],
    tally: GroupTally,
  ): Promise<void> {
    const ids = [...new Set(requests.map((request) => request.bookingId))];
    const { results, reclaimed } = await this.options.bookings.confirmLate(client, showId, ids, show.now);
    tally.late_action += reclaimed;
    const byId = new Map(results.map((result) => [result.booking.id, result]));
    for (const request of requests) {
      const result = byId.get(request.bookingId);
      request.outcome =
        result?.outcome === 'confirmed' || result?.booking.status === 'CONFIRMED'
          ? { value: result.booking }
          : {
              error: lateRefusal(result?.outcome ?? 'seats_taken', {
                allowed: result?.allowed ?? null,
                salesStart: show.salesStart,
                ticketType: result?.ticketType ?? null,
              }),
            };
    }
  }

  /**
   * Extends the group's live holds in one statement, before its status moves (an extension
   * decided after a move of the same booking was refused above). A hold already at
   * created_at + holdMaxLifetimeSeconds cannot move: 409 extension_limit.
   */
  private async applyExtensions(
    client: PoolClient,
    showId: string,
    show: ShowLock,
    extensions: ActionRequest[],
    tally: GroupTally,
  ): Promise<Map<string, Booking>> {
    const { bookings, holdTtlSeconds, holdMaxLifetimeSeconds, seated } = this.options;
    const ids = [...new Set(extensions.map((request) => request.bookingId))];
    const extended = await bookings.extendHolds(client, showId, ids, show.now, holdTtlSeconds, holdMaxLifetimeSeconds);
    for (const booking of extended) seated.extended(showId, booking.id, booking.expires_at.getTime());
    const byId = new Map(extended.map((booking) => [booking.id, booking]));
    for (const request of extensions) {
      const booking = byId.get(request.bookingId);
      request.outcome = booking
        ? { value: booking }
        : {
            error: new AppError(
              'extension_limit',
              `A hold lasts at most ${holdMaxLifetimeSeconds} s from when it was made; this one already does`,
            ),
          };
    }
    tally.extended = {
      at: show.nowDate,
      deadlines: [...new Set(extended.map((b) => b.expires_at.getTime()))].map((ms) => new Date(ms)),
    };
    return byId;
  }

  /** Each keyed request's answer commits with its effect, in one statement (their keys are locked). */
  private async recordAnswers(client: PoolClient, requests: ActionRequest[]): Promise<void> {
    const answered = requests.flatMap((request) => {
      const value = request.outcome?.value;
      return value !== undefined && request.recorder
        ? [{ claim: request.recorder.claim, answer: request.recorder.answer(value) }]
        : [];
    });
    await this.options.idempotency.recordAllWithin(client, answered);
  }
}

/** Why a late confirm was refused, as the client is answered. */
function lateRefusal(outcome: Exclude<LateOutcome, 'confirmed'>, result: GateResult): AppError {
  switch (outcome) {
    case 'seats_taken':
      return new AppError('hold_expired', 'The hold has expired and its seats are no longer all free', {
        reclaimable: false,
      });
    case 'customer_ref_required':
      // A hold made before the show limited its customers: no customer to count it against.
      return new AppError('hold_expired', 'The hold has expired, and the show now limits seats to named customers', {
        reclaimable: false,
      });
    case 'customer_limit':
    case 'show_started':
    case 'sales_not_open':
    case 'sales_closed':
    case 'type_not_on_sale':
    case 'show_not_found':
      return gateError(outcome, result);
  }
}
