import { randomBytes, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { withTransaction } from '../../src/adapters/postgres/pool.js';
import { createLogger } from '../../src/logger.js';
import {
  createExpiryQueue,
  EXPIRE_JOB,
  ExpiryScheduler,
  expireJobId,
  expiryBucket,
} from '../../src/jobs/expiry.queue.js';
import { producerConnection } from '../../src/adapters/redis.js';
import { startExpiryWorker, type RunningExpiryWorker } from '../../src/jobs/expiry.worker.js';
import { BookingRepository } from '../../src/repositories/booking.repository.js';
import { ShowRepository } from '../../src/repositories/show.repository.js';
import { ExpiryService } from '../../src/services/expiry.service.js';
import { sleep, startTestApp, type TestContext } from '../helpers.js';
import { createShow, hold } from '../support/api.js';
import { inventory } from '../support/database.js';

const logger = createLogger({ LOG_LEVEL: 'silent' }, 'test');
const prefix = `test-${randomBytes(4).toString('hex')}`;
let redis: Redis;
let withJobs: TestContext;
let withoutJobs: TestContext;
let worker: RunningExpiryWorker;

/**
 * The booking's status, how long after expires_at it was last updated, and how long before
 * expires_at this read ran (negative once past it), all by the database clock.
 */
async function statusOf(ctx: TestContext, id: string) {
  const { rows } = await ctx.pool.query<{ status: string; late_ms: number; remaining_ms: number }>(
    `SELECT status, (extract(epoch FROM updated_at - expires_at) * 1000)::float8 AS late_ms,
            (extract(epoch FROM expires_at - statement_timestamp()) * 1000)::float8 AS remaining_ms
     FROM bookings WHERE id = $1`,
    [id],
  );
  return rows[0]!;
}

/**
 * Asserts the hold is still PENDING shortly before its deadline (a read the database clock
 * places before expires_at): nothing expires it early.
 */
async function expectPendingJustBefore(ctx: TestContext, held: { id: string; expires_at: string }) {
  await sleep(new Date(held.expires_at).getTime() - Date.now() - 250);
  const before = await statusOf(ctx, held.id);
  expect(before.remaining_ms, 'this read ran before the deadline').toBeGreaterThan(0);
  expect(before.status).toBe('PENDING');
}

/** Reads the booking until it leaves PENDING or Node's clock passes giveUpAt. */
async function settled(ctx: TestContext, id: string, giveUpAt: number) {
  for (;;) {
    const booking = await statusOf(ctx, id);
    if (booking.status !== 'PENDING' || Date.now() > giveUpAt) return booking;
    await sleep(20);
  }
}

beforeAll(async () => {
  redis = producerConnection(inject('redisUrl'));
  await new Promise<void>((resolve, reject) => {
    redis.once('ready', resolve);
    redis.once('error', reject);
  });
  const queue = createExpiryQueue(redis, prefix);
  const scheduler = new ExpiryScheduler(queue, logger);
  withJobs = await startTestApp(
    { HOLD_TTL_SECONDS: '1' },
    { onHoldGroupCommitted: scheduler.schedule.bind(scheduler), pingRedis: () => redis.ping() },
  );
  // No expiry job is ever added for this app's holds: only the sweep can expire them.
  withoutJobs = await startTestApp({ HOLD_TTL_SECONDS: '1' });
});

afterAll(async () => {
  await worker?.close();
  await withJobs.close();
  await withoutJobs.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

function expiryFor(ctx: TestContext) {
  return new ExpiryService(ctx.pool, new ShowRepository(ctx.pool), new BookingRepository(ctx.pool), logger);
}

describe('expiry through BullMQ', () => {
  it('marks a hold EXPIRED within 1 s of expires_at and returns its seats', async () => {
    // The sweep is far off (60 s): only the hold group's delayed job can do this in time.
    worker = await startExpiryWorker({
      redisUrl: inject('redisUrl'),
      prefix,
      expiry: expiryFor(withJobs),
      sweep: () => expiryFor(withJobs).sweep(),
      sweepIntervalMs: 60_000,
      logger,
    });
    const show = await createShow(withJobs.app, { total_seats: 3 });
    const held = await hold(withJobs.app, show.id, 3);
    const job = await createExpiryQueue(redis, prefix).getJob(
      expireJobId(show.id, expiryBucket(new Date(held.expires_at))),
    );
    expect(job?.name).toBe(EXPIRE_JOB);
    await expectPendingJustBefore(withJobs, held);
    // (updated_at >= expires_at needs no check: the UPDATE's own WHERE guarantees it.)
    const booking = await settled(withJobs, held.id, new Date(held.expires_at).getTime() + 3000);
    expect(booking.status).toBe('EXPIRED');
    expect(booking.late_ms, 'ms from expires_at to EXPIRED').toBeLessThan(1000);
    expect(await inventory(withJobs.pool, show.id)).toMatchObject({ held: 0, pending_rows: 0 });
    await worker.close();
  });

  it('groups falling due in one bucket share one job: an on-sale adds a bounded number of jobs', async () => {
    const show = await createShow(withJobs.app, { total_seats: 100 });
    const queue = createExpiryQueue(redis, prefix);
    const jobsOf = async () =>
      (await queue.getJobs(['delayed', 'waiting', 'active', 'completed'])).filter(
        (job) => job?.data.showId === show.id,
      );
    const held = [];
    for (let i = 0; i < 20; i++) held.push(await hold(withJobs.app, show.id)); // 20 groups, one after another
    await sleep(100); // scheduling is not awaited by the request
    const buckets = new Set(held.map((booking) => expiryBucket(new Date(booking.expires_at))));
    const jobs = await jobsOf();
    expect(jobs.map((job) => job.id).sort()).toEqual([...buckets].map((due) => expireJobId(show.id, due)).sort());
    expect(jobs.length).toBeLessThan(held.length);
  });

  it('a deadline earlier than buckets already queued (an extension capped at its limit) still gets its job', async () => {
    const queue = createExpiryQueue(redis, prefix);
    const scheduler = new ExpiryScheduler(queue, logger);
    const showId = randomUUID();
    const now = Date.now();
    const later = new Date(now + 60_000);
    const earlier = new Date(now + 30_000);
    scheduler.schedule(showId, new Date(now), later);
    scheduler.schedule(showId, new Date(now), earlier);
    scheduler.schedule(showId, new Date(now), earlier); // the same bucket again: no second job
    await sleep(100);
    const ids = (await queue.getJobs(['delayed'])).filter((job) => job?.data.showId === showId).map((job) => job.id);
    expect(ids.sort()).toEqual(
      [expireJobId(showId, expiryBucket(earlier)), expireJobId(showId, expiryBucket(later))].sort(),
    );
  });

  it('expires a wave of holds in batches, every one of them', async () => {
    const show = await createShow(withoutJobs.app, { total_seats: 3000 });
    // 2,500 holds straight into the table, all overdue: three batches of at most 1,000.
    await withoutJobs.pool.query(
      `WITH inserted AS (
         INSERT INTO bookings (id, show_id, seats, hold_token_hash, created_at, expires_at, updated_at, currency, lines, total)
         SELECT gen_random_uuid(), $1, 1, sha256(i::text::bytea), now() - interval '2 minutes', now() - interval '1 second', now() - interval '2 minutes',
                'EUR', '[{"type":"standard","name":"Admission","quantity":1,"unit_price":0}]', 0
         FROM generate_series(1, 2500) AS i RETURNING seats)
       UPDATE shows SET held_seats = held_seats + (SELECT sum(seats) FROM inserted) WHERE id = $1`,
      [show.id],
    );
    // One batch under the show's lock expires exactly its limit, and the counter moves by it…
    const bookings = new BookingRepository(withoutJobs.pool);
    const shows = new ShowRepository(withoutJobs.pool);
    const first = await withTransaction(withoutJobs.pool, async (client) => {
      const locked = await shows.lockInventory(client, show.id);
      return bookings.expireOverdue(client, show.id, locked!.now, 1000);
    });
    expect(first).toMatchObject({ bookings: 1000, seats: 1000 });
    // Each one a second or more past its deadline (they fell due a second before the insert).
    expect(first.lateSeconds).toHaveLength(1000);
    expect(first.lateSeconds.every((late) => late >= 1)).toBe(true);
    expect(await inventory(withoutJobs.pool, show.id)).toMatchObject({ held: 1500, pending_rows: 1500 });
    // …and the expiry job goes on batch after batch until none is left.
    expect(await expiryFor(withoutJobs).expireShow(show.id)).toBe(1500);
    expect(await inventory(withoutJobs.pool, show.id)).toMatchObject({ held: 0, pending_rows: 0 });
  });

  it('puts back a job that fires before the database clock reaches the deadline', async () => {
    const expiry = expiryFor(withJobs);
    const show = await createShow(withJobs.app, { total_seats: 1 });
    const held = await hold(withJobs.app, show.id);
    const retryInMs = await expiry.expireDue(show.id, new Date(new Date(held.expires_at).getTime() + 1));
    expect(retryInMs).toBeGreaterThan(0);
    expect(retryInMs).toBeLessThanOrEqual(1000);
    expect((await statusOf(withJobs, held.id)).status).toBe('PENDING');
  });
});

describe('the sweep', () => {
  it('expires holds that never got a job, within one sweep interval', async () => {
    const sweeper = await startExpiryWorker({
      redisUrl: inject('redisUrl'),
      prefix: `${prefix}-sweep`,
      expiry: expiryFor(withoutJobs),
      sweep: () => expiryFor(withoutJobs).sweep(),
      sweepIntervalMs: 1000,
      logger,
    });
    try {
      const show = await createShow(withoutJobs.app, { total_seats: 4 });
      const holds = [await hold(withoutJobs.app, show.id, 2), await hold(withoutJobs.app, show.id, 2)];
      await expectPendingJustBefore(withoutJobs, holds[0]!);
      for (const held of holds) {
        const booking = await settled(withoutJobs, held.id, new Date(held.expires_at).getTime() + 4000);
        expect(booking.status).toBe('EXPIRED');
        // One sweep interval, plus slack for the job's pickup and the sweep's own queries on a busy machine.
        expect(booking.late_ms, 'ms from expires_at to EXPIRED').toBeLessThan(1000 + 500);
      }
      expect(await inventory(withoutJobs.pool, show.id)).toMatchObject({ held: 0, pending_rows: 0 });
    } finally {
      await sweeper.close();
      const keys = await redis.keys(`${prefix}-sweep:*`);
      if (keys.length > 0) await redis.del(...keys);
    }
  });

  it('leaves confirmed bookings and live holds alone', async () => {
    const expiry = expiryFor(withoutJobs);
    const show = await createShow(withoutJobs.app, { total_seats: 4 });
    const confirmed = await hold(withoutJobs.app, show.id, 2);
    await withoutJobs.app.inject({
      method: 'POST',
      url: `/api/bookings/${confirmed.id}/confirm`,
      headers: { 'x-hold-token': confirmed.hold_token },
    });
    const live = await hold(withoutJobs.app, show.id, 1);
    await expiry.sweep();
    expect((await statusOf(withoutJobs, confirmed.id)).status).toBe('CONFIRMED');
    expect((await statusOf(withoutJobs, live.id)).status).toBe('PENDING');
    expect(await inventory(withoutJobs.pool, show.id)).toMatchObject({ held: 1, confirmed: 2 });
  });
});
