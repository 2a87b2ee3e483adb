import { withTransaction, type Pool, type PoolClient } from '../../adapters/postgres/pool.js';
import type { Booking } from '../../domain/booking.js';
import type { CustomerAction } from '../../domain/booking-lifecycle.js';
import type { Logger } from '../../logger.js';
import type { GroupKind, Metrics } from '../../metrics.js';
import type { BookingRepository } from '../../repositories/booking.repository.js';
import type { DbInstant, ShowRepository } from '../../repositories/show.repository.js';
import { AppError } from '../../errors.js';
import type { IdempotencyService, Recorder } from '../idempotency.service.js';
import type { ShowVersions } from '../show-versions.service.js';
import type { SeatPlans } from '../seat-plans.service.js';
import type { ShowCatalogues } from '../show-catalogues.service.js';
import { GeneralAdmissionHolds } from './general-admission-holds.js';
import { HoldBatches } from './hold-batches.js';
import { LaneActions } from './lane-actions.js';
import {
  deliver,
  unavailable,
  type ActionRequest,
  type GrantedHold,
  type GroupTally,
  type HoldRequest,
  type HoldSpec,
  type LaneRequest,
  type Queued,
} from './requests.js';
import { SeatedHolds } from './seated-holds.js';
import { ShowQueue, type Clock } from './show-queue.js';

export type { GrantedHold, HoldSpec, SeatAsk } from './requests.js';

/** Told once per group that committed holds, after commit, so they get an expiry job. */
export type GroupCommitted = (showId: string, createdAt: Date, expiresAt: Date) => void;

/** What a request brings to its show's lane besides what it asks for. */
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
  /** Each show's seating. */
  plans: SeatPlans;
  /** Each show's ticket types, which holds are priced with. */
  catalogues: ShowCatalogues;
  /** Told of every show a group changed, so that this process's reads of it are never older than its writes. */
  showVersions: ShowVersions;
  metrics?: Metrics | undefined;
  logger: Logger;
  clock?: Clock;
}

/**
 * Group commit, per show. Every change to a show's seats (a hold, a confirm, a cancel, an
 * extension) is serialized by the show's row lock anyway, so instead of one transaction per
 * request queueing on that lock (each holding a pooled connection while it waits), the requests
 * that arrive for a show while its previous group is in the database wait in the show's queue
 * (show-queue.ts) and then go together:
 * - holds alone: one statement (general-admission-holds.ts, seated-holds.ts), so the lock is held
 *   for one round trip; while many general-admission shows sell at once, the groups that are
 *   ready together share one statement and one commit (hold-batches.ts);
 * - with confirms, cancels or extensions: one transaction that locks the row once, applies them in
 *   arrival order (lane-actions.ts), then decides the holds.
 * A show therefore uses at most one connection of this process's pool, however hot it is, and no
 * show's traffic can starve another's. With several API processes the row lock still serializes
 * their groups, so correctness never depends on this in-process queue.
 *
 * Every request is answered as what committed: a group that fails answers 503 to each request
 * whose outcome had not committed yet, and its committed answer to each that had.
 */
export class ShowLanes {
  private readonly queue: ShowQueue<LaneRequest>;
  private readonly generalAdmission: GeneralAdmissionHolds;
  private readonly seated: SeatedHolds;
  private readonly actions: LaneActions;

  constructor(private readonly options: ShowLanesOptions) {
    const { pool, shows, bookings, idempotency, holdTtlSeconds, plans, catalogues, metrics, logger } = options;
    this.queue = new ShowQueue<LaneRequest>({
      maxGroupSize: options.maxGroupSize,
      maxWaiting: options.maxWaiting,
      maxWaitMs: options.maxWaitMs,
      commit: (showId, group) => this.commitGroup(showId, group),
      onWaited: metrics && ((seconds) => metrics.queueWaited(seconds)),
      logger,
      clock: options.clock,
    });
    const batches = new HoldBatches({ pool, bookings, holdTtlSeconds, maxStatements: options.maxStatements, logger });
    this.generalAdmission = new GeneralAdmissionHolds({ bookings, catalogues, idempotency, holdTtlSeconds, batches });
    this.seated = new SeatedHolds({ pool, shows, bookings, idempotency, holdTtlSeconds, plans, catalogues });
    this.actions = new LaneActions({
      bookings,
      idempotency,
      seated: this.seated,
      holdTtlSeconds,
      holdMaxLifetimeSeconds: options.holdMaxLifetimeSeconds,
    });
  }

