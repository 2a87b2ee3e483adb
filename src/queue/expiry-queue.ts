import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
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
 * One delayed job per committed hold group, keyed by (show, due ms): adding the same job
 * twice is a no-op, and groups of a show that fall due in the same millisecond share a job.
 */
export function expireJobId(showId: string, dueAt: number): string {
  return `expire-${showId}-${dueAt}`;
}

/** A Redis connection for BullMQ producers: fails fast while Redis is down instead of buffering. */
export function producerConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
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

  constructor(
    private readonly queue: Queue<ExpireJobData>,
    private readonly logger: Logger,
  ) {}

  schedule(showId: string, createdAt: Date, expiresAt: Date): void {
    // pg hands timestamps over truncated to the millisecond; +1 puts the job at or after the real
    // deadline. The delay is the hold's length by the database clock, whatever Node's clock says.
    const dueAt = expiresAt.getTime() + 1;
    const delay = dueAt - createdAt.getTime();
    this.queue.add(EXPIRE_JOB, { showId, dueAt }, { jobId: expireJobId(showId, dueAt), delay }).then(
      () => {
        if (this.failing) this.logger.info('expiry jobs are being scheduled again');
        this.failing = false;
      },
      (error: unknown) => {
        // Logged once per outage, not once per hold group.
        if (!this.failing)
          this.logger.warn({ err: error }, 'could not schedule expiry job; the sweep will expire these holds');
        this.failing = true;
      },
    );
  }
}
