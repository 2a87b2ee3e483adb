import { withTransaction, type Pool } from '../adapters/postgres/pool.js';
import type { Logger } from '../logger.js';
import type { OutboxRepository } from '../repositories/outbox.repository.js';
import type { DueDelivery, WebhookRepository } from '../repositories/webhook.repository.js';

/** The relay's row in outbox_cursors. */
export const RELAY_CURSOR = 'webhooks';
/** Most events one relay transaction reads. */
const RELAY_BATCH = 500;

/**
 * Turns outbox events into webhook deliveries. Each page is one transaction: lock the cursor
 * (another relay running: skip), read the events after it in commit order, insert their
 * deliveries, move the cursor, commit. An event is thus relayed exactly once, whether the
 * process dies before or after the commit; whoever schedules the deliveries does it only
 * after (a queue that loses them is made good by the sweeper: the database is the truth).
 */
export class WebhookRelay {
  private running: Promise<DueDelivery[]> | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly outbox: OutboxRepository,
    private readonly webhooks: WebhookRepository,
    private readonly logger: Logger,
  ) {}

  /** One pass up to the outbox's horizon; returns the deliveries it created. A call during a pass shares it. */
  run(): Promise<DueDelivery[]> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<DueDelivery[]> {
    const created: DueDelivery[] = [];
    for (;;) {
      const page = await withTransaction(this.pool, async (client) => {
        const position = await this.webhooks.lockCursor(client, RELAY_CURSOR);
        if (!position) return undefined; // another relay holds it
        const events = await this.outbox.eventsAfter(position, RELAY_BATCH, client);
        const deliveries = await this.webhooks.insertDeliveries(client, events.rows);
        if (events.next.tx !== position.tx || events.next.seq !== position.seq) {
          await this.webhooks.moveCursor(client, RELAY_CURSOR, events.next);
        }
        return { read: events.rows.length, deliveries };
      });
      if (!page) return created;
      created.push(...page.deliveries);
      if (page.read < RELAY_BATCH) break;
    }
    if (created.length > 0) this.logger.debug({ deliveries: created.length }, 'relayed outbox events to webhooks');
    return created;
  }
}
