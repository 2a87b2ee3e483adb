import { withTransaction, type Pool, type PoolClient } from '../db/pool.js';
import { bookingAsSeen, newBookingId, type Booking, type BookingStatus } from '../domain/booking.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { GroupKind, Metrics } from '../metrics.js';
import {
  DB_EXPIRES,
  DB_NOW,
  type BookingRepository,
  type GroupHold,
  type GateOutcome,
  type GroupHoldResult,
  type Move,
  type SeatGroupHold,
} from '../repositories/booking.repository.js';
import type { DbInstant, ShowLock, ShowRepository } from '../repositories/show.repository.js';
import { allocateBestAvailable, type BestAvailable } from '../domain/seat-allocator.js';
import type { SeatPlan } from '../domain/seat-map.js';
import { ShowSeats } from './show-seats.js';
import type { SeatPlans } from './seat-plans.js';
import { hashSecret, newTokens } from '../secrets.js';
import { decide, type CustomerAction } from './booking-rules.js';
import type { Answer, IdempotencyClaim, IdempotencyService, Recorder } from './idempotency.service.js';

export interface GrantedHold {
  booking: Booking;
  /** The secret that confirms or cancels this hold; returned once, stored only as a hash. */
  holdToken: string;
}

/** Told once per group that committed holds, after commit, so they get an expiry job. */
export type GroupCommitted = (showId: string, createdAt: Date, expiresAt: Date) => void;

/** What a hold on a seated show asks for: these seats (by number), or the best available. */
export type SeatAsk = { plan: SeatPlan; seatNos: number[] } | { plan: SeatPlan; best: BestAvailable };

/** Most seated shows whose seat states this process keeps; the least recently used are dropped. */
const MAX_SEATED_SHOWS = 64;
/** A seated group chosen against seats that changed meanwhile is chosen again, this many times at most. */
const MAX_SEAT_ATTEMPTS = 5;

/** What a request brings to its show's queue besides what it asks for. */
export interface LaneOptions<T> {
  /** Records the answer in the transaction of its effect (Idempotency-Key). */
  recorder?: Recorder<T> | undefined;
  /** True once the client has gone away: a request still waiting then leaves, holding nothing. */
  isGone?: () => boolean;
}

export interface ShowLanesOptions {
  pool: Pool;
  shows: ShowRepository;
  bookings: BookingRepository;
  idempotency: IdempotencyService;
  holdTtlSeconds: number;
  /** An extended hold never lasts beyond its created_at plus this. */
  holdMaxLifetimeSeconds: number;
  /** Most requests one group (one transaction) takes. */
  maxGroupSize: number;
  /** Most requests waiting per show; beyond it a request is refused at once (503). */
  maxWaiting: number;
  /** Longest a request waits for its turn before it is answered 503, holding nothing. */
  maxWaitMs: number;
  /** Hold statements in flight at once; groups that become ready beyond it share the next one. */
  maxStatements: number;
  onGroupCommitted: GroupCommitted;
  /** Each show's seating; told when a show's seat map changed under this process. */
  plans: SeatPlans;
  metrics?: Metrics | undefined;
  logger: Logger;
}

type Outcome<T> = { value: T; error?: undefined } | { value?: undefined; error: AppError };

interface Queued<T> {
  recorder: Recorder<T> | undefined;
  isGone: (() => boolean) | undefined;
  /** Date.now() after which it no longer waits. */
  deadline: number;
  resolve(value: T): void;
  reject(error: unknown): void;
  /** Decided inside the group's transaction; delivered only once that commits. */
  outcome?: Outcome<T>;
}

/** What a hold asks for. */
export interface HoldSpec {
  seats: number;
  /** On a seated show. */
  seating?: SeatAsk | undefined;
  /** The storefront's customer (per-customer limits). */
  customerRef?: string | undefined;
}

interface HoldRequest extends Queued<GrantedHold>, HoldSpec {
  kind: 'hold';
}

