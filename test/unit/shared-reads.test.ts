import { describe, expect, it } from 'vitest';
import { acceptedEncoding } from '../../src/http/shared-answer.js';
import type { FreshRead } from '../../src/domain/common.js';
import { SharedReads } from '../../src/services/shared-reads.js';

// Reads shared between requests until their key changes, a value lapses or its age runs out: on a
// fake clock, with reads the test settles by hand.

function setup(options: { maxAgeMs?: number; maxKeys?: number } = {}) {
  let time = 0;
  let version = 0;
  let sharing = true;
  const pending: { key: string; settle: (read: FreshRead<string>) => void; fail: (error: Error) => void }[] = [];
  const reads = new SharedReads<string, string>({
    read: (key) => new Promise((resolve, reject) => pending.push({ key, settle: resolve, fail: reject })),
    version: () => version,
    canShare: () => sharing,
    maxAgeMs: options.maxAgeMs ?? 60_000,
    maxKeys: options.maxKeys ?? 10,
    now: () => time,
  });
  return {
    reads,
    pending,
    advance: (ms: number) => (time += ms),
    change: () => version++,
    /** Moves the clock on, then asks for the key: whether that began a read of its own (was not shared). */
    readsAfter(ms: number, key: string): boolean {
      time += ms;
      const before = pending.length;
      void reads.get(key);
      return pending.length > before;
    },
    stopSharing: () => (sharing = false),
    /** Settles the oldest read still pending with this value. */
    async settle(value: string, freshForMs = Infinity) {
      pending.shift()!.settle({ value, freshForMs });
      await Promise.resolve();
      await Promise.resolve();
    },
  };
}

describe('SharedReads', () => {
  it('shares a read in flight and its value after, until the key changes', async () => {
    const s = setup();
    const [a, b] = [s.reads.get('show'), s.reads.get('show')];
    expect(s.pending).toHaveLength(1);
    await s.settle('v1');
    expect(await a).toBe('v1');
    expect(await b).toBe('v1');
    expect(await s.reads.get('show')).toBe('v1');
    expect(s.pending).toHaveLength(0);
    s.change();
    const c = s.reads.get('show');
    expect(s.pending).toHaveLength(1);
    await s.settle('v2');
    expect(await c).toBe('v2');
  });

  it('after a change during a read, later requests share the next read, begun when that one ends', async () => {
    const s = setup();
    const first = s.reads.get('show');
    s.change();
    const [later1, later2] = [s.reads.get('show'), s.reads.get('show')];
    expect(s.pending).toHaveLength(1); // one read of a key at a time
    await s.settle('before');
    expect(await first).toBe('before');
    expect(s.pending).toHaveLength(1);
    await s.settle('after');
    expect(await later1).toBe('after');
    expect(await later2).toBe('after');
  });

  it('a value stops being shared when it lapses (freshForMs) or is maxAgeMs old, from when its read began', async () => {
    const s = setup({ maxAgeMs: 1_000 });
    const lapsing = s.reads.get('lapsing');
    s.advance(100); // the read takes 100 ms: the value is true 300 ms from its start
    await s.settle('held', 300);
    expect(await lapsing).toBe('held');
    expect(s.readsAfter(199, 'lapsing')).toBe(false);
    expect(s.readsAfter(1, 'lapsing')).toBe(true);
    await s.settle('free');

    void s.reads.get('old');
    await s.settle('x');
    expect(s.readsAfter(999, 'old')).toBe(false);
    expect(s.readsAfter(1, 'old')).toBe(true);
  });

  it('does not keep a failed read, shares nothing while it cannot, and keeps at most maxKeys keys', async () => {
    const s = setup({ maxKeys: 2 });
    const failing = s.reads.get('show');
    s.pending.shift()!.fail(new Error('database away'));
    await expect(failing).rejects.toThrow('database away');
    void s.reads.get('show');
    expect(s.pending).toHaveLength(1);
    await s.settle('ok');

    void s.reads.get('a');
    await s.settle('a');
    void s.reads.get('b');
    await s.settle('b'); // 'show' is the least recently read: let go
    void s.reads.get('show');
    expect(s.pending).toHaveLength(1);
    await s.settle('again');

    s.stopSharing();
    void s.reads.get('a');
    void s.reads.get('a');
    expect(s.pending).toHaveLength(2);
  });
});

describe('acceptedEncoding', () => {
  it('prefers brotli, then gzip, never a coding refused with q=0', () => {
    expect(acceptedEncoding('gzip, deflate, br')).toBe('br');
    expect(acceptedEncoding('gzip, deflate, br, zstd')).toBe('br');
    expect(acceptedEncoding('GZIP')).toBe('gzip');
    expect(acceptedEncoding('br;q=0, gzip;q=0.5')).toBe('gzip');
    expect(acceptedEncoding('br; q=0.0, gzip; q=0')).toBeUndefined();
    expect(acceptedEncoding('identity')).toBeUndefined();
    expect(acceptedEncoding('')).toBeUndefined();
    expect(acceptedEncoding(undefined)).toBeUndefined();
  });
});
