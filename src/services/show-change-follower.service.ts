import type { Logger } from '../logger.js';
import type { OutboxPosition, OutboxRepository } from '../repositories/outbox.repository.js';
import type { ShowVersions } from './show-versions.service.js';

/** Events read at most per read of the outbox; a backlog is caught up over several reads. */
const PAGE = 10_000;

/**
 * Tells this process of the changes other processes (and workers) made to shows, so that the
 * answers it keeps in memory (SharedReads) are read again after them: every intervalMs it reads
 * which shows the outbox recorded changes of since its cursor, and moves their ShowVersions.
 *
 * It starts on the first read that wants it and reads one row per read of the outbox. Until its
 * first read has set its cursor, answers are read from the database every time. What it may miss
 * or read late (the database away, the outbox's horizon held back by a long transaction) is bounded
 * by SharedReads' maxAgeMs, not here.
 */
export class ShowChangeFollower {
  private cursor: OutboxPosition | null = null;
  private started = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly versions: ShowVersions,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  /** Whether answers read from now on can be shared: the cursor is set (starts following if not yet). */
  current(): boolean {
    if (!this.started) this.start();
    return this.cursor !== null;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private start(): void {
    if (this.closed) return;
    this.started = true;
    void this.tick();
  }

  private async tick(): Promise<void> {
    const began = performance.now();
    try {
      if (this.cursor === null) {
        // Answers read from now on are read after this position: any change they miss is after it.
        this.cursor = await this.outbox.head();
      } else {
        const { showIds, next } = await this.outbox.showsChangedAfter(this.cursor, PAGE);
        for (const showId of showIds) this.versions.changed(showId);
        this.cursor = next;
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'cached reads: reading the outbox failed');
    }
    if (this.closed) return;
    this.timer = setTimeout(() => void this.tick(), Math.max(0, this.intervalMs - (performance.now() - began)));
    this.timer.unref();
  }
}