interface ActionRequest extends Queued<Booking> {
  kind: CustomerAction;
  bookingId: string;
}

type LaneRequest = HoldRequest | ActionRequest;

/** What a group did besides answering, acted on once it committed. */
interface GroupTally {
  /** Overdue holds it turned EXPIRED, by path. */
  reclaim: number;
  late_action: number;
  /** Holds it extended: their new deadlines need expiry jobs, from the group's instant. */
  extended?: { at: Date; deadlines: Date[] };
}

interface ReadyGroup {
  showId: string;
  holds: GroupHold[];
  resolve(results: GroupHoldResult[]): void;
  reject(error: unknown): void;
}

interface Lane {
  waiting: LaneRequest[];
  /** Armed for the deadline of the oldest waiting request. */
  timer: NodeJS.Timeout | undefined;
}

/** Where a booking stands while a group is decided: its status moves as the group's actions apply. */
interface Tracked {
  booking: Booking;
  status: BookingStatus;
  overdue: boolean;
  /** The status it had when the show was locked, once some action moved it. */
  movedFrom?: BookingStatus;
  /** An extension of it was accepted earlier in this group: later answers carry the new deadline. */
  extending?: boolean;
  /** Requests answered after that extension, whose answers get the extended row. */
  answeredAfterExtension?: ActionRequest[];
}

const unavailable = () => new AppError('service_unavailable', 'The request could not be completed; retry shortly');

/**
 * Group commit, per show. Every change to a show's seats (a hold, a confirm, a cancel) is
 * serialized by the show's row lock anyway, so instead of one transaction per request
 * queueing on that lock (each holding a pooled connection while it waits), the requests
 * that arrive for a show while its previous group is in the database wait here and then go
 * together:
 * - holds alone: one statement (hold_group), so the lock is held for one round trip; while
 *   many shows sell at once, the groups of different shows that are ready together share one
 *   statement and one commit (hold_groups);
 * - with confirms or cancels: one transaction that locks the row once, applies them in
 *   arrival order, then decides the holds with the same statement.
 * A show therefore uses at most one connection of this process's pool, however hot it is,
 * and no show's traffic can starve another's.
 *
 * There is no timer on the way in: a lone request goes straight to the database, and a
 * group is only what piled up meanwhile. With several API processes the row lock still
 * serializes their groups, so correctness never depends on this in-process queue.
 *
 * Waits are bounded: at most maxWaiting requests wait per show (503 at once beyond), a
 * request that waited maxWaitMs is answered 503, and one whose client went away leaves
 * the queue; none of them holds anything.
 */
export class ShowLanes {
  private readonly lanes = new Map<string, Lane>();
  /** Hold-only groups of different shows waiting to share the next statement. */
  private readonly readyGroups: ReadyGroup[] = [];
  private statementsInFlight = 0;
  /** Seat states of the seated shows this process sells. */
  private readonly showSeats = new Map<string, ShowSeats>();

  constructor(private readonly options: ShowLanesOptions) {}

  /** Holds seats: a number of them (general admission), or on a seated show what `seating` asks for. */
  hold(showId: string, spec: HoldSpec, options: LaneOptions<GrantedHold> = {}): Promise<GrantedHold> {
    return new Promise<GrantedHold>((resolve, reject) => {
      this.enqueue(showId, { kind: 'hold', ...spec, ...this.queued(options), resolve, reject });
    });
  }

  /** Confirms or cancels a booking of the show, in the show's next group. */
  act(showId: string, kind: CustomerAction, bookingId: string, options: LaneOptions<Booking> = {}): Promise<Booking> {
    return new Promise<Booking>((resolve, reject) => {
      this.enqueue(showId, { kind, bookingId, ...this.queued(options), resolve, reject });
    });
  }

  private queued<T>(options: LaneOptions<T>): Pick<Queued<T>, 'recorder' | 'isGone' | 'deadline'> {
    return { recorder: options.recorder, isGone: options.isGone, deadline: Date.now() + this.options.maxWaitMs };
  }