  /** Holds seats: a number of them (general admission), or on a seated show what `seating` asks for. */
  hold(showId: string, spec: HoldSpec, options: LaneOptions<GrantedHold> = {}): Promise<GrantedHold> {
    return new Promise<GrantedHold>((resolve, reject) => {
      this.queue.enqueue(showId, { kind: 'hold', ...spec, ...this.queued(options), resolve, reject });
    });
  }

  /** Confirms, cancels or extends a booking of the show, in the show's next group. */
  act(showId: string, kind: CustomerAction, bookingId: string, options: LaneOptions<Booking> = {}): Promise<Booking> {
    return new Promise<Booking>((resolve, reject) => {
      this.queue.enqueue(showId, { kind, bookingId, ...this.queued(options), resolve, reject });
    });
  }

  private queued<T>(options: LaneOptions<T>): Pick<Queued<T>, 'recorder' | 'isGone' | 'deadline'> {
    return { recorder: options.recorder, isGone: options.isGone, deadline: this.queue.deadline() };
  }

  /** Decides the group in the database; never throws: every request gets its answer or an error. */
  private async commitGroup(showId: string, group: LaneRequest[]): Promise<void> {
    let held: Booking[];
    const kind: GroupKind = group.every((request) => request.kind === 'hold') ? 'holds' : 'mixed';
    const started = performance.now();
    const tally: GroupTally = { reclaim: 0, late_action: 0 };
    try {
      held =
        kind === 'holds'
          ? // Holds alone: one statement on its own, so the show's lock is held for one round trip.
            await this.grantHolds(this.options.pool, showId, group as HoldRequest[], null, tally)
          : await withTransaction(this.options.pool, (client) => this.decideMixedGroup(client, showId, group, tally));
    } catch (error) {
      // A database failure fails this group only; the next group gets a fresh connection. A
      // 503 (never a 4xx) for what did not commit: its Idempotency-Keys are released, so retries
      // run again. What committed before the failure is answered as it committed.
      const answer = unavailable();
      this.seated.forgetSeats(showId); // what this process knows of its seats may be what rolled back
      this.options.logger.error({ err: error, showId, groupSize: group.length }, 'show group failed');
      for (const request of group) {
        if (request.committed) this.answer(request);
        else request.reject(answer);
      }
      return;
    } finally {
      this.options.showVersions.changed(showId);
      this.options.metrics?.groupDecided(kind, group.length, (performance.now() - started) / 1000);
    }
    for (const request of group) this.answer(request);
    this.report(group, tally);
    const first = held[0];
    if (first) this.options.onGroupCommitted(showId, first.created_at, first.expires_at);
    // Extended holds fall due later: their new deadlines get jobs too (the old ones find nothing due).
    for (const deadline of tally.extended?.deadlines ?? []) {
      this.options.onGroupCommitted(showId, tally.extended!.at, deadline);
    }
  }

  /** Answers a request whose outcome committed; a keyed success is then marked recorded (it committed with its effect). */
  private answer(request: LaneRequest): void {
    if (request.outcome?.value !== undefined && request.recorder) request.recorder.claim.recorded = true;
    if (request.kind === 'hold') deliver(request);
    else deliver(request);
  }

  /**
   * A group that confirms, cancels or extends: one transaction under the show's lock, every
   * deadline judged at the instant the lock was granted. Returns the holds written.
   */
  private async decideMixedGroup(
    client: PoolClient,
    showId: string,
    group: LaneRequest[],
    tally: GroupTally,
  ): Promise<Booking[]> {
    const show = await this.options.shows.lockInventory(client, showId);
    if (!show) {
      const missing = new AppError('show_not_found');
      for (const request of group) request.outcome = { error: missing };
      return [];
    }
    const actions = group.filter((request): request is ActionRequest => request.kind !== 'hold');
    await this.actions.apply(client, showId, show, actions, tally);
    const holds = group.filter((request): request is HoldRequest => request.kind === 'hold');
    return this.grantHolds(client, showId, holds, show.now, tally);
  }

  private grantHolds(
    db: Pool | PoolClient,
    showId: string,
    holds: HoldRequest[],
    now: DbInstant | null,
    tally: GroupTally,
  ): Promise<Booking[]> {
    if (holds.length === 0) return Promise.resolve([]);
    return holds[0]!.seating
      ? this.seated.grant(db, showId, holds, now, tally)
      : this.generalAdmission.grant(db, showId, holds, now, tally);
  }

  /** After commit: what the group decided, for the metrics. */
  private report(group: LaneRequest[], tally: GroupTally): void {
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
    metrics.expired('reclaim', tally.reclaim);
    metrics.expired('late_action', tally.late_action);
  }
}
