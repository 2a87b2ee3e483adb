/** Most shows whose last write this process remembers; beyond, the oldest are forgotten (safely: see version). */
const MAX_SHOWS = 10_000;

/**
 * The writes this process made, per show: each change it commits to a show (or attempts: a group
 * that failed may have committed part of its work) takes the next number of one sequence. A read
 * shared between requests (a seat map snapshot) is given only to requests that come while the
 * show's number is still the one the read started at, so a client never reads its own change late
 * from the process that made it (with show-affine routing, the one its next read reaches).
 */
export class LocalWrites {
  private sequence = 0;
  private readonly last = new Map<string, number>();
  /** The highest number forgotten: a show not remembered may have been written as late as this. */
  private forgotten = 0;

  wrote(showId: string): void {
    this.last.delete(showId); // most recent last
    this.last.set(showId, ++this.sequence);
    if (this.last.size > MAX_SHOWS) {
      const [oldest, number] = this.last.entries().next().value!;
      this.last.delete(oldest);
      this.forgotten = Math.max(this.forgotten, number);
    }
  }

  /** The number of the show's last write by this process (or a number at least as high). */
  version(showId: string): number {
    return this.last.get(showId) ?? this.forgotten;
  }
}