  private enqueue(showId: string, request: LaneRequest): void {
    const lane = this.lanes.get(showId);
    if (!lane) {
      const fresh: Lane = { waiting: [request], timer: undefined };
      this.lanes.set(showId, fresh);
      void this.drain(showId, fresh);
      return;
    }
    if (lane.waiting.length >= this.options.maxWaiting) {
      request.reject(new AppError('service_unavailable', 'Too many requests are waiting for this show; retry shortly'));
      return;
    }
    lane.waiting.push(request);
    lane.timer ??= this.armTimer(lane);
  }

  /**
   * Runs groups until nobody waits. Never rejects, and nothing in it may leave the lane in the
   * map with nobody draining it, or a request unanswered.
   */
  private async drain(showId: string, lane: Lane): Promise<void> {
    try {
      while (lane.waiting.length > 0) {
        const group = this.takeGroup(lane);
        if (group.length === 0) continue;
        try {
          await this.commitGroup(showId, group);
        } catch (error) {
          // commitGroup answers its group itself; reaching here is a bug, which must not wedge the show.
          this.options.logger.error({ err: error, showId }, 'show lane failed a group');
          for (const request of group) request.reject(unavailable());
        }
      }
    } catch (error) {
      this.options.logger.error({ err: error, showId }, 'show lane stopped');
    } finally {
      clearTimeout(lane.timer);
      this.lanes.delete(showId);
      for (const request of lane.waiting.splice(0)) request.reject(unavailable());
    }
  }

  /** The next group: the oldest waiting requests whose clients still wait for an answer. */
  private takeGroup(lane: Lane): LaneRequest[] {
    const now = Date.now();
    const group = lane.waiting
      .splice(0, this.options.maxGroupSize)
      .filter((request) => this.stillWaiting(request, now));
    const { metrics, maxWaitMs } = this.options;
    if (metrics) for (const request of group) metrics.queueWaited((now - request.deadline + maxWaitMs) / 1000);
    return group;
  }

  private stillWaiting(request: LaneRequest, now: number): boolean {
    if (request.isGone?.()) {
      request.reject(new AppError('service_unavailable', 'The client went away'));
      return false;
    }
    if (request.deadline <= now) {
      request.reject(new AppError('service_unavailable', 'The show is too busy to answer in time; retry shortly'));
      return false;
    }
    return true;
  }

  /** Answers requests that waited past their deadline while the show was busy, on time. */
  private armTimer(lane: Lane): NodeJS.Timeout | undefined {
    const oldest = lane.waiting[0];
    if (!oldest) return undefined;
    const timer = setTimeout(
      () => {
        const now = Date.now();
        let expired = 0;
        while (expired < lane.waiting.length && lane.waiting[expired]!.deadline <= now) expired++;
        for (const request of lane.waiting.splice(0, expired)) this.stillWaiting(request, now);
        lane.timer = this.armTimer(lane);
      },
      Math.max(0, oldest.deadline - Date.now()),
    );
    timer.unref();
    return timer;
  }

