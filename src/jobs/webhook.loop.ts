import type { Logger } from '../logger.js';
import type { DueDelivery } from '../repositories/webhook.repository.js';
import type { WebhookDeliveryService } from '../services/webhook-delivery.service.js';
import type { WebhookRelay } from '../services/webhook-relay.service.js';

const DUE_BATCH = 500;

/**
 * Webhooks without Redis (`npm start` with no REDIS_URL): the API process relays the outbox and
 * sends due deliveries itself, through the same attempt() the worker's jobs call, within
 * WEBHOOK_CONCURRENCY and WEBHOOK_ENDPOINT_CONCURRENCY. Its state is the database's, so a
 * restart loses nothing: what was in flight falls due again when its lease runs out.
 */
export class InProcessWebhooks {
  private readonly inFlight = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly relay: WebhookRelay,
    private readonly delivery: WebhookDeliveryService,
    private readonly options: { intervalMs: number; concurrency: number; logger: Logger },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.kick(), this.options.intervalMs);
  }

  /** A ScheduleDeliveries: new deliveries are looked at now rather than at the next tick. */
  readonly schedule: (deliveries: DueDelivery[]) => void = () => {
    void this.kick();
  };

  /** One pass (shared with a pass already running): relay, then start what is due. */
  kick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.running ??= this.pass()
      .catch((error: unknown) => this.options.logger.warn({ err: error }, 'webhook pass failed'))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
    await Promise.all(this.inFlight.values());
  }

  private async pass(): Promise<void> {
    await this.relay.run();
    const free = this.options.concurrency - this.inFlight.size;
    if (free <= 0) return;
    for (const due of await this.delivery.due(DUE_BATCH)) {
      if (this.inFlight.size >= this.options.concurrency) break;
      if (this.inFlight.has(due.id) || !this.delivery.slots.tryAcquire(due.endpoint_id)) continue;
      const attempt = this.delivery
        .attempt(due.id)
        .then(() => undefined)
        .catch((error: unknown) =>
          this.options.logger.warn({ err: error, deliveryId: due.id }, 'webhook attempt failed'),
        )
        .finally(() => {
          this.delivery.slots.release(due.endpoint_id);
          this.inFlight.delete(due.id);
        });
      this.inFlight.set(due.id, attempt);
    }
  }
}
