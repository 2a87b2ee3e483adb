import type { Logger } from '../logger.js';
import { withTransaction, type Pool } from '../adapters/postgres/pool.js';
import type { ExpiryPath, Metrics } from '../metrics.js';
import type { BookingRepository } from '../repositories/booking.repository.js';
import type { ShowRepository } from '../repositories/show.repository.js';

const SWEEP_BATCH = 500;
/** Most holds one expiry transaction turns EXPIRED. */
const EXPIRY_BATCH = 1_000;

/**
 * Turns overdue PENDING holds into EXPIRED and returns their seats. Every path (the
 * per-bucket BullMQ job, the periodic sweep, a hold group short of seats, a late confirm)
 * ends in the same statement under the show's lock, so expiring twice is harmless.
 */
export class ExpiryService {
  constructor(
    private readonly pool: Pool,
    private readonly shows: ShowRepository,
    private readonly bookings: BookingRepository,
    private readonly logger: Logger,
    private readonly metrics?: Metrics,
  ) {}

  /**
   * Expires the show's overdue holds; returns the seats put back on sale. In batches of
   * EXPIRY_BATCH, each its own transaction: a wave of thousands of holds falling due together
   * never holds a selling show's lock for long.
   */
  async expireShow(showId: string, path: ExpiryPath = 'job'): Promise<number> {
    let freed = 0;
    for (;;) {
      const batch = await withTransaction(this.pool, async (client) => {
        const show = await this.shows.lockInventory(client, showId);
        return show
          ? this.bookings.expireOverdue(client, showId, show.now, EXPIRY_BATCH)
          : { bookings: 0, seats: 0, lateSeconds: [] };
      });
      this.metrics?.expired(path, batch.bookings, batch.lateSeconds);
      freed += batch.seats;
      if (batch.bookings < EXPIRY_BATCH) return freed;
    }
  }

  /**
   * For an expiry job due at dueAt (database clock): expires what is overdue, then
   * returns how many ms remain until the rest of the holds due by dueAt fall due
   * (0 when none remain), so a job that fired early can be put back.
   */
  async expireDue(showId: string, dueAt: Date): Promise<number> {
    await this.expireShow(showId);
    const remaining = await this.bookings.msUntilLastDue(showId, dueAt);
    return remaining !== null && remaining > 0 ? Math.ceil(remaining) : 0;
  }

  /** Expires every overdue hold of every show; returns the seats put back on sale. */
  async sweep(): Promise<number> {
    let freed = 0;
    for (;;) {
      const showIds = await this.shows.idsWithOverdueHolds(SWEEP_BATCH);
      for (const showId of showIds) freed += await this.expireShow(showId, 'sweep');
      if (showIds.length < SWEEP_BATCH) break;
    }
    if (freed > 0) this.logger.info({ freed }, 'sweep expired overdue holds');
    return freed;
  }
}
