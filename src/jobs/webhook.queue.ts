import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { DueDelivery } from '../repositories/webhook.repository.js';

export const WEBHOOK_QUEUE_NAME = 'webhooks';
export const DELIVER_JOB = 'deliver';

export interface DeliverJobData {
  deliveryId: string;
  endpointId: string;
}

/**
 * One job per attempt, keyed by the delivery, its attempt count and when the attempt is due:
 * the relay, the sweeper and a resend asking for the same attempt add one job, and a new
 * schedule (a failure, a manual retry, a lease that ran out) is a new job. (BullMQ refuses
 * ':' in custom ids, hence '-'.)
 */
export function deliverJobId(delivery: DueDelivery): string {
  return `delivery-${delivery.id}-${delivery.attempts}-${delivery.next_attempt_at.getTime()}`;
}

export function createWebhookQueue(connection: Redis, prefix: string): Queue<DeliverJobData> {
  return new Queue<DeliverJobData>(WEBHOOK_QUEUE_NAME, {
    connection,
    prefix,
    // No BullMQ retries: the schedule is the database's (next_attempt_at), not the queue's.
    defaultJobOptions: { removeOnComplete: true, removeOnFail: true, attempts: 1 },
  });
}

/**
 * Adds the jobs of deliveries, delayed to when each is due. Never throws: the deliveries are
 * in the database, and the sweeper enqueues any whose job was not added.
 */
export class WebhookScheduler {
  private failing = false;

  constructor(
    private readonly queue: Queue<DeliverJobData>,
    private readonly logger: Logger,
  ) {}

  schedule(deliveries: DueDelivery[]): Promise<void> {
    if (deliveries.length === 0) return Promise.resolve();
    const now = Date.now();
    return this.queue
      .addBulk(
        deliveries.map((delivery) => ({
          name: DELIVER_JOB,
          data: { deliveryId: delivery.id, endpointId: delivery.endpoint_id },
          opts: { jobId: deliverJobId(delivery), delay: Math.max(0, delivery.next_attempt_at.getTime() - now) },
        })),
      )
      .then(
        () => {
          if (this.failing) this.logger.info('webhook deliveries are being queued again');
          this.failing = false;
        },
        (error: unknown) => {
          if (!this.failing)
            this.logger.warn({ err: error }, 'could not queue webhook deliveries; the sweeper will queue them');
          this.failing = true;
        },
      );
  }
}
