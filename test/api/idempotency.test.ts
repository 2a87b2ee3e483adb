import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdempotencyRepository } from '../../src/repositories/idempotency.repository.js';
import { IdempotencyService } from '../../src/services/idempotency.service.js';
import { expectProblem, startTestApp, type TestContext } from '../helpers.js';
import { admin, createShow, futureIso } from '../support/api.js';
import { Api } from '../support/api.js';
import { inventory } from '../support/database.js';

let ctx: TestContext;
let api: Api;
beforeAll(async () => {
  ctx = await startTestApp({ DB_POOL_SIZE: '20' });
  api = new Api(ctx.app);
});
afterAll(() => ctx.close());

const book = (showId: string, key: string, payload: object = { seats: 1 }) =>
  api.hold(showId, payload, { 'idempotency-key': key });
const act = (id: string, action: 'confirm' | 'cancel', headers: Record<string, string>) =>
  api.act(action, { id }, headers);
const rowsOf = async (showId: string) =>
  (await ctx.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM bookings WHERE show_id = $1', [showId])).rows[0]!
    .n;

describe('Idempotency-Key on POST /api/shows/:id/book', () => {
  it('replays the first answer exactly, hold token included, without a second hold', async () => {
    const show = await createShow(ctx.app, { total_seats: 5 });
    const key = randomUUID();
    const first = await book(show.id, key, { seats: 2 });
    const again = await book(show.id, key, { seats: 2 });
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.body).toBe(first.body);
    expect(again.json().hold_token).toBe(first.json().hold_token);
    expect(again.headers.location).toBe(first.headers.location);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(await rowsOf(show.id)).toBe(1);
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 2, pending_rows: 2 });
    // The replayed token works.
    expect((await act(first.json().id, 'confirm', { 'x-hold-token': again.json().hold_token })).statusCode).toBe(200);
  });

  it('stores the hold token sealed, never in plain text', async () => {
    const show = await createShow(ctx.app);
    const held = (await book(show.id, randomUUID())).json();
    const { rows } = await ctx.pool.query<{ body: string }>(`SELECT body FROM idempotency_keys WHERE body LIKE $1`, [
      `%${held.id}%`,
    ]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.body).not.toContain(held.hold_token);
    expect(rows[0]!.body).toMatch(/"hold_token":"sealed:/);
  });

  it('the same key with a different body: 422 idempotency_key_reused, nothing held', async () => {
    const show = await createShow(ctx.app, { total_seats: 5 });
    const key = randomUUID();
    expect((await book(show.id, key, { seats: 1 })).statusCode).toBe(201);
    expectProblem(await book(show.id, key, { seats: 2 }), 422, 'idempotency_key_reused');
    expect(await rowsOf(show.id)).toBe(1);
  });

  it('keys are scoped per route: the same key on another show holds there', async () => {
    const [a, b] = [await createShow(ctx.app), await createShow(ctx.app)];
    const key = randomUUID();
    expect((await book(a.id, key)).statusCode).toBe(201);
    const other = await book(b.id, key);
    expect(other.statusCode).toBe(201);
    expect(other.headers['idempotent-replayed']).toBeUndefined();
    expect([await rowsOf(a.id), await rowsOf(b.id)]).toEqual([1, 1]);
  });

  it('a 409 is not stored: the same key succeeds once seats are free', async () => {
    const show = await createShow(ctx.app, { total_seats: 1 });
    const taken = (await book(show.id, randomUUID())).json();
    const key = randomUUID();
    expectProblem(await book(show.id, key), 409, 'sold_out');
    expect((await act(taken.id, 'cancel', { 'x-hold-token': taken.hold_token })).statusCode).toBe(200);
    const retried = await book(show.id, key);
    expect(retried.statusCode).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
  });

  it('a final error (404) is stored and replayed', async () => {
    const key = randomUUID();
    const missing = randomUUID();
    const first = expectProblem(await book(missing, key), 404, 'show_not_found');
    const again = await book(missing, key);
    expect(expectProblem(again, 404, 'show_not_found')).toEqual(first);
    expect(again.headers['idempotent-replayed']).toBe('true');
  });

  it('refuses a malformed key with 400 invalid_idempotency_key', async () => {
    const show = await createShow(ctx.app);
    expectProblem(await book(show.id, 'k'.repeat(256)), 400, 'invalid_idempotency_key');
    expectProblem(await book(show.id, 'tab\there'), 400, 'invalid_idempotency_key');
    expect((await book(show.id, 'k'.repeat(255))).statusCode).toBe(201);
  });

  it('100 concurrent requests with one key: exactly one hold, every answer identical or in progress', async () => {
    const show = await createShow(ctx.app, { total_seats: 1000 });
    const key = randomUUID();
    const answers = await Promise.all(Array.from({ length: 100 }, () => book(show.id, key)));
    const created = answers.filter((answer) => answer.statusCode === 201);
    const inFlight = answers.filter((answer) => answer.statusCode === 409);
    expect(created.length + inFlight.length).toBe(100);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((answer) => answer.body)).size).toBe(1);
    for (const answer of inFlight) {
      expectProblem(answer, 409, 'idempotency_in_progress');
      expect(answer.headers['retry-after']).toBe('1');
    }
    expect(await rowsOf(show.id)).toBe(1);
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 1, pending_rows: 1 });
    // Once the first has answered, every retry replays it.
    const late = await book(show.id, key);
    expect(late.body).toBe(created[0]!.body);
  });
});

