import { DelayedError, Worker, type Job } from 'bullmq';
import { producerConnection, workerConnection as newWorkerConnection } from '../adapters/redis.js';
import type { Logger } from '../logger.js';
import type { WebhookDeliveryService } from '../services/webhook-delivery.service.js';
import type { WebhookRelay } from '../services/webhook-relay.service.js';
import { createWebhookQueue, WEBHOOK_QUEUE_NAME, WebhookScheduler, type DeliverJobData } from './webhook.queue.js';

export interface WebhookWorkerOptions {
  redisUrl: string;
  prefix: string;
  delivery: WebhookDeliveryService;
  relay: WebhookRelay;
  /** Jobs run at once (WEBHOOK_CONCURRENCY). */
  concurrency: number;
  /** How often the relay reads the outbox (OUTBOX_RELAY_INTERVAL_MS). */
  relayIntervalMs: number;
  /** How often due deliveries without a job are looked for. */
  sweepIntervalMs?: number;
  logger: Logger;
}

export interface RunningWebhookWorker {
  worker: Worker;
  jobCounts(this: void): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/** How long a job whose endpoint has every slot taken waits before it asks again. */
const ENDPOINT_BUSY_DELAY_MS = 250;
const SWEEP_BATCH = 1_000;

/**
 * The worker's side of webhooks: the relay loop (outbox → deliveries → jobs), the delivery
 * jobs, and the sweeper that enqueues due deliveries the queue does not have (Redis was down at
 * relay time, was flushed, or a worker died mid-attempt and its lease ran out).
 */
export async function startWebhookWorker(options: WebhookWorkerOptions): Promise<RunningWebhookWorker> {
  const { delivery, relay, logger } = options;
  const workerConnection = newWorkerConnection(options.redisUrl);
  // Fails fast while Redis is down, instead of buffering: the sweeper makes up for it.
  const producer = producerConnection(options.redisUrl);
  producer.on('error', () => {}); // reported by the scheduler's log
  const queue = createWebhookQueue(producer, options.prefix);
  const scheduler = new WebhookScheduler(queue, logger);

  const processor = async (job: Job<DeliverJobData>, token?: string): Promise<unknown> => {
    const { deliveryId, endpointId } = job.data;
    if (!delivery.slots.tryAcquire(endpointId)) {
      // This endpoint has WEBHOOK_ENDPOINT_CONCURRENCY attempts in flight here: the job steps
      // aside, so the worker's other slots serve other endpoints.
      await job.moveToDelayed(Date.now() + ENDPOINT_BUSY_DELAY_MS + Math.random() * ENDPOINT_BUSY_DELAY_MS, token);
      throw new DelayedError();
    }
    let result;
    try {
      result = await delivery.attempt(deliveryId);
    } finally {
      delivery.slots.release(endpointId);
    }
    if (result.kind === 'not_due') {
      await job.moveToDelayed(Date.now() + result.inMs, token);
      throw new DelayedError();
    }
    if (result.kind === 'retry') await scheduler.schedule([result.next]);
    return result.kind;
  };

  const worker = new Worker<DeliverJobData>(WEBHOOK_QUEUE_NAME, processor, {
    connection: workerConnection,
    prefix: options.prefix,
    concurrency: options.concurrency,
  });
  worker.on('failed', (job, error) => logger.warn({ err: error, jobId: job?.id }, 'webhook job failed'));
  worker.on('error', (error) => logger.warn({ err: error }, 'webhook worker error'));

  let stopped = false;
  const loop = (name: string, intervalMs: number, pass: () => Promise<unknown>) => {
    let timer: NodeJS.Timeout | undefined;
    let current: Promise<unknown> = Promise.resolve();
    const tick = () => {
      current = pass()
        .catch((error: unknown) => logger.warn({ err: error }, `webhook ${name} failed`))
        .finally(() => {
          if (!stopped) timer = setTimeout(tick, intervalMs);
        });
    };
    timer = setTimeout(tick, 0);
    return async () => {
      clearTimeout(timer);
      await current;
    };
  };
  const stopRelay = loop('relay', options.relayIntervalMs, async () => scheduler.schedule(await relay.run()));
  const stopSweeper = loop('sweeper', options.sweepIntervalMs ?? 2_000, async () =>
    scheduler.schedule(await delivery.due(SWEEP_BATCH)),
  );
  await worker.waitUntilReady();

  return {
    worker,
    jobCounts: () => queue.getJobCounts('waiting', 'delayed', 'active', 'failed'),
    async close() {
      stopped = true;
      await Promise.all([stopRelay(), stopSweeper()]);
      await worker.close();
      await queue.close();
      workerConnection.disconnect();
      producer.disconnect();
    },
  };
}
