import type { Logger } from '../logger.js';
import type { ExpiryService } from './expiry.service.js';
import type { IdempotencyService } from './idempotency.service.js';

export interface HousekeepingResult {
  freedSeats: number;
  purgedKeys: number;
  purgedEvents: number;
}

/**
 * The periodic sweep: expires every overdue hold (backing the expiry jobs, one per show per
 * bucket, which a Redis loss can drop), purges Idempotency-Keys past their 24 hours and outbox
 * events past OUTBOX_RETENTION_HOURS. Run by the worker as a BullMQ job scheduler, or by the API
 * process itself when there is no Redis.
 */
export class HousekeepingService {
  private running: Promise<HousekeepingResult> | undefined;

  constructor(
    private readonly expiry: ExpiryService,
    private readonly idempotency: IdempotencyService,
    private readonly logger: Logger,
    /** Deletes outbox events past their retention that nothing needs any more. */
    private readonly purgeOutbox: () => Promise<number> = () => Promise.resolve(0),
  ) {}

  /**
   * One pass. A call while a pass is still running (a slow database, a short interval)
   * shares that pass instead of starting a second one beside it.
   */
  run(): Promise<HousekeepingResult> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<HousekeepingResult> {
    const freedSeats = await this.expiry.sweep();
    const purgedKeys = await this.idempotency.purgeExpired();
    if (purgedKeys > 0) this.logger.info({ purgedKeys }, 'purged Idempotency-Keys past retention');
    const purgedEvents = await this.purgeOutbox();
    if (purgedEvents > 0) this.logger.info({ purgedEvents }, 'purged outbox events past retention');
    return { freedSeats, purgedKeys, purgedEvents };
  }
}
