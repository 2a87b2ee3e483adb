import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';

export const EXPIRY_QUEUE_NAME = 'hold-expiry';
export const EXPIRE_JOB = 'expire-holds';
export const SWEEP_JOB = 'sweep';

export interface ExpireJobData {
  showId: string;
  /** Epoch ms by the database clock at or after which every hold of the group is overdue. */
  dueAt: number;
}

/**
 * Holds of a show falling due within one bucket share one delayed job, due at the bucket's
 * end: an on-sale adds at most 1000 / EXPIRY_BUCKET_MS jobs per second per show, however
 * many groups it commits, and a hold turns EXPIRED at most one bucket after its deadline
 * (it stops counting at the deadline itself, with or without the job).
 */
export const EXPIRY_BUCKET_MS = 500;

/** The end of the bucket a hold due at expiresAt falls in (epoch ms by the database clock). */
export function expiryBucket(expiresAt: Date): number {
  // pg hands timestamps over truncated to the millisecond; +1 keeps the bucket's end after the real deadline.
  return Math.ceil((expiresAt.getTime() + 1) / EXPIRY_BUCKET_MS) * EXPIRY_BUCKET_MS;
}

/**
 * Keyed by (show, bucket end): adding the same job twice is a no-op, so any number of API
 * processes share it.
 */
export function expireJobId(showId: string, dueAt: number): string {
  return `expire-${showId}-${dueAt}`;
}

export function createExpiryQueue(connection: Redis, prefix: string): Queue<ExpireJobData> {
  return new Queue<ExpireJobData>(EXPIRY_QUEUE_NAME, {
    connection,
    prefix,
    defaultJobOptions: {
      removeOnComplete: true,
      removeOnFail: { age: 24 * 3600 },
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000 },
    },
  });
}

/**
 * Schedules the expiry job of each committed hold group. Never throws and is not awaited
 * by the request: a hold the database accepted stands even if Redis is down, and the
 * periodic sweep expires holds whose job was never added.
 */
export class ExpiryScheduler {
  private failing = false;
  /**
   * Buckets already queued per show: later groups of the same bucket need no Redis call.
   * A set, not the latest bucket: an extension capped at its lifetime limit can fall due
   * before holds made after it.
   */
  private readonly queued = new Map<string, Set<number>>();

  constructor(
    private readonly queue: Queue<ExpireJobData>,
    private readonly logger: Logger,
  ) {}

  schedule(showId: string, createdAt: Date, expiresAt: Date): void {
    // The delay is counted from the hold's creation by the database clock, whatever Node's clock says.
    const dueAt = expiryBucket(expiresAt);
    if (this.queued.get(showId)?.has(dueAt)) return;
    this.remember(showId, dueAt);
    const delay = dueAt - createdAt.getTime();
    this.queue.add(EXPIRE_JOB, { showId, dueAt }, { jobId: expireJobId(showId, dueAt), delay }).then(
      () => {
        if (this.failing) this.logger.info('expiry jobs are being scheduled again');
        this.failing = false;
      },
      (error: unknown) => {
        // Not queued after all: the next group of this bucket tries again.
        this.queued.get(showId)?.delete(dueAt);
        // Logged once per outage, not once per hold group.
        if (!this.failing)
          this.logger.warn({ err: error }, 'could not schedule expiry job; the sweep will expire these holds');
        this.failing = true;
      },
    );
  }

  private remember(showId: string, dueAt: number): void {
    let buckets = this.queued.get(showId);
    if (!buckets) this.queued.set(showId, (buckets = new Set()));
    buckets.add(dueAt);
    // Buckets long past are forgotten, so this stays as small as what is being sold right now.
    if (buckets.size > 64 || this.queued.size > 10_000) {
      const past = Date.now() - 60_000;
      for (const [id, dues] of this.queued) {
        for (const due of dues) if (due < past) dues.delete(due);
        if (dues.size === 0) this.queued.delete(id);
      }
    }
  }
}
