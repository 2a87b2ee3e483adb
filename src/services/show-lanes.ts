import { randomUUID } from 'node:crypto';
import { withTransaction, type Pool, type PoolClient } from '../db/pool.js';
import { bookingAsSeen, type Booking, type BookingStatus } from '../domain/booking.js';
import { AppError, isDatabaseDataError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { BookingRepository, Move, NewHold } from '../repositories/booking.repository.js';
import type { ShowInventory, ShowRepository } from '../repositories/show.repository.js';
import { hashSecret, newTokens } from '../secrets.js';
import { allocateSeats, decide, type CustomerAction } from './booking-rules.js';
import type { Answer, IdempotencyClaim, IdempotencyService, Recorder } from './idempotency.service.js';

export interface GrantedHold {
  booking: Booking;
  /** The secret that confirms or cancels this hold; returned once, stored only as a hash. */
  holdToken: string;
}

/** Told once per group that committed holds, after commit, so they get an expiry job. */
export type GroupCommitted = (showId: string, createdAt: Date, expiresAt: Date) => void;

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
  /** Most requests one group (one transaction) takes. */
  maxGroupSize: number;
  /** Most requests waiting per show; beyond it a request is refused at once (503). */
  maxWaiting: number;
  /** Longest a request waits for its turn before it is answered 503, holding nothing. */
  maxWaitMs: number;
  onGroupCommitted: GroupCommitted;
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

interface HoldRequest extends Queued<GrantedHold> {
  kind: 'hold';
  seats: number;
}

interface ActionRequest extends Queued<Booking> {
  kind: CustomerAction;
  bookingId: string;
}

type LaneRequest = HoldRequest | ActionRequest;

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
}

const unavailable = () => new AppError('service_unavailable', 'The request could not be completed; retry shortly');

