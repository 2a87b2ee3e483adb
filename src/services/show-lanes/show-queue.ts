import { AppError } from '../../errors.js';
import type { Logger } from '../../logger.js';

/** What a request in a show's queue must offer: a deadline, a way to tell it has left, a way to refuse it. */
export interface Waiting {
  /** Clock time (ms) after which it no longer waits. */
  deadline: number;
  /** True once its client has gone away: it then leaves the queue, holding nothing. */
  isGone?: (() => boolean) | undefined;
  reject(error: unknown): void;
}

/** Time as the queue reads it; a test gives a fake one. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(timer: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => {
    const timer = setTimeout(callback, ms);
    timer.unref();
    return timer;
  },
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

export interface ShowQueueOptions<R extends Waiting> {
  /** Most requests one group takes. */
  maxGroupSize: number;
  /** Most requests waiting per show; beyond it a request is refused at once (503). */
  maxWaiting: number;
  /** Longest a request waits for its turn before it is answered 503, holding nothing. */
  maxWaitMs: number;
  /** Decides a group and answers each of its requests; must not reject. */
  commit(showId: string, group: R[]): Promise<void>;
  /** How long each request of a group waited (seconds), as its group starts. */
  onWaited?: ((seconds: number) => void) | undefined;
  logger: Logger;
  clock?: Clock;
}

interface Line<R> {
  waiting: R[];
  /** Armed for the deadline of the oldest waiting request. */
  timer: unknown;
}

const unavailable = () => new AppError('service_unavailable', 'The request could not be completed; retry shortly');

/**
 * The per-show queue of a lane: requests that arrive for a show while its previous group is in the
 * database wait here, and then go together as the next group, oldest first. There is no timer on
 * the way in: a lone request goes straight to `commit`, and a group is only what piled up
 * meanwhile. One group per show at a time.
 *
 * Waits are bounded: at most maxWaiting requests wait per show (503 at once beyond), a request
 * that waited maxWaitMs is answered 503 on time even while its show is busy, and one whose client
 * went away leaves the queue; none of them holds anything.
 */
export class ShowQueue<R extends Waiting> {
  private readonly lines = new Map<string, Line<R>>();
  private readonly clock: Clock;

  constructor(private readonly options: ShowQueueOptions<R>) {
    this.clock = options.clock ?? systemClock;
  }

  /** The deadline of a request arriving now. */
  deadline(): number {
    return this.clock.now() + this.options.maxWaitMs;
  }

  /** Requests waiting for the show (its group in the database not counted). */
  waiting(showId: string): number {
    return this.lines.get(showId)?.waiting.length ?? 0;
  }

  enqueue(showId: string, request: R): void {
    const line = this.lines.get(showId);
    if (!line) {
      const fresh: Line<R> = { waiting: [request], timer: undefined };
      this.lines.set(showId, fresh);
      void this.drain(showId, fresh);
      return;
    }
    if (line.waiting.length >= this.options.maxWaiting) {
      request.reject(new AppError('service_unavailable', 'Too many requests are waiting for this show; retry shortly'));
      return;
    }
    line.waiting.push(request);
    line.timer ??= this.armTimer(line);
  }

  /**
   * Runs groups until nobody waits. Never rejects, and nothing in it may leave the line in the
   * map with nobody draining it, or a request unanswered.
   */
  private async drain(showId: string, line: Line<R>): Promise<void> {
    try {
      while (line.waiting.length > 0) {
        const group = this.takeGroup(line);
        if (group.length === 0) continue;
        try {
          await this.options.commit(showId, group);
        } catch (error) {
          // commit answers its group itself; reaching here is a bug, which must not wedge the show.
          this.options.logger.error({ err: error, showId }, 'show lane failed a group');
          for (const request of group) request.reject(unavailable());
        }
      }
    } catch (error) {
      this.options.logger.error({ err: error, showId }, 'show lane stopped');
    } finally {
      this.clock.clearTimeout(line.timer);
      this.lines.delete(showId);
      for (const request of line.waiting.splice(0)) request.reject(unavailable());
    }
  }

  /** The next group: the oldest waiting requests whose clients still wait for an answer. */
  private takeGroup(line: Line<R>): R[] {
    const now = this.clock.now();
    const group = line.waiting
      .splice(0, this.options.maxGroupSize)
      .filter((request) => this.stillWaiting(request, now));
    const { onWaited, maxWaitMs } = this.options;
    if (onWaited) for (const request of group) onWaited((now - request.deadline + maxWaitMs) / 1000);
    return group;
  }

  private stillWaiting(request: R, now: number): boolean {
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
  private armTimer(line: Line<R>): unknown {
    const oldest = line.waiting[0];
    if (!oldest) return undefined;
    return this.clock.setTimeout(
      () => {
        const now = this.clock.now();
        let expired = 0;
        while (expired < line.waiting.length && line.waiting[expired]!.deadline <= now) expired++;
        for (const request of line.waiting.splice(0, expired)) this.stillWaiting(request, now);
        line.timer = this.armTimer(line);
      },
      Math.max(0, oldest.deadline - this.clock.now()),
    );
  }
}
