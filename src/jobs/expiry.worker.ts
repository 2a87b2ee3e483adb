import { DelayedError, Queue, Worker, type Job } from 'bullmq';
import { workerConnection as newWorkerConnection } from '../adapters/redis.js';
import type { Logger } from '../logger.js';
import type { ExpiryService } from '../services/expiry.service.js';
import { EXPIRE_JOB, EXPIRY_QUEUE_NAME, SWEEP_JOB, type ExpireJobData } from './expiry.queue.js';

export interface ExpiryWorkerOptions {
  redisUrl: string;
  prefix: string;
  expiry: ExpiryService;
  /** The periodic job (HousekeepingService.run in production). */
  sweep: () => Promise<unknown>;
  sweepIntervalMs: number;
  concurrency?: number;
  logger: Logger;
}

export interface RunningExpiryWorker {
  worker: Worker;
  /** The queue's jobs by state, for the metrics. */
  jobCounts(this: void): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/**
 * The BullMQ side of expiry: runs the delayed jobs (one per show per bucket of deadlines), and
 * registers the periodic sweep as a job scheduler (upsert: any number of replicas share one
 * schedule). Each job re-reads the database and is idempotent, so replicas and retries are harmless.
 */
export async function startExpiryWorker(options: ExpiryWorkerOptions): Promise<RunningExpiryWorker> {
  const { redisUrl, prefix, expiry, sweep, sweepIntervalMs, logger } = options;
  // Workers block on Redis; BullMQ requires maxRetriesPerRequest: null for them.
  const workerConnection = newWorkerConnection(redisUrl);
  const schedulerConnection = newWorkerConnection(redisUrl);

  const processor = async (job: Job, token?: string): Promise<unknown> => {
    if (job.name === SWEEP_JOB) return sweep();
    if (job.name !== EXPIRE_JOB) throw new Error(`unknown job ${job.name}`);
    const { showId, dueAt } = job.data as ExpireJobData;
    const retryInMs = await expiry.expireDue(showId, new Date(dueAt));
    if (retryInMs > 0 && token) {
      // Fired before the database clock reached the deadline (clock skew): put it back.
      await job.moveToDelayed(Date.now() + retryInMs, token);
      throw new DelayedError();
    }
    return 0;
  };

  const worker = new Worker(EXPIRY_QUEUE_NAME, processor, {
    connection: workerConnection,
    prefix,
    concurrency: options.concurrency ?? 4,
  });
  worker.on('failed', (job, error) => logger.warn({ err: error, jobId: job?.id }, 'expiry job failed'));
  worker.on('error', (error) => logger.warn({ err: error }, 'expiry worker error'));

  const schedulerQueue = new Queue(EXPIRY_QUEUE_NAME, { connection: schedulerConnection, prefix });
  const upsertSweep = () =>
    schedulerQueue.upsertJobScheduler(
      'expiry-sweep',
      { every: sweepIntervalMs },
      { name: SWEEP_JOB, opts: { removeOnComplete: true, removeOnFail: 100 } },
    );
  await upsertSweep();
  // A flushed or replaced Redis loses the schedule with the jobs; asserting it again
  // every interval (an idempotent upsert) brings the sweep back within one interval.
  const keepScheduled = setInterval(() => {
    upsertSweep().catch((error: unknown) => logger.warn({ err: error }, 'could not schedule the expiry sweep'));
  }, sweepIntervalMs);
  keepScheduled.unref();
  await worker.waitUntilReady();

  return {
    worker,
    jobCounts: () => schedulerQueue.getJobCounts('waiting', 'delayed', 'active', 'failed'),
    async close() {
      clearInterval(keepScheduled);
      await worker.close();
      await schedulerQueue.close();
      workerConnection.disconnect();
      schedulerConnection.disconnect();
    },
  };
}