describe('a claim left by a crashed process', () => {
  const claimRow = async (scopeHash: Buffer, lockedFor: string) =>
    ctx.pool.query(
      `UPDATE idempotency_keys SET status_code = NULL, body = NULL, location = NULL,
              claim_id = gen_random_uuid(), locked_until = now() + $2::interval
       WHERE scope_hash = $1`,
      [scopeHash, lockedFor],
    );

  it('keeps retries out (409) while its lease runs, and is taken over once it has run out', async () => {
    const show = await createShow(ctx.app, { total_seats: 5 });
    const key = randomUUID();
    const first = await book(show.id, key);
    // Make the stored answer look like a request still in flight in another process, whose hold never committed.
    const { rows } = await ctx.pool.query<{ scope_hash: Buffer }>(
      'SELECT scope_hash FROM idempotency_keys WHERE body LIKE $1',
      [`%${first.json().id}%`],
    );
    const scopeHash = rows[0]!.scope_hash;
    await ctx.pool.query(`UPDATE bookings SET status = 'CANCELLED' WHERE id = $1`, [first.json().id]);
    await ctx.pool.query('UPDATE shows SET held_seats = 0 WHERE id = $1', [show.id]);

    await claimRow(scopeHash, '10 seconds');
    expectProblem(await book(show.id, key), 409, 'idempotency_in_progress');

    await claimRow(scopeHash, '-1 second');
    const takenOver = await book(show.id, key);
    expect(takenOver.statusCode).toBe(201);
    expect(takenOver.json().id).not.toBe(first.json().id);
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 1, pending_rows: 1 });
  });
  // A retry that takes a key over while the original still waits in its show's queue, both in
  // one group: test/api/show-lock.test.ts.
});

describe('Idempotency-Key on the other routes', () => {
  it('POST /api/shows: one show per key', async () => {
    const key = randomUUID();
    const payload = { title: `Idem ${key}`, start_time: futureIso(), total_seats: 3 };
    const create = () =>
      ctx.app.inject({ method: 'POST', url: '/api/shows', headers: { ...admin, 'idempotency-key': key }, payload });
    const first = await create();
    const again = await create();
    expect(first.statusCode).toBe(201);
    expect(again.body).toBe(first.body);
    const { rows } = await ctx.pool.query('SELECT count(*)::int AS n FROM shows WHERE title = $1', [`Idem ${key}`]);
    expect(rows[0].n).toBe(1);
  });

  it('confirm and cancel replay their answer; keys are scoped per caller', async () => {
    const show = await createShow(ctx.app, { total_seats: 3 });
    const held = (await book(show.id, randomUUID())).json();
    const key = randomUUID();
    const asHolder = { 'x-hold-token': held.hold_token, 'idempotency-key': key };
    const confirmed = await act(held.id, 'confirm', asHolder);
    expect(confirmed.json().status).toBe('CONFIRMED');
    // The admin cancels; a replay of the holder's confirm still answers CONFIRMED, as first answered.
    const cancelled = await act(held.id, 'cancel', { ...admin, 'idempotency-key': key });
    expect(cancelled.json().status).toBe('CANCELLED');
    const replayed = await act(held.id, 'confirm', asHolder);
    expect(replayed.body).toBe(confirmed.body);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    // A wrong token never sees the holder's recorded answer.
    expectProblem(await act(held.id, 'confirm', { 'x-hold-token': 'wrong', 'idempotency-key': key }), 403, 'forbidden');
  });
});

describe('bodies a route does not read', () => {
  it('confirm ignores its body, however deep, with or without a key', async () => {
    const show = await createShow(ctx.app, { total_seats: 3 });
    const held = (await book(show.id, randomUUID())).json();
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const confirm = (key: string) =>
      ctx.app.inject({
        method: 'POST',
        url: `/api/bookings/${held.id}/confirm`,
        headers: { 'x-hold-token': held.hold_token, 'idempotency-key': key, 'content-type': 'application/json' },
        payload: deep,
      });
    const key = randomUUID();
    expect((await confirm(key)).statusCode).toBe(200);
    const again = await ctx.app.inject({
      method: 'POST',
      url: `/api/bookings/${held.id}/confirm`,
      headers: { 'x-hold-token': held.hold_token, 'idempotency-key': key },
    });
    expect(again.headers['idempotent-replayed']).toBe('true');
  });
});

describe('retention', () => {
  it('purges keys older than 24 hours, and an old key is a new key', async () => {
    const show = await createShow(ctx.app, { total_seats: 5 });
    const key = randomUUID();
    const first = (await book(show.id, key)).json();
    await ctx.pool.query(`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE body LIKE $1`, [
      `%${first.id}%`,
    ]);
    const fresh = await book(show.id, key);
    expect(fresh.statusCode).toBe(201);
    expect(fresh.json().id).not.toBe(first.id);

    await ctx.pool.query(`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE body LIKE $1`, [
      `%${fresh.json().id}%`,
    ]);
    const service = new IdempotencyService(new IdempotencyRepository(ctx.pool));
    const before = (await ctx.pool.query('SELECT count(*)::int AS n FROM idempotency_keys')).rows[0].n;
    expect(await service.purgeExpired()).toBe(1);
    const after = (await ctx.pool.query('SELECT count(*)::int AS n FROM idempotency_keys')).rows[0].n;
    expect(after).toBe(before - 1);
  });
});
