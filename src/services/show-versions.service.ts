/** Most shows whose last change this process remembers; beyond, the oldest are forgotten (safely: see version). */
const MAX_SHOWS = 10_000;

/**
 * What this process knows of each show's changes: each change it commits to a show (or attempts:
 * a group that failed may have committed part of its work), and each change another process made
 * that it has read in the outbox (ShowChangeFollower), takes the next number of one sequence. A
 * read shared between requests (SharedReads) is given only to requests that come while the show's
 * number is still the one the read started at: a client never reads its own change late from the
 * process that made it (with show-affine routing, the one its next read reaches), and another
 * process's change as soon as this process has read it.
 */
export class ShowVersions {
  private sequence = 0;
  private readonly last = new Map<string, number>();
  /** The highest number forgotten: a show not remembered may have changed as late as this. */
  private forgotten = 0;

  changed(showId: string): void {
    this.last.delete(showId); // most recent last
    this.last.set(showId, ++this.sequence);
    if (this.last.size > MAX_SHOWS) {
      const [oldest, number] = this.last.entries().next().value!;
      this.last.delete(oldest);
      this.forgotten = Math.max(this.forgotten, number);
    }
  }

  /** A change to some show not known (a new show whose id was not read back): every list of shows. */
  changedSomeShow(): void {
    this.sequence++;
  }

  /** The number of the show's last change (or a number at least as high). */
  version(showId: string): number {
    return this.last.get(showId) ?? this.forgotten;
  }

  /** The number of the last change to any show: what a list of shows is current at. */
  latest(): number {
    return this.sequence;
  }
}
