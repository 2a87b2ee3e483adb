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
 * first read, and whenever it has not read the outbox for maxLagMs (the database is away), it is
 * not current: answers are then read from the database every time.
 */
export class ShowChangeFollower {
  private cursor: OutboxPosition | null = null;
  /** performance.now() when the last successful read of the outbox began. */
  private readAt = -Infinity;
  private started = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly versions: ShowVersions,
    private readonly logger: Logger,
    private readonly intervalMs: number,
    private readonly maxLagMs: number,
  ) {}

  /** Whether every change committed more than maxLagMs ago has been read (starts following if not yet). */
  current(): boolean {
    if (!this.started) this.start();
    return this.cursor !== null && performance.now() - this.readAt < this.maxLagMs;
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
      this.readAt = began;
    } catch (error) {
      this.logger.warn({ err: error }, 'cached reads: reading the outbox failed');
    }
    if (this.closed) return;
    this.timer = setTimeout(() => void this.tick(), Math.max(0, this.intervalMs - (performance.now() - began)));
    this.timer.unref();
  }
}
