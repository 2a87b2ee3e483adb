import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pool, PoolClient } from '../../src/db/pool.js';
import { createShow, expectProblem, hold, inventory, sleep, startTestApp, type TestContext } from '../helpers.js';

// What happens to requests that arrive while a show's row is locked by someone else (a
// slow group, another API process, an operator's transaction): they are judged at the
// instant they get the lock, a retry never fails strangers, and nobody waits unbounded.

let ctx: TestContext;
beforeAll(async () => {
  ctx = await startTestApp({ HOLD_TTL_SECONDS: '1', DB_POOL_SIZE: '6' });
});
afterAll(() => ctx.close());

/** Takes the show's row lock on a connection of its own, as another process's transaction would. */
async function lockShow(pool: Pool, showId: string): Promise<{ release(): Promise<void> }> {
  const client: PoolClient = await pool.connect();
  await client.query('BEGIN');
  await client.query('SELECT 1 FROM shows WHERE id = $1 FOR UPDATE', [showId]);
  return {
    async release() {
      await client.query('COMMIT');
      client.release();
    },
  };
}

/** Waits until `count` backends of this database are blocked on a row lock. */
async function lockWaiters(pool: Pool, count: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if (rows[0]!.n >= count) return;
    await sleep(25);
  }
  throw new Error(`fewer than ${count} backends ever waited on a lock`);
}

const book = (showId: string, headers: Record<string, string> = {}) =>
  ctx.app.inject({ method: 'POST', url: `/api/shows/${showId}/book`, headers, payload: { seats: 1 } });
const act = (id: string, action: 'confirm' | 'cancel', token: string) =>
  ctx.app.inject({ method: 'POST', url: `/api/bookings/${id}/${action}`, headers: { 'x-hold-token': token } });

describe('a retry that took over an Idempotency-Key', () => {
  it('lands in the same group as the request it replaced: only that request fails', async () => {
    const show = await createShow(ctx.app, { total_seats: 10 });
    const lock = await lockShow(ctx.pool, show.id);
    // The group in flight, blocked on the lock; everything after it queues for the next group.
    const inFlight = book(show.id);
    await lockWaiters(ctx.pool, 1);

    const key = randomUUID();
    const original = book(show.id, { 'idempotency-key': key });
    const claimOf = async () =>
      (await ctx.pool.query<{ claim_id: string }>('SELECT claim_id FROM idempotency_keys')).rows.map((r) => r.claim_id);
    while ((await claimOf()).length === 0) await sleep(10);
    const [firstClaim] = await claimOf();
    // The original has waited past its lease (10 s) in the show's queue.
    await ctx.pool.query(`UPDATE idempotency_keys SET locked_until = now() - interval '1 second'`);
    const retry = book(show.id, { 'idempotency-key': key });
    while ((await claimOf())[0] === firstClaim) await sleep(10);
    const stranger = book(show.id);
    await sleep(50);

    await lock.release();
    const [a, b, c, d] = await Promise.all([inFlight, original, retry, stranger]);
    expect(a.statusCode).toBe(201);
    expectProblem(b, 409, 'idempotency_in_progress');
    expect(c.statusCode).toBe(201);
    expect(d.statusCode).toBe(201);
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 3, pending_rows: 3 });
    // The retry's answer is the one recorded for the key, and replays.
    const replay = await book(show.id, { 'idempotency-key': key });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toBe(c.body);
  });
});

describe('deadlines are judged when the show lock is granted, not when the request began', () => {
  it('a confirm that waited on the lock past expires_at: 409 hold_expired, the booking EXPIRED, its seat on sale', async () => {
    const show = await createShow(ctx.app, { total_seats: 1 });
    const held = await hold(ctx.app, show.id);
    const lock = await lockShow(ctx.pool, show.id);
    const confirm = act(held.id, 'confirm', held.hold_token);
    await lockWaiters(ctx.pool, 1);
    await sleep(Date.parse(held.expires_at) - Date.now() + 200);
    await lock.release();

    expectProblem(await confirm, 409, 'hold_expired');
    const seen = await ctx.app.inject({
      method: 'GET',
      url: `/api/bookings/${held.id}`,
      headers: { 'x-hold-token': held.hold_token },
    });
    expect(seen.json().status).toBe('EXPIRED');
    const { rows } = await ctx.pool.query('SELECT status FROM bookings WHERE id = $1', [held.id]);
    expect(rows[0].status).toBe('EXPIRED');
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 0, confirmed: 0, pending_rows: 0 });
  });

  it('a cancel that waited on the lock past expires_at: 409 hold_expired', async () => {
    const show = await createShow(ctx.app, { total_seats: 1 });
    const held = await hold(ctx.app, show.id);
    const lock = await lockShow(ctx.pool, show.id);
    const cancel = act(held.id, 'cancel', held.hold_token);
    await lockWaiters(ctx.pool, 1);
    await sleep(Date.parse(held.expires_at) - Date.now() + 200);
    await lock.release();
    expectProblem(await cancel, 409, 'hold_expired');
    const { rows } = await ctx.pool.query('SELECT status FROM bookings WHERE id = $1', [held.id]);
    expect(rows[0].status).toBe('EXPIRED');
  });

  it('a hold that waited on the lock past the show start: 409 show_started, nothing held', async () => {
    const show = await createShow(ctx.app, {
      total_seats: 5,
      start_time: new Date(Date.now() + 1_500).toISOString(),
    });
    const lock = await lockShow(ctx.pool, show.id);
    const late = book(show.id);
    await lockWaiters(ctx.pool, 1);
    await sleep(1_700);
    await lock.release();
    expectProblem(await late, 409, 'show_started');
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 0, pending_rows: 0 });
  });
});
