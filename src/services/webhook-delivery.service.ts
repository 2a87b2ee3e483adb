import { Webhook } from 'standardwebhooks';
import type { Config } from '../config.js';
import { eventFromRow } from '../domain/events.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { DueDelivery, WebhookRepository } from '../repositories/webhook.repository.js';
import { sendWebhook, type SendResult } from '../adapters/webhook-sender.js';

/** What one call of attempt() came to. */
export type AttemptResult =
  | { kind: 'delivered' }
  /** Failed; the next attempt is due at `next.next_attempt_at`. */
  | { kind: 'retry'; next: DueDelivery }
  | { kind: 'failed' }
  /** Pending but not due yet (a job that fired early, by the database clock): try again in inMs. */
  | { kind: 'not_due'; inMs: number }
  /** Not pending (delivered, failed, deleted) or leased by another sender: nothing to do. */
  | { kind: 'skipped' };

/** How long a lease outlives the attempt's own timeout: time to record the outcome. */
const LEASE_MARGIN_MS = 5_000;

/** The Standard Webhooks headers of one attempt: the event id is the same on every retry. */
export function signedHeaders(secret: string, eventId: string, body: string, at: Date): Record<string, string> {
  return {
    'webhook-id': eventId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(eventId, at, body),
  };
}

/**
 * The delay before the attempt after `failedAttempts` failures: WEBHOOK_RETRY_BASE_MS doubling,
 * at most WEBHOOK_RETRY_MAX_DELAY_SECONDS, with equal jitter (half fixed, half random), so
 * receivers that failed together are not all retried in the same instant.
 */
export function retryDelayMs(
  failedAttempts: number,
  config: Pick<Config, 'WEBHOOK_RETRY_BASE_MS' | 'WEBHOOK_RETRY_MAX_DELAY_SECONDS'>,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(failedAttempts - 1, 0), 40);
  const ceiling = Math.min(config.WEBHOOK_RETRY_BASE_MS * 2 ** exponent, config.WEBHOOK_RETRY_MAX_DELAY_SECONDS * 1000);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** In-flight attempts per endpoint in this process, so one slow receiver cannot take every slot. */
export class EndpointSlots {
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly perEndpoint: number) {}

  tryAcquire(endpointId: string): boolean {
    const used = this.inFlight.get(endpointId) ?? 0;
    if (used >= this.perEndpoint) return false;
    this.inFlight.set(endpointId, used + 1);
    return true;
  }

  release(endpointId: string): void {
    const used = (this.inFlight.get(endpointId) ?? 1) - 1;
    if (used <= 0) this.inFlight.delete(endpointId);
    else this.inFlight.set(endpointId, used);
  }
}

/**
 * One attempt of one delivery: lease, sign, POST, record. The database decides everything
 * (whether the delivery is due, what comes next); the caller (a BullMQ job or the in-process
 * loop) only says when to try. No row lock or pool connection is held across the HTTP call.
 */
export class WebhookDeliveryService {
  readonly slots: EndpointSlots;

  constructor(
    private readonly webhooks: WebhookRepository,
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly metrics?: Metrics,
  ) {
    this.slots = new EndpointSlots(config.WEBHOOK_ENDPOINT_CONCURRENCY);
  }

  /** Pending deliveries that are due and not leased (for the sweeper and the in-process loop). */
  due(limit: number): Promise<DueDelivery[]> {
    return this.webhooks.due(limit);
  }

  /**
   * Deletes, in batches, outbox events past OUTBOX_RETENTION_HOURS that the relay has passed and
   * no pending delivery needs; their deliveries and attempts go with them. Returns how many.
   */
  async purgeOutbox(batch = 1_000, maxBatches = 20): Promise<number> {
    let purged = 0;
    for (let i = 0; i < maxBatches; i++) {
      const deleted = await this.webhooks.purgeOutbox(this.config.OUTBOX_RETENTION_HOURS, batch);
      purged += deleted;
      if (deleted < batch) break;
    }
    return purged;
  }

  async attempt(deliveryId: string): Promise<AttemptResult> {
    const leased = await this.webhooks.lease(deliveryId, this.config.WEBHOOK_TIMEOUT_MS + LEASE_MARGIN_MS);
    if (!leased) {
      const inMs = await this.webhooks.msUntilDue(deliveryId);
      return inMs !== undefined && inMs > 0 ? { kind: 'not_due', inMs: Math.ceil(inMs) } : { kind: 'skipped' };
    }
    const attemptedAt = new Date();
    let sent: SendResult;
    let giveUp = false;
    if (!leased.enabled) {
      sent = { statusCode: null, durationMs: 0, error: 'the endpoint is disabled' };
      giveUp = true;
    } else {
      const body = JSON.stringify(eventFromRow(leased.event));
      const headers = signedHeaders(leased.secret, leased.event.id, body, attemptedAt);
      sent = await sendWebhook(leased.url, headers, body, {
        timeoutMs: this.config.WEBHOOK_TIMEOUT_MS,
        allowPrivateNetworks: this.config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
      });
    }
    const delivered = sent.error === null;
    const recorded = await this.webhooks.record(deliveryId, leased.lease_token, {
      attemptedAt,
      statusCode: sent.statusCode,
      durationMs: sent.durationMs,
      error: sent.error,
      delivered,
      giveUp,
      retryDelayMs: retryDelayMs(leased.attempts + 1, this.config),
      retryWindowSeconds: this.config.WEBHOOK_RETRY_WINDOW_SECONDS,
    });
    // The lease was voided meanwhile (a manual retry): the attempt is logged, the state is not ours.
    if (!recorded) return { kind: 'skipped' };
    this.metrics?.webhookAttempted(recorded.state === 'pending' ? 'retry' : recorded.state, sent.durationMs / 1000);
    if (recorded.state === 'delivered') return { kind: 'delivered' };
    if (recorded.state === 'failed') {
      this.logger.warn(
        { deliveryId, endpointId: leased.endpoint_id, attempts: recorded.attempts, error: sent.error },
        'webhook delivery failed for good',
      );
      return { kind: 'failed' };
    }
    return { kind: 'retry', next: recorded };
  }
}