/**
 * Group commit, per show. Every change to a show's seats (a hold, a confirm, a cancel) is
 * serialized by the show's row lock anyway, so instead of one transaction per request
 * queueing on that lock (each holding a pooled connection while it waits), the requests
 * that arrive for a show while its previous transaction runs wait here and then share the
 * next one: lock the row once, apply confirms and cancels, reclaim overdue holds if seats
 * are short, grant holds first come first served, record Idempotency-Key answers, commit,
 * answer everyone. A show therefore uses at most one connection of this process's pool,
 * however hot it is, and no show's traffic can starve another's.
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

  constructor(private readonly options: ShowLanesOptions) {}

  hold(showId: string, seats: number, options: LaneOptions<GrantedHold> = {}): Promise<GrantedHold> {
    return new Promise<GrantedHold>((resolve, reject) => {
      this.enqueue(showId, { kind: 'hold', seats, ...this.queued(options), resolve, reject });
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

  /** Runs groups until nobody waits. Nothing in it may leave the lane in the map with nobody draining it. */
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
    } finally {
      clearTimeout(lane.timer);
      this.lanes.delete(showId);
    }
  }

  /** The next group: the oldest waiting requests whose clients still wait for an answer. */
  private takeGroup(lane: Lane): LaneRequest[] {
    const now = Date.now();
    return lane.waiting.splice(0, this.options.maxGroupSize).filter((request) => this.stillWaiting(request, now));
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

  /** One transaction for the group; never throws: every request gets its answer or an error. */
  private async commitGroup(showId: string, group: LaneRequest[]): Promise<void> {
    let held: Booking[];
    try {
      held = await withTransaction(this.options.pool, (client) => this.decideGroup(client, showId, group));
    } catch (error) {
      // A database failure fails this group only; the next group gets a fresh connection.
      const answer = isDatabaseDataError(error)
        ? error // the one input a whole group shares, the show id, is the client's
        : unavailable();
      this.options.logger.error({ err: error, showId, groupSize: group.length }, 'show group failed');
      for (const request of group) request.reject(answer);
      return;
    }
    for (const request of group) {
      if (request.kind === 'hold') deliver(request);
      else deliver(request);
    }
    const first = held[0];
    if (first) this.options.onGroupCommitted(showId, first.created_at, first.expires_at);
  }

  /** Decides every request of the group under the show's lock; returns the holds written. */
  private async decideGroup(client: PoolClient, showId: string, group: LaneRequest[]): Promise<Booking[]> {
    const show = await this.options.shows.lockInventory(client, showId);
    if (!show) {
      const missing = new AppError('show_not_found');
      for (const request of group) request.outcome = { error: missing };
      return [];
    }
    const contenders = await this.refuseTakenOverKeys(client, group);
    const actions = contenders.filter((request): request is ActionRequest => request.kind !== 'hold');
    const holds = contenders.filter((request): request is HoldRequest => request.kind === 'hold');
    const acted = await this.applyActions(client, showId, show, actions);
    const held = await this.grantHolds(client, showId, show, holds, acted);
    await this.recordAnswers(client, contenders);
    return held;
  }

  /**
   * A request whose Idempotency-Key a retry took over while it waited fails alone, holding
   * nothing; the other keys are locked so that none can be taken over before commit.
   * Returns the requests that go on.
   */
  private async refuseTakenOverKeys(client: PoolClient, group: LaneRequest[]): Promise<LaneRequest[]> {
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
   * Confirms and cancels, in arrival order, against the bookings as they stand at the lock.
   * Returns the seats they put back on sale and whether overdue holds were expired.
   */
  private async applyActions(
    client: PoolClient,
    showId: string,
    show: ShowInventory,
    actions: ActionRequest[],
  ): Promise<{ freedSeats: number; expiredOverdue: boolean }> {
    if (actions.length === 0) return { freedSeats: 0, expiredOverdue: false };
    const { bookings } = this.options;
    const ids = [...new Set(actions.map((request) => request.bookingId))];
    const rows = await bookings.findManyLocked(client, showId, ids, show.now);
    const tracked = new Map<string, Tracked>(
      rows.map((row) => [row.id, { booking: bookingAsSeen(row), status: row.status, overdue: row.overdue }]),
    );
    let expireOverdue = false;
    for (const request of actions) {
      const booking = tracked.get(request.bookingId);
      if (!booking) {
        request.outcome = { error: new AppError('booking_not_found') };
        continue;
      }
      const decision = decide(request.kind, booking.status, booking.overdue);
      switch (decision.kind) {
        case 'transition':
          booking.movedFrom ??= booking.status;
          booking.status = decision.to;
          booking.booking = { ...booking.booking, status: decision.to, updated_at: show.nowDate };
          request.outcome = { value: booking.booking };
          break;
        case 'unchanged':
          request.outcome = { value: booking.booking };
          break;
        case 'expire_then_reject':
          // Committed with the group: the seats go back on sale now, and the answer is the error.
          expireOverdue = true;
          booking.status = 'EXPIRED';
          booking.overdue = false;
          request.outcome = { error: decision.error };
          break;
        case 'reject':
          request.outcome = { error: decision.error };
          break;
      }
    }

    let freedSeats = expireOverdue ? await bookings.expireOverdue(client, showId, show.now) : 0;
    const moves: Move[] = [];
    for (const [id, booking] of tracked) {
      if (booking.movedFrom !== undefined) moves.push({ id, from: booking.movedFrom, to: booking.status });
    }
    if (moves.length > 0) {
      const moved = await bookings.applyMoves(client, showId, moves, show.now);
      if (moved.length !== moves.length)
        throw new Error(`moved ${moved.length} of ${moves.length} bookings under lock`);
      for (const booking of moved) if (booking.status === 'CANCELLED') freedSeats += booking.seats;
    }
    return { freedSeats, expiredOverdue: expireOverdue };
  }

  /**
   * Holds, first come first served, never partial, from the seats free at the lock plus
   * those the group's actions freed; overdue holds are reclaimed only when seats are short.
   */
  private async grantHolds(
    client: PoolClient,
    showId: string,
    show: ShowInventory,
    holds: HoldRequest[],
    acted: { freedSeats: number; expiredOverdue: boolean },
  ): Promise<Booking[]> {
    if (holds.length === 0) return [];
    if (show.started) {
      const started = new AppError('show_started', 'Seats can no longer be held for this show');
      for (const request of holds) request.outcome = { error: started };
      return [];
    }
    const { bookings, holdTtlSeconds } = this.options;
    let free = show.totalSeats - show.heldSeats - show.confirmedSeats + acted.freedSeats;
    const wanted = holds.reduce((sum, request) => sum + request.seats, 0);
    if (free < wanted && !acted.expiredOverdue) free += await bookings.expireOverdue(client, showId, show.now);
    const { granted, left } = allocateSeats(
      holds.map((request) => request.seats),
      free,
    );
    const winners = holds.filter((_, index) => granted[index]);
    // Errors are built only when someone is refused: capturing a stack costs every group otherwise.
    if (winners.length < holds.length) {
      const soldOut = new AppError('sold_out', `Only ${left} seat(s) are available`, { available_seats: left });
      holds.forEach((request, index) => {
        if (!granted[index]) request.outcome = { error: soldOut };
      });
    }
    if (winners.length === 0) return [];

    // Tokens only for the granted requests: in a sell-out most of a group is refused.
    const tokens = newTokens(winners.length);
    const newHolds: NewHold[] = winners.map((request, index) => ({
      id: randomUUID(),
      seats: request.seats,
      tokenHash: hashSecret(tokens[index]!),
    }));
    const inserted = await bookings.insertHolds(client, showId, newHolds, holdTtlSeconds, show.now);
    const byId = new Map(inserted.map((booking) => [booking.id, booking]));
    winners.forEach((request, index) => {
      request.outcome = { value: { booking: byId.get(newHolds[index]!.id)!, holdToken: tokens[index]! } };
    });
    return inserted;
  }

  /** Each keyed request's answer commits with its effect, in one statement (their keys are locked). */
  private async recordAnswers(client: PoolClient, requests: LaneRequest[]): Promise<void> {
    const answered: { claim: IdempotencyClaim; answer: Answer }[] = [];
    for (const request of requests) {
      // Narrowed per kind so that each recorder gets the result type it answers.
      const answer = request.kind === 'hold' ? answerOf(request) : answerOf(request);
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

function deliver<T>(request: Queued<T>): void {
  const { outcome } = request;
  if (!outcome) request.reject(new Error('a request of the group was never decided'));
  else if (outcome.error) request.reject(outcome.error);
  else request.resolve(outcome.value);
}
