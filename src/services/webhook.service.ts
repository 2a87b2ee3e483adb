import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { withTransaction, type Pool } from '../adapters/postgres/pool.js';
import {
  bareHost,
  isPublicAddress,
  urlFormProblem,
  type CreatedWebhook,
  type DeliveryState,
  type NewWebhook,
  type WebhookChanges,
  type WebhookDelivery,
  type WebhookEndpoint,
} from '../domain/webhook.js';
import { AppError } from '../errors.js';
import type { DueDelivery, WebhookRepository } from '../repositories/webhook.repository.js';
import { decodeCursor, encodeKeyset } from './show.service.js';

/** Told of deliveries that are due (or will be): enqueues their attempt, or wakes the in-process loop. */
export type ScheduleDeliveries = (deliveries: DueDelivery[]) => void;

export interface DeliveryPage {
  deliveries: WebhookDelivery[];
  nextCursor?: string;
}

/** How long a webhook URL's host may take to resolve when it is checked. */
const RESOLVE_TIMEOUT_MS = 5_000;

/** A Standard Webhooks secret: whsec_ and the base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The admin's webhook endpoints: their rules (URLs, events), pings, the delivery log and resends. */
export class WebhookService {
  constructor(
    private readonly pool: Pool,
    private readonly webhooks: WebhookRepository,
    private readonly allowPrivateNetworks: boolean,
    private readonly schedule: ScheduleDeliveries = () => {},
  ) {}

  async create(request: NewWebhook): Promise<CreatedWebhook> {
    await this.checkUrl(request.url);
    const secret = newWebhookSecret();
    const endpoint = await this.webhooks.createEndpoint({
      url: request.url,
      events: request.events,
      description: request.description ?? null,
      secret,
    });
    return { ...endpoint, secret };
  }

  list(): Promise<WebhookEndpoint[]> {
    return this.webhooks.listEndpoints();
  }

  async get(id: string): Promise<WebhookEndpoint> {
    const endpoint = await this.webhooks.endpoint(id);
    if (!endpoint) throw new AppError('webhook_not_found');
    return endpoint;
  }

  async update(id: string, changes: WebhookChanges): Promise<WebhookEndpoint> {
    await this.get(id);
    if (changes.url !== undefined) await this.checkUrl(changes.url);
    const endpoint = await this.webhooks.updateEndpoint(id, changes);
    if (!endpoint) throw new AppError('webhook_not_found');
    return endpoint;
  }

  async remove(id: string): Promise<void> {
    if (!(await this.webhooks.deleteEndpoint(id))) throw new AppError('webhook_not_found');
  }

  /** Records a ping for this endpoint only, with its delivery, and schedules it. */
  /** Records a ping for this endpoint only and schedules its delivery; returns the delivery's id. */
  async ping(id: string): Promise<string> {
    await this.get(id);
    const delivery = await withTransaction(this.pool, (client) => this.webhooks.insertPing(client, id));
    this.schedule([delivery]);
    return delivery.id;
  }

  /** The endpoint's deliveries, newest first, each with its attempts; keyset-paginated. */
  async deliveries(
    id: string,
    state: DeliveryState | undefined,
    limit: number,
    cursor: string | undefined,
  ): Promise<DeliveryPage> {
    const after = cursor === undefined ? null : decodeCursor(cursor);
    await this.get(id);
    const rows = await this.webhooks.deliveries(
      id,
      state,
      limit + 1,
      after && { createdAt: after.startTime, id: after.id },
    );
    const page = rows.slice(0, limit);
    const attempts = await this.webhooks.attemptsOf(page.map((row) => row.id));
    const deliveries: WebhookDelivery[] = page.map((row) => {
      const delivery: WebhookDelivery & { createdAtExact?: string } = {
        ...row,
        attempt_log: attempts
          .filter((attempt) => attempt.delivery_id === row.id)
          .map((attempt) => ({
            attempted_at: attempt.attempted_at,
            status_code: attempt.status_code,
            duration_ms: attempt.duration_ms,
            error: attempt.error,
          })),
      };
      delete delivery.createdAtExact;
      return delivery;
    });
    const last = page.at(-1);
    return rows.length > limit && last
      ? { deliveries, nextCursor: encodeKeyset(last.createdAtExact, last.id) }
      : { deliveries };
  }

  /** Sends the delivery again: pending, due now, with a new retry window. */
  async retry(id: string, deliveryId: string): Promise<string> {
    await this.get(id);
    const delivery = await this.webhooks.retry(id, deliveryId);
    if (!delivery) throw new AppError('delivery_not_found');
    this.schedule([delivery]);
    return delivery.id;
  }

  /**
   * A URL is taken if it is http(s) without credentials and its host resolves, to public
   * addresses only unless WEBHOOK_ALLOW_PRIVATE_NETWORKS. Each attempt checks again the address
   * it connects to (src/adapters/webhook-sender.ts): a host may resolve differently later.
   */
  private async checkUrl(text: string): Promise<void> {
    const form = urlFormProblem(text);
    if ('problem' in form) throw refused(`The URL ${form.problem}`);
    const host = bareHost(form.url);
    let addresses: string[];
    if (isIP(host) !== 0) {
      addresses = [host];
    } else {
      try {
        const found = await Promise.race([
          lookup(host, { all: true, verbatim: true }),
          new Promise<never>((_resolve, reject) =>
            setTimeout(() => reject(new Error('timeout')), RESOLVE_TIMEOUT_MS).unref(),
          ),
        ]);
        addresses = found.map((entry) => entry.address);
      } catch {
        throw refused(`The host ${host} does not resolve`);
      }
    }
    if (addresses.length === 0) throw refused(`The host ${host} does not resolve`);
    if (!this.allowPrivateNetworks) {
      const closed = addresses.filter((address) => !isPublicAddress(address));
      if (closed.length > 0) {
        const where =
          isIP(host) !== 0 ? `The address ${host} is` : `The host ${host} resolves to ${closed.join(', ')}:`;
        throw refused(
          `${where} loopback, link-local, private or reserved, which webhooks may not reach (WEBHOOK_ALLOW_PRIVATE_NETWORKS)`,
        );
      }
    }
  }
}

function refused(detail: string): AppError {
  return new AppError('webhook_url_refused', detail);
}
