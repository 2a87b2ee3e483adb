import type { Pool } from '../../adapters/postgres/pool.js';
import type { Logger } from '../../logger.js';
import type {
  BookingRepository,
  CatalogueVersion,
  GroupHold,
  GroupHoldResult,
} from '../../repositories/booking.repository.js';

interface ReadyGroup {
  showId: string;
  holds: GroupHold[];
  /** The show's ticket types the holds were priced with. */
  catalogue: CatalogueVersion;
  resolve(results: GroupHoldResult[]): void;
  reject(error: unknown): void;
}

export interface HoldBatchesOptions {
  pool: Pool;
  bookings: BookingRepository;
  holdTtlSeconds: number;
  /** Hold statements in flight at once; groups that become ready beyond it share the next one. */
  maxStatements: number;
  logger: Logger;
}

/**
 * Group commit across shows. A general-admission hold group goes to the database at once while
 * fewer than maxStatements of them are in flight; past that, the groups that become ready wait for
 * the next statement and share it (core.hold_groups: one statement, one commit, shows locked in id
 * order with SKIP LOCKED). A hot show is unaffected (its groups are one at a time anyway); many
 * shows selling at once share commits instead of each paying its own.
 */
export class HoldBatches {
  private readonly ready: ReadyGroup[] = [];
  private inFlight = 0;

  constructor(private readonly options: HoldBatchesOptions) {}

  /** The group's results, decided alone or in a batch with other shows' groups, committed either way. */
  hold(showId: string, holds: GroupHold[], catalogue: CatalogueVersion): Promise<GroupHoldResult[]> {
    return new Promise((resolve, reject) => {
      this.ready.push({ showId, holds, catalogue, resolve, reject });
      if (this.inFlight < this.options.maxStatements) this.sendReady();
    });
  }

  private sendReady(): void {
    const batch = this.ready.splice(0);
    if (batch.length === 0) return;
    this.inFlight++;
    void this.send(batch).finally(() => {
      this.inFlight--;
      this.sendReady();
    });
  }

  /** Never rejects: each group of the batch is resolved or rejected. */
  private async send(batch: ReadyGroup[]): Promise<void> {
    const { bookings, holdTtlSeconds, pool, logger } = this.options;
    if (batch.length > 1) {
      try {
        const results = await bookings.holdGroups(batch, holdTtlSeconds);
        batch.forEach((group, index) => group.resolve(results[index]!));
        return;
      } catch (error) {
        // The batch committed nothing. One group's trouble (a key's lock, a timeout) must not
        // fail the others' requests: each group goes again, alone.
        logger.warn({ err: error, groups: batch.length }, 'a batch of hold groups failed; each goes alone');
      }
    }
    await Promise.all(
      batch.map(async (group) => {
        try {
          group.resolve(
            await bookings.holdGroup(pool, group.showId, group.holds, holdTtlSeconds, null, group.catalogue),
          );
        } catch (error) {
          group.reject(error);
        }
      }),
    );
  }
}
