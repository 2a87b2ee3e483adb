import type { FreshRead } from '../domain/common.js';

export interface SharedReadsOptions<K, T> {
  read: (key: K) => Promise<FreshRead<T>>;
  /** What the key's answer is current at (ShowVersions): a change moves it. */
  version: (key: K) => number;
  /** Whether answers may be shared now: false while this process cannot tell other processes' changes. */
  canShare: () => boolean;
  /** Longest a value is served without a change read: the bound for a change this process missed. */
  maxAgeMs: number;
  /** Most keys kept; beyond, the key whose read began longest ago is let go. */
  maxKeys: number;
  /** A monotonic clock in ms (tests give their own). */
  now?: () => number;
}

interface Entry<T> {
  version: number;
  /** The clock's time until which the value is true without a change. */
  until: number;
  value: Promise<T>;
  settled: boolean;
  /** The read that begins when this one ends, for requests that came after a newer change. */
  next?: Promise<T>;
}

/**
 * Reads answered once per change and served from memory to every request until the next: a read
 * still running, or done and still current, is shared. Current means its key's version has not
 * moved since the read began (no change this process made or has read of since), and no hold it
 * counted has lapsed since. A request that comes while a read begun before the last change is
 * running shares the next read, begun as that one ends: one read of a key at a time, none stale.
 *
 * A value served from memory is the same object until the next read: callers may keep what they
 * derive from it (a serialized body) beside it.
 */
export class SharedReads<K, T> {
  private readonly entries = new Map<K, Entry<T>>();
  private readonly now: () => number;

  constructor(private readonly options: SharedReadsOptions<K, T>) {
    this.now = options.now ?? (() => performance.now());
  }

  get(key: K): Promise<T> {
    if (!this.options.canShare()) return this.options.read(key).then((read) => read.value);
    const entry = this.entries.get(key);
    if (entry && entry.version === this.options.version(key)) {
      if (!entry.settled || this.now() < entry.until) return entry.value;
    }
    if (entry && !entry.settled) {
      entry.next ??= entry.value.then(
        () => this.start(key),
        () => this.start(key),
      );
      return entry.next;
    }
    return this.start(key);
  }

  private start(key: K): Promise<T> {
    const started = this.now();
    const read = this.options.read(key);
    const entry: Entry<T> = {
      version: this.options.version(key),
      until: Infinity,
      value: read.then((fresh) => fresh.value),
      settled: false,
    };
    this.entries.delete(key); // most recently read last
    this.entries.set(key, entry);
    if (this.entries.size > this.options.maxKeys) this.entries.delete(this.entries.keys().next().value!);
    read.then(
      (fresh) => {
        // From when the read began: its snapshot was taken after, so this ends no later than the truth.
        entry.until = started + Math.min(fresh.freshForMs, this.options.maxAgeMs);
        entry.settled = true;
      },
      () => {
        // A failed read is not shared: the next request tries again.
        entry.settled = true;
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return entry.value;
  }
}