  /** Decides the group in the database; never throws: every request gets its answer or an error. */
  private async commitGroup(showId: string, group: LaneRequest[]): Promise<void> {
    let held: Booking[];
    const kind: GroupKind = group.every((request) => request.kind === 'hold') ? 'holds' : 'mixed';
    const started = performance.now();
    const expired: GroupTally = { reclaim: 0, late_action: 0 };
    try {
      held =
        kind === 'holds'
          ? // Holds alone: one statement on its own, so the show's lock is held for one round trip.
            await this.grantHolds(this.options.pool, showId, group as HoldRequest[], null, expired)
          : await withTransaction(this.options.pool, (client) => this.decideMixedGroup(client, showId, group, expired));
    } catch (error) {
      // A database failure fails this group only; the next group gets a fresh connection. A
      // 503 (never a 4xx): its Idempotency-Keys are released, so retries run again.
      const answer = unavailable();
      this.showSeats.delete(showId); // what this process knows of its seats may be what rolled back
      this.options.logger.error({ err: error, showId, groupSize: group.length }, 'show group failed');
      for (const request of group) request.reject(answer);
      return;
    } finally {
      this.options.metrics?.groupDecided(kind, group.length, (performance.now() - started) / 1000);
    }
    for (const request of group) {
      if (request.kind === 'hold') deliver(request);
      else deliver(request);
    }
    // Committed: only now are the keyed answers marked recorded, so a rollback leaves keys releasable.
    for (const request of group) {
      if (request.outcome?.value !== undefined && request.recorder) request.recorder.claim.recorded = true;
    }
    this.report(group, expired);
    const first = held[0];
    if (first) this.options.onGroupCommitted(showId, first.created_at, first.expires_at);
    // Extended holds fall due later: their new deadlines get jobs too (the old ones find nothing due).
    for (const deadline of expired.extended?.deadlines ?? []) {
      this.options.onGroupCommitted(showId, expired.extended!.at, deadline);
    }
  }

