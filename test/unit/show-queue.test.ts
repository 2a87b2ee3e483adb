import { describe, expect, it } from 'vitest';
import type { AppError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { ShowQueue, type Clock, type Waiting } from '../../src/services/show-lanes/show-queue.js';

// The per-show queue of the lanes, on a fake clock: groups in arrival order, bounded waits.

class FakeClock implements Clock {
  time = 0;
  private timers: { at: number; run: () => void }[] = [];
  now = () => this.time;
  setTimeout = (run: () => void, ms: number) => {
    const timer = { at: this.time + ms, run };
    this.timers.push(timer);
    return timer;
  };
  clearTimeout = (timer: unknown) => {
    this.timers = this.timers.filter((t) => t !== timer);
  };
  advance(ms: number) {
    this.time += ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= this.time).sort((a, b) => a.at - b.at)[0];
      if (!due) return;
      this.timers = this.timers.filter((t) => t !== due);
      due.run();
    }
  }
}

interface Request extends Waiting {
  name: string;
  answer?: string;
  gone?: boolean;
}

function setup(options: { maxGroupSize?: number; maxWaiting?: number; maxWaitMs?: number } = {}) {
  const clock = new FakeClock();
  const groups: string[][] = [];
  /** The group in the database: it ends when finish() is called. */
  let finish: (() => void) | undefined;
  const queue = new ShowQueue<Request>({
    maxGroupSize: options.maxGroupSize ?? 3,
    maxWaiting: options.maxWaiting ?? 10,
    maxWaitMs: options.maxWaitMs ?? 1000,
    logger: createLogger({ LOG_LEVEL: 'silent' }, 'test'),
    clock,
    commit: (_showId, group) => {
      groups.push(group.map((request) => request.name));
      return new Promise<void>((resolve) => {
        finish = () => {
          for (const request of group) request.answer ??= 'done';
          resolve();
        };
      });
    },
  });
  const request = (name: string, extra: Partial<Request> = {}): Request => {
    const made: Request = {
      name,
      deadline: queue.deadline(),
      isGone: () => made.gone === true,
      reject: (error: unknown) => (made.answer = (error as AppError).message),
      ...extra,
    };
    return made;
  };
  const settle = async () => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { clock, groups, queue, request, finish: async () => (finish?.(), settle()), settle };
}

describe('ShowQueue', () => {
  it('sends a lone request at once, and what piles up meanwhile as the next groups, oldest first', async () => {
    const { queue, request, groups, finish, settle } = setup({ maxGroupSize: 3 });
    queue.enqueue('show', request('a'));
    await settle();
    expect(groups).toEqual([['a']]);
    for (const name of ['b', 'c', 'd', 'e']) queue.enqueue('show', request(name));
    expect(queue.waiting('show')).toBe(4);
    await finish();
    expect(groups).toEqual([['a'], ['b', 'c', 'd']]);
    await finish();
    expect(groups).toEqual([['a'], ['b', 'c', 'd'], ['e']]);
    await finish();
    expect(queue.waiting('show')).toBe(0);
  });

  it('keeps shows apart: one show busy does not hold another back', async () => {
    const { queue, request, groups, settle } = setup();
    queue.enqueue('one', request('a'));
    queue.enqueue('two', request('b'));
    await settle();
    expect(groups).toEqual([['a'], ['b']]);
  });

  it('refuses a request at once beyond maxWaiting', async () => {
    const { queue, request, settle } = setup({ maxWaiting: 2 });
    queue.enqueue('show', request('a'));
    await settle();
    const [b, c, d] = [request('b'), request('c'), request('d')];
    for (const r of [b, c, d]) queue.enqueue('show', r);
    expect([b.answer, c.answer, d.answer]).toEqual([
      undefined,
      undefined,
      'Too many requests are waiting for this show; retry shortly',
    ]);
  });

  it('answers a request that waited maxWaitMs on time, while its show is still busy', async () => {
    const { queue, request, clock, groups, finish, settle } = setup({ maxWaitMs: 1000 });
    queue.enqueue('show', request('a'));
    await settle();
    clock.advance(400);
    const b = request('b');
    queue.enqueue('show', b);
    clock.advance(999);
    expect(b.answer).toBeUndefined();
    clock.advance(1);
    expect(b.answer).toBe('The show is too busy to answer in time; retry shortly');
    await finish();
    expect(groups).toEqual([['a']]);
  });

  it('drops a request whose client went away before its group', async () => {
    const { queue, request, groups, finish, settle } = setup();
    queue.enqueue('show', request('a'));
    await settle();
    const b = request('b');
    queue.enqueue('show', b);
    queue.enqueue('show', request('c'));
    b.gone = true;
    await finish();
    expect(groups).toEqual([['a'], ['c']]);
    expect(b.answer).toBe('The client went away');
  });

  it('a group that throws does not wedge the show: its requests get 503, the next ones are served', async () => {
    const clock = new FakeClock();
    const groups: string[][] = [];
    const queue = new ShowQueue<Request>({
      maxGroupSize: 5,
      maxWaiting: 5,
      maxWaitMs: 1000,
      logger: createLogger({ LOG_LEVEL: 'silent' }, 'test'),
      clock,
      commit: (_showId, group) => {
        groups.push(group.map((r) => r.name));
        return groups.length === 1 ? Promise.reject(new Error('bug')) : Promise.resolve();
      },
    });
    const answers: Record<string, string> = {};
    const make = (name: string): Request => ({
      name,
      deadline: 1000,
      reject: (error: unknown) => (answers[name] = (error as AppError).code),
    });
    queue.enqueue('show', make('a'));
    await Promise.resolve();
    await Promise.resolve();
    queue.enqueue('show', make('b'));
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(answers).toEqual({ a: 'service_unavailable' });
    expect(groups).toEqual([['a'], ['b']]);
  });
});
