import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { BookingRepository } from '../../src/repositories/booking.repository.js';
import { ShowRepository } from '../../src/repositories/show.repository.js';
import { ExpiryService } from '../../src/services/expiry.service.js';
import { sleep, startTestApp, type TestContext } from '../helpers.js';
import { createShow } from '../support/api.js';
import { post } from '../support/http.js';
import { inventory } from '../support/database.js';

// Over real HTTP on 127.0.0.1: many sockets at once, as on an on-sale. Two apps (each its own
// database): holds of the default 2 minutes, so that nothing lapses while an on-sale's counts are
// checked, however busy the machine; and holds of 3 s, to race confirms against the clock.
let ctx: TestContext;
let base: string;
let expiring: TestContext;
let expiringBase: string;
beforeAll(async () => {
  [ctx, expiring] = await Promise.all([
    startTestApp({ DB_POOL_SIZE: '20' }),
    startTestApp({ HOLD_TTL_SECONDS: '3', DB_POOL_SIZE: '20' }),
  ]);
  [base, expiringBase] = await Promise.all([
    ctx.app.listen({ host: '127.0.0.1', port: 0 }),
    expiring.app.listen({ host: '127.0.0.1', port: 0 }),
  ]);
});
afterAll(() => Promise.all([ctx?.close(), expiring?.close()]));

describe('on-sale concurrency', () => {
  it('500 concurrent holds on 100 seats: exactly 100 × 201 and 400 × 409 sold_out', async () => {
    const show = await createShow(ctx.app, { total_seats: 100 });
    const results = await Promise.all(Array.from({ length: 500 }, () => post(base, `/api/shows/${show.id}/book`)));
    const created = results.filter((result) => result.status === 201);
    const soldOut = results.filter((result) => result.status === 409 && result.body.code === 'sold_out');
    expect(created.length).toBe(100);
    expect(soldOut.length).toBe(400);
    expect(new Set(created.map((result) => result.body.id)).size).toBe(100);
    expect(await inventory(ctx.pool, show.id)).toEqual({
      total: 100,
      held: 100,
      confirmed: 0,
      pending_rows: 100,
      confirmed_rows: 0,
    });
  });

  it('mixed seat counts never oversell and never hold partially', async () => {
    const show = await createShow(ctx.app, { total_seats: 97 });
    const asks = Array.from({ length: 300 }, (_, i) => (i % 4) + 1);
    const results = await Promise.all(asks.map((seats) => post(base, `/api/shows/${show.id}/book`, { seats })));
    const granted = results.filter((result) => result.status === 201);
    const grantedSeats = granted.reduce((sum, result) => sum + (result.body.seats as number), 0);
    expect(results.every((result) => result.status === 201 || result.body.code === 'sold_out')).toBe(true);
    // Every 1-seat request is smaller than anything left over, so the show sells out exactly.
    expect(grantedSeats).toBe(97);
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 97, pending_rows: 97 });
  });

  it('confirms racing expiry leave every booking in exactly one final state, counters matching rows', async () => {
    const expiry = new ExpiryService(
      expiring.pool,
      new ShowRepository(expiring.pool),
      new BookingRepository(expiring.pool),
      createLogger({ LOG_LEVEL: 'silent' }, 'test'),
    );
    const show = await createShow(expiring.app, { total_seats: 150 });
    const book = () => post(expiringBase, `/api/shows/${show.id}/book`);
    const holds = (await Promise.all(Array.from({ length: 150 }, book))).map((result) => result.body);
    expect(holds.every((held) => held.status === 'PENDING')).toBe(true);
    const deadlineOf = (held: Record<string, any>) => new Date(held.expires_at as string).getTime();
    const deadline = Math.max(...holds.map(deadlineOf));

    // Sweeps and fresh holds hammer the show while confirms land from 600 ms before to 300 ms after
    // each hold's own deadline (a busy machine spreads the 150 holds' deadlines over seconds).
    let racing = true;
    const sweeper = (async () => {
      while (racing) {
        await expiry.sweep();
        await sleep(5);
      }
    })();
    const latecomers = (async () => {
      const answers = [];
      while (racing) {
        answers.push(await book());
        await sleep(10);
      }
      return answers;
    })();
    const confirms = await Promise.all(
      holds.map(async (held, index) => {
        await sleep(Math.max(0, deadlineOf(held) - Date.now() - 600 + (index % 90) * 10));
        const answer = await post(expiringBase, `/api/bookings/${held.id}/confirm`, undefined, {
          'x-hold-token': held.hold_token as string,
        });
        return { id: held.id as string, ...answer };
      }),
    );
    racing = false;
    await sweeper;
    const latecomerAnswers = await latecomers;
    const lastDeadline = Math.max(
      deadline,
      ...latecomerAnswers
        .filter((answer) => answer.status === 201)
        .map((answer) => new Date(answer.body.expires_at as string).getTime()),
    );
    await sleep(Math.max(0, lastDeadline - Date.now() + 50));
    await expiry.sweep();

    const confirmed = confirms.filter((answer) => answer.status === 200);
    const expired = confirms.filter((answer) => answer.status === 409 && answer.body.code === 'hold_expired');
    const odd = confirms.filter((answer) => answer.status !== 200 && answer.body.code !== 'hold_expired');
    expect(odd).toEqual([]);
    expect(confirmed.length + expired.length).toBe(150);
    expect(confirmed.length).toBeGreaterThan(0);
    expect(expired.length).toBeGreaterThan(0);

    const { rows } = await expiring.pool.query<{ id: string; status: string }>(
      'SELECT id, status FROM bookings WHERE id = ANY($1)',
      [holds.map((held) => held.id)],
    );
    const statusById = new Map(rows.map((row) => [row.id, row.status]));
    for (const answer of confirmed) expect(statusById.get(answer.id)).toBe('CONFIRMED');
    for (const answer of expired) expect(statusById.get(answer.id)).toBe('EXPIRED');

    // Latecomer holds have expired by now too; every seat is either confirmed or free.
    const latecomerHolds = latecomerAnswers.filter((answer) => answer.status === 201).length;
    const counters = await inventory(expiring.pool, show.id);
    expect(counters).toEqual({
      total: 150,
      held: 0,
      confirmed: confirmed.length,
      pending_rows: 0,
      confirmed_rows: confirmed.length,
    });
    const { rows: statuses } = await expiring.pool.query<{ expired: number }>(
      `SELECT count(*)::int AS expired FROM bookings WHERE show_id = $1 AND status = 'EXPIRED'`,
      [show.id],
    );
    expect(statuses[0]!.expired).toBe(expired.length + latecomerHolds);
  });
});