  /**
   * A group that confirms, cancels or extends: one transaction under the show's lock, every
   * deadline judged at the instant the lock was granted. Returns the holds written.
   */
  private async decideMixedGroup(
    client: PoolClient,
    showId: string,
    group: LaneRequest[],
    expired: GroupTally,
  ): Promise<Booking[]> {
    const show = await this.options.shows.lockInventory(client, showId);
    if (!show) {
      const missing = new AppError('show_not_found');
      for (const request of group) request.outcome = { error: missing };
      return [];
    }
    const actions = await this.refuseTakenOverKeys(
      client,
      group.filter((request): request is ActionRequest => request.kind !== 'hold'),
    );
    expired.late_action = await this.applyActions(client, showId, show, actions, expired);
    // Confirms, cancels and late actions move seats of a seated show: catch up before choosing more.
    const seats = this.showSeats.get(showId);
    if (seats && actions.length > 0) seats.needsRefresh = true;
    const held = await this.grantHolds(
      client,
      showId,
      group.filter((request): request is HoldRequest => request.kind === 'hold'),
      show.now,
      expired,
    );
    await this.recordAnswers(client, actions);
    return held;
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

  /**
   * Confirms, cancels and extends, in arrival order, against the bookings as they stand at the lock.
   * Seats they put back on sale are in the show's counters when the group's holds are decided.
   * Returns how many overdue holds a late action turned EXPIRED.
   */
  private async applyActions(
    client: PoolClient,
    showId: string,
    show: ShowLock,
    actions: ActionRequest[],
    tally: GroupTally,
  ): Promise<number> {
    if (actions.length === 0) return 0;
    const { bookings } = this.options;
    const ids = [...new Set(actions.map((request) => request.bookingId))];
    const rows = await bookings.findManyLocked(client, showId, ids, show.now);
    const tracked = new Map<string, Tracked>(
      rows.map((row) => [row.id, { booking: bookingAsSeen(row), status: row.status, overdue: row.overdue }]),
    );
    const overdueIds: string[] = [];
    const extensions: ActionRequest[] = [];
    const lateConfirms: ActionRequest[] = [];
    for (const request of actions) {
      const booking = tracked.get(request.bookingId);
      if (!booking) {
        request.outcome = { error: new AppError('booking_not_found') };
        continue;
      }
      const decision = decide(request.kind, booking.status, booking.overdue, show.lateConfirm);
      switch (decision.kind) {
        case 'transition':
          booking.movedFrom ??= booking.status;
          booking.status = decision.to;
          booking.booking = { ...booking.booking, status: decision.to, updated_at: show.nowDate };
          request.outcome = { value: booking.booking };
          if (booking.extending) (booking.answeredAfterExtension ??= []).push(request);
          break;
        case 'unchanged':
          request.outcome = { value: booking.booking };
          if (booking.extending) (booking.answeredAfterExtension ??= []).push(request);
          break;
        case 'extend':
          // How far is decided below, with the database clock; a later action on the same
          // booking in this group sees it still PENDING, and its answer the new deadline.
          extensions.push(request);
          booking.extending = true;
          break;
        case 'expire_then_reject':
          // Committed with the group: its seats go back on sale now, and the answer is the error.
          // Only this booking: other overdue holds of the show are the jobs' and the sweep's.
          overdueIds.push(request.bookingId);
          booking.status = 'EXPIRED';
          booking.overdue = false;
          request.outcome = { error: decision.error };
          break;
        case 'reject':
          request.outcome = { error: decision.error };
          break;
        case 'confirm_late':
          // Decided below, once every other action of the group has moved its seats.
          lateConfirms.push(request);
          break;
      }
    }

    const expired =
      overdueIds.length > 0 ? (await bookings.expireOverdue(client, showId, show.now, null, overdueIds)).bookings : 0;
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
    const seats = this.showSeats.get(showId);
    if (seats) {
      for (const { id } of moves) seats.forget(id);
      for (const id of overdueIds) seats.forget(id);
    }
    if (moves.length > 0) {
      const moved = await bookings.applyMoves(client, showId, moves, show.now);
      if (moved.length !== moves.length) {
        throw new Error(`moved ${moved.length} of ${moves.length} bookings under lock`);
      }
    }
    if (lateConfirms.length > 0) return expired + (await this.confirmLate(client, showId, show, lateConfirms));
    return expired;
  }

  /**
   * Confirms after the hold expired (late_confirm = 'reclaim'): every overdue hold of the show is
   * reclaimed first (this one among them), then each booking, in arrival order, is confirmed on
   * its seats if they are all still free: 200 with `late: true`; else 409 hold_expired with
   * `reclaimable: false` (the storefront refunds). Returns how many overdue holds it expired.
   */
  private async confirmLate(
    client: PoolClient,
    showId: string,
    show: ShowLock,
    requests: ActionRequest[],
  ): Promise<number> {
    const { bookings } = this.options;
    const reclaimed = await bookings.expireOverdue(client, showId, show.now);
    const ids = [...new Set(requests.map((request) => request.bookingId))];
    const results = new Map(
      (await bookings.confirmLate(client, showId, ids, show.now)).map((result) => [result.booking.id, result]),
    );
    for (const request of requests) {
      const result = results.get(request.bookingId);
      request.outcome =
        result?.confirmed || result?.booking.status === 'CONFIRMED'
          ? { value: result.booking }
          : {
              error: new AppError('hold_expired', 'The hold has expired and its seats are no longer all free', {
                reclaimable: false,
              }),
            };
    }
    return reclaimed.bookings;
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
    const { bookings, holdTtlSeconds, holdMaxLifetimeSeconds } = this.options;
    const ids = [...new Set(extensions.map((request) => request.bookingId))];
    const extended = await bookings.extendHolds(client, showId, ids, show.now, holdTtlSeconds, holdMaxLifetimeSeconds);
    const seats = this.showSeats.get(showId);
    for (const booking of extended) seats?.holdUntil(booking.id, booking.expires_at.getTime());
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

  /**
   * Holds, decided and written by one statement (hold_group): first come first served,
   * never partial, overdue holds reclaimed only when seats are short, keyed answers recorded
   * with their holds. Tokens are drawn before, for every request: the database decides who
   * wins. Returns the holds written.
   */
  private async grantHolds(
    db: Pool | PoolClient,
    showId: string,
    holds: HoldRequest[],
    now: DbInstant | null,
    expired: GroupTally,
  ): Promise<Booking[]> {
    if (holds.length === 0) return [];
    if (holds[0]!.seating) return this.grantSeatHolds(db, showId, holds, now, expired);
    const { bookings, idempotency, holdTtlSeconds } = this.options;
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
        ? await this.batched(showId, requests)
        : await bookings.holdGroup(db, showId, requests, holdTtlSeconds, now);
    // Another transaction held the show when its batch came by: on its own, it waits for the lock.
    if (results[0]?.outcome === 'show_busy') {
      results = await bookings.holdGroup(db, showId, requests, holdTtlSeconds, now);
    }
    expired.reclaim += results[0]?.reclaimed ?? 0;
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
    return held;
  }

  /**
   * Holds on a seated show, first come first served: the seats of each request are chosen
   * here, in arrival order, from the show's seat states as this process knows them (chosen
   * seats taken meanwhile: 409 seats_taken; no block free: 409 sold_out), then written by one
   * statement (hold_seats) that refuses the whole group if the show's seats changed since
   * those states were read. Then this catches up with the changes and chooses again, under the
   * show's lock (one transaction) so that a busy second process cannot keep it stale. Overdue
   * holds the statement reclaimed give their seats back to the requests it refused.
   */
  private async grantSeatHolds(
    db: Pool | PoolClient,
    showId: string,
    holds: HoldRequest[],
    now: DbInstant | null,
    tally: GroupTally,
  ): Promise<Booking[]> {
    const { bookings, idempotency, holdTtlSeconds } = this.options;
    const plan = holds[0]!.seating!.plan;
    const held: Booking[] = [];
    let pending = holds;
    try {
      for (let attempt = 1; pending.length > 0; attempt++) {
        if (attempt > MAX_SEAT_ATTEMPTS) {
          for (const request of pending) request.outcome = { error: unavailable() };
          break;
        }
        const seats = await this.seatsOf(db, showId, plan);
        seats.releaseOverdue(Date.now());
        const refusals = new Map<HoldRequest, AppError>();
        const chosen = pending.map((request) => {
          const seatNos = this.choose(seats, request.seating!);
          if (Array.isArray(seatNos)) {
            seats.take(seatNos);
            return seatNos;
          }
          refusals.set(request, seatNos);
          return [];
        });
        const tokens = newTokens(pending.length);
        const requests: SeatGroupHold[] = pending.map((request, index) => {
          const id = newBookingId(showId);
          const seatNos = chosen[index]!;
          const seatIds = seatNos.map((seatNo) => plan.seatId(seatNo));
          const { recorder } = request;
          const provisional = {
            booking: withCustomer(
              {
                id,
                show_id: showId,
                seats: seatNos.length,
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
            tokenHash: hashSecret(tokens[index]!),
            customerRef: request.customerRef,
            answer:
              recorder && seatNos.length > 0
                ? { ref: recorder.claim, response: idempotency.toRecord(recorder.claim, recorder.answer(provisional)) }
                : undefined,
          };
        });
        const results = await bookings.holdSeats(
          db,
          showId,
          { map: plan.mapVersion, seats: seats.version },
          requests,
          holdTtlSeconds,
          now,
        );
        const first = results[0]!;
        if (first.outcome === 'map_changed') {
          this.mapChanged(showId);
          for (const request of pending) request.outcome = { error: mapChanged() };
          break;
        }
        if (first.outcome === 'stale') {
          chosen.forEach((seatNos) => seats.release(seatNos));
          seats.needsRefresh = true;
          if (now === null) {
            // Another process changed the show's seats between the catch-up and the lock. Writes
            // there can go on and on, so the rest is decided under the show's lock, where the
            // catch-up and the statement see the same seats: it cannot be stale again.
            const rest = pending;
            return held.concat(
              await withTransaction(this.options.pool, async (client) => {
                const lock = await this.options.shows.lockInventory(client, showId);
                if (!lock) {
                  for (const request of rest) request.outcome = { error: new AppError('show_not_found') };
                  return [];
                }
                return this.grantSeatHolds(client, showId, rest, lock.now, tally);
              }),
            );
          }
          continue;
        }
        seats.version = first.versionAfter!;
        const freed = first.freed ?? [];
        seats.release(freed);
        tally.reclaim += first.reclaimed;
        if (first.outcome === 'conflict') {
          // A seat counted free (a hold this process thought overdue, extended elsewhere?) was
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
              throw new Error(`hold_seats answered ${outcome} for one request of a group`);
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
        pending = again;
      }
    } catch (error) {
      // The seat states may no longer match what the database has: read them again next time.
      this.showSeats.delete(showId);
      throw error;
    }
    return held;
  }

  /** The seats a request gets from the states known, or why it gets none. */
  private choose(seats: ShowSeats, ask: SeatAsk): number[] | AppError {
    if ('seatNos' in ask) {
      const taken = ask.seatNos.filter((seatNo) => !seats.isFree(seatNo));
      if (taken.length === 0) return [...ask.seatNos].sort((a, b) => a - b);
      const ids = taken.map((seatNo) => ask.plan.seatId(seatNo));
      return new AppError('seats_taken', `Already held or sold: ${ids.join(', ')}`, { taken_seat_ids: ids });
    }
    const { best } = ask;
    // The longest free run of a row is what tells the allocator which rows can be skipped: fewer
    // than `count` together means no block there, and 0 means no free seat at all.
    const seatNos = allocateBestAvailable(ask.plan.rows, seats.free, seats.longestRuns(), best);
    if (seatNos) return seatNos;
    const available = seats.freeIn(best.category, best.section);
    return new AppError(
      'sold_out',
      available >= best.count
        ? `No ${best.count} adjacent seats are free in one row (${available} seat(s) are free apart; allow_split takes them)`
        : `Only ${available} seat(s) are available`,
      { available_seats: available },
    );
  }

  /** The show's seat states, caught up with the database if something changed them. */
  private async seatsOf(db: Pool | PoolClient, showId: string, plan: SeatPlan): Promise<ShowSeats> {
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
        // Seats were renumbered: what the request asked for must be read against the new map.
        this.mapChanged(showId);
        throw mapChanged();
      }
      seats.apply(states);
    }
    return seats;
  }

  /** The show's map changed (PATCH): forget its plan and seat states; requests chosen on the old one retry. */
  private mapChanged(showId: string): void {
    this.showSeats.delete(showId);
    this.options.plans.forget(showId);
  }

  /**
   * Group commit across shows. A hold-only group goes to the database at once while fewer
   * than maxStatements of them are in flight; past that, the groups that become ready wait
   * for the next statement and share it (hold_groups: one statement, one commit, shows locked
   * in id order). A hot show is unaffected (its groups are one at a time anyway); many shows
   * selling at once share commits instead of each paying its own.
   */
  private batched(showId: string, holds: GroupHold[]): Promise<GroupHoldResult[]> {
    return new Promise((resolve, reject) => {
      this.readyGroups.push({ showId, holds, resolve, reject });
      if (this.statementsInFlight < this.options.maxStatements) this.sendReadyGroups();
    });
  }

  private sendReadyGroups(): void {
    const batch = this.readyGroups.splice(0);
    if (batch.length === 0) return;
    this.statementsInFlight++;
    void this.send(batch).finally(() => {
      this.statementsInFlight--;
      this.sendReadyGroups();
    });
  }

  /** Never rejects: each group of the batch is resolved or rejected. */
  private async send(batch: ReadyGroup[]): Promise<void> {
    const { bookings, holdTtlSeconds, pool, logger } = this.options;
    if (batch.length > 1) {
      try {
        const results = await bookings.holdGroups(batch, holdTtlSeconds);
        batch.forEach((group, index) => group.resolve(results[index]!));
        return;
      } catch (error) {
        // The batch committed nothing. One group's trouble (a key's lock, a timeout) must not
        // fail the others' requests: each group goes again, alone.
        logger.warn({ err: error, groups: batch.length }, 'a batch of hold groups failed; each goes alone');
      }
    }
    await Promise.all(
      batch.map(async (group) => {
        try {
          group.resolve(await bookings.holdGroup(pool, group.showId, group.holds, holdTtlSeconds, null));
        } catch (error) {
          group.reject(error);
        }
      }),
    );
  }

  /** After commit: what the group decided, for the metrics. */
  private report(group: LaneRequest[], expired: GroupTally): void {
    const { metrics } = this.options;
    if (!metrics) return;
    const holds = new Map<string, number>();
    for (const request of group) {
      const { outcome } = request;
      if (!outcome) continue;
      if (request.kind === 'hold') {
        const key = outcome.error ? outcome.error.code : 'held';
        holds.set(key, (holds.get(key) ?? 0) + 1);
      } else {
        const value = request.outcome?.value;
        const result = value
          ? request.kind === 'extend'
            ? 'extended'
            : value.status.toLowerCase()
          : outcome.error!.code;
        metrics.actionAnswered(request.kind, result);
      }
    }
    for (const [outcome, count] of holds) metrics.holdsAnswered(outcome, count);
    metrics.expired('reclaim', expired.reclaim);
    metrics.expired('late_action', expired.late_action);
  }

  /** Each keyed request's answer commits with its effect, in one statement (their keys are locked). */
  private async recordAnswers(client: PoolClient, requests: ActionRequest[]): Promise<void> {
    const answered: { claim: IdempotencyClaim; answer: Answer }[] = [];
    for (const request of requests) {
      const answer = answerOf(request);
      if (answer && request.recorder) answered.push({ claim: request.recorder.claim, answer });
    }
    await this.options.idempotency.recordAllWithin(client, answered);
  }
}

/** The answer a keyed request records: only successes are recorded with the effect. */
function answerOf<T>(request: Queued<T>): Answer | undefined {
  const value = request.outcome?.value;
  return value !== undefined && request.recorder ? request.recorder.answer(value) : undefined;
}

/** The answer to a hold refused before seats were considered (hold_gate), or by its customer's limit. */
function gateError(outcome: GateOutcome, result: { allowed: number | null; salesStart: Date | null }): AppError {
  switch (outcome) {
    case 'show_started':
      return new AppError('show_started', 'Seats can no longer be held for this show');
    case 'taken_over':
      return new AppError('idempotency_in_progress', 'The Idempotency-Key was taken over by a retry');
    case 'show_not_found':
      return new AppError('show_not_found');
    case 'sales_not_open':
      return new AppError('sales_not_open', `Sales open at ${result.salesStart?.toISOString()}`, {
        sales_start: result.salesStart?.toISOString(),
      });
    case 'sales_closed':
      return new AppError('sales_closed', 'Sales for this show have closed');
    case 'customer_ref_required':
      return new AppError('validation_failed', 'This show limits seats per customer: send customer_ref', {
        errors: [{ path: 'body/customer_ref', message: 'is required on this show' }],
      });
    case 'customer_limit':
      return new AppError(
        'customer_limit_reached',
        `This customer may hold or buy ${result.allowed ?? 0} more seat(s) for this show`,
        { seats_allowed: result.allowed ?? 0 },
      );
  }
}

function mapChanged(): AppError {
  return new AppError('service_unavailable', 'The seat map of the show changed; retry');
}

/** A booking as answered to the request that holds it: with the customer it named. */
function withCustomer<T extends object>(booking: T, customerRef: string | undefined): T & { customer_ref?: string } {
  return customerRef === undefined ? booking : { ...booking, customer_ref: customerRef };
}

function deliver<T>(request: Queued<T>): void {
  const { outcome } = request;
  if (!outcome) request.reject(new Error('a request of the group was never decided'));
  else if (outcome.error) request.reject(outcome.error);
  else request.resolve(outcome.value);
}
