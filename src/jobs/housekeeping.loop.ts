import type { Logger } from '../logger.js';
import type { HousekeepingService } from '../services/housekeeping.service.js';

/**
 * Housekeeping without Redis (`npm start` with no REDIS_URL): the API process runs the sweep
 * (lapsed holds expired, Idempotency-Keys and outbox events past retention purged) every interval
 * itself, where the worker runs it as a BullMQ job scheduler. A pass still running when the next
 * tick comes is shared, never doubled (HousekeepingService.run).
 */
export class InProcessHousekeeping {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly housekeeping: HousekeepingService,
    private readonly options: { intervalMs: number; logger: Logger },
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.housekeeping
        .run()
        .catch((error: unknown) => this.options.logger.warn({ err: error }, 'expiry sweep failed'));
    }, this.options.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
