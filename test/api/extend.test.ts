import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  admin,
  createShow,
  expectProblem,
  hold,
  inventory,
  sleep,
  startTestApp,
  type HeldBooking,
  type TestContext,
} from '../helpers.js';

// Holds last 2 s and may be extended to at most 3 s after they were made.
const scheduled: { expiresAt: Date }[] = [];
let ctx: TestContext;
beforeAll(async () => {
  ctx = await startTestApp(
    { HOLD_TTL_SECONDS: '2', HOLD_MAX_LIFETIME_SECONDS: '3' },
    { onHoldGroupCommitted: (_show, _at, expiresAt) => void scheduled.push({ expiresAt }) },
  );
});
afterAll(() => ctx.close());

const post = (held: Pick<HeldBooking, 'id'>, action: string, headers: Record<string, string>) =>
  ctx.app.inject({ method: 'POST', url: `/api/bookings/${held.id}/${action}`, headers });
const extend = (held: HeldBooking, headers: Record<string, string> = { 'x-hold-token': held.hold_token }) =>
  post(held, 'extend', headers);
const ms = (iso: string) => Date.parse(iso);

describe('POST /api/bookings/:id/extend', () => {
  it('moves a live hold to now + HOLD_TTL_SECONDS by the database clock, and never past created_at + HOLD_MAX_LIFETIME_SECONDS', async () => {
    const show = await createShow(ctx.app, { total_seats: 2 });
    const held = await hold(ctx.app, show.id);
    await sleep(400);
    const first = await extend(held);
    expect(first.statusCode).toBe(200);
    const once = first.json<HeldBooking & { updated_at: string; created_at: string }>();
    expect(once).toMatchObject({ id: held.id, status: 'PENDING' });
    expect(ms(once.expires_at) - ms(once.updated_at)).toBe(2000); // now + TTL, both from one instant
    expect(ms(once.expires_at)).toBeGreaterThan(ms(held.expires_at));
    await sleep(800);
    // now + 2 s would be past created_at + 3 s: held to the limit instead.
    const second = (await extend(held)).json<HeldBooking & { created_at: string }>();
    expect(ms(second.expires_at) - ms(second.created_at)).toBe(3000);
    expectProblem(await extend(held), 409, 'extension_limit');
    const { rows } = await ctx.pool.query('SELECT expires_at FROM bookings WHERE id = $1', [held.id]);
    expect((rows[0].expires_at as Date).toISOString()).toBe(second.expires_at);
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 1, pending_rows: 1 });
  });

  it('its expiry follows the new deadline: still a hold after the old one, EXPIRED after the new one', async () => {
    const show = await createShow(ctx.app, { total_seats: 1 });
    const held = await hold(ctx.app, show.id);
    await sleep(500);
    scheduled.length = 0;
    const extended = (await extend(held)).json<HeldBooking>();
    // An expiry job is scheduled for the new deadline (the old one finds nothing due).
    expect(scheduled.map((job) => job.expiresAt.toISOString())).toEqual([extended.expires_at]);
    await sleep(ms(held.expires_at) - Date.now() + 200);
    await ctx.services.housekeeping.run(); // the sweep, past the old deadline
    const read = () =>
      ctx.app.inject({ method: 'GET', url: `/api/bookings/${held.id}`, headers: { 'x-hold-token': held.hold_token } });
    expect((await read()).json().status).toBe('PENDING');
    expectProblem(await ctx.app.inject({ method: 'POST', url: `/api/shows/${show.id}/book` }), 409, 'sold_out');
    await sleep(ms(extended.expires_at) - Date.now() + 200);
    expect((await read()).json().status).toBe('EXPIRED');
    await ctx.services.housekeeping.run();
    const { rows } = await ctx.pool.query('SELECT status FROM bookings WHERE id = $1', [held.id]);
    expect(rows[0].status).toBe('EXPIRED');
  });

  it('refuses what has no live hold: expired 409 hold_expired, confirmed 409 booking_confirmed, cancelled 409 booking_cancelled', async () => {
    const show = await createShow(ctx.app, { total_seats: 3 });
    const [late, confirmed, cancelled] = [
      await hold(ctx.app, show.id),
      await hold(ctx.app, show.id),
      await hold(ctx.app, show.id),
    ];
    expect((await post(confirmed, 'confirm', { 'x-hold-token': confirmed.hold_token })).statusCode).toBe(200);
    expect((await post(cancelled, 'cancel', { 'x-hold-token': cancelled.hold_token })).statusCode).toBe(200);
    expectProblem(await extend(confirmed), 409, 'booking_confirmed');
    expectProblem(await extend(cancelled), 409, 'booking_cancelled');
    await sleep(ms(late.expires_at) - Date.now() + 100);
    expectProblem(await extend(late), 409, 'hold_expired');
    const { rows } = await ctx.pool.query('SELECT status FROM bookings WHERE id = $1', [late.id]);
    expect(rows[0].status).toBe('EXPIRED');
  });

  it('needs the hold token or the admin key, and replays with an Idempotency-Key', async () => {
    const show = await createShow(ctx.app, { total_seats: 2 });
    const held = await hold(ctx.app, show.id);
    const other = await hold(ctx.app, show.id);
    expectProblem(await extend(held, {}), 401, 'unauthorized');
    expectProblem(await extend(held, { 'x-hold-token': other.hold_token }), 403, 'forbidden');
    expectProblem(await extend({ ...held, id: randomUUID() }, admin), 404, 'booking_not_found');
    expect((await extend(held, admin)).statusCode).toBe(200);
    const key = randomUUID();
    const first = await extend(other, { 'x-hold-token': other.hold_token, 'idempotency-key': key });
    await sleep(50);
    const again = await extend(other, { 'x-hold-token': other.hold_token, 'idempotency-key': key });
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toBe(first.body);
  });
});

describe('extensions racing expiry', () => {
  it('each hold ends either extended (200, the deadline answered is the one stored) or expired (409, EXPIRED), never both', async () => {
    const show = await createShow(ctx.app, { total_seats: 40 });
    const holds = await Promise.all(Array.from({ length: 40 }, () => hold(ctx.app, show.id)));
    // Fire the extensions across the deadline, with the sweep running among them.
    const deadline = Math.max(...holds.map((held) => ms(held.expires_at)));
    await sleep(deadline - Date.now() - 60);
    const answers = await Promise.all([
      ...holds.map(async (held, index) => {
        await sleep(index * 3);
        return { held, answer: await extend(held) };
      }),
      ctx.services.housekeeping.run().then(() => undefined),
    ]);
    const { rows } = await ctx.pool.query<{ id: string; status: string; expires_at: Date }>(
      'SELECT id, status, expires_at FROM bookings WHERE show_id = $1',
      [show.id],
    );
    const stored = new Map(rows.map((row) => [row.id, row]));
    let extended = 0;
    let expired = 0;
    for (const entry of answers) {
      if (!entry) continue;
      const row = stored.get(entry.held.id)!;
      if (entry.answer.statusCode === 200) {
        extended++;
        expect(row.expires_at.toISOString()).toBe(entry.answer.json().expires_at);
        expect(row.status).toBe('PENDING');
      } else {
        expired++;
        expectProblem(entry.answer, 409, 'hold_expired');
        expect(row.status).toBe('EXPIRED');
      }
    }
    expect(extended + expired).toBe(40);
    const counts = await inventory(ctx.pool, show.id);
    expect(counts.held).toBe(counts.pending_rows);
    expect(counts.pending_rows).toBe(extended);
  });
});
