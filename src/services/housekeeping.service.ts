import type { Logger } from '../logger.js';
import type { ExpiryService } from './expiry.service.js';
import type { IdempotencyService } from './idempotency.service.js';

/**
 * The periodic sweep: expires every overdue hold (backing the per-group expiry jobs, which
 * a Redis loss can drop) and purges Idempotency-Keys past their 24 hours. Run by the worker
 * as a BullMQ job scheduler, or by the API process itself when there is no Redis.
 */
export class HousekeepingService {
  constructor(
    private readonly expiry: ExpiryService,
    private readonly idempotency: IdempotencyService,
    private readonly logger: Logger,
  ) {}

  async run(): Promise<{ freedSeats: number; purgedKeys: number }> {
    const freedSeats = await this.expiry.sweep();
    const purgedKeys = await this.idempotency.purgeExpired();
    if (purgedKeys > 0) this.logger.info({ purgedKeys }, 'purged Idempotency-Keys past retention');
    return { freedSeats, purgedKeys };
  }
}
