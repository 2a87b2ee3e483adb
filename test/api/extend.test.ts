import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, sleep, startTestApp, type TestContext } from '../helpers.js';
import { admin, Api } from '../support/api.js';
import { age, lapse, shift } from '../support/clock.js';
import { inventory, storedStatus } from '../support/database.js';

// Holds last 60 s and may be extended to at most 90 s after they were made; time is moved, not waited for.
const scheduled: { expiresAt: Date }[] = [];
let ctx: TestContext;
let api: Api;
beforeAll(async () => {
  ctx = await startTestApp(
    { HOLD_TTL_SECONDS: '60', HOLD_MAX_LIFETIME_SECONDS: '90' },
    { onHoldGroupCommitted: (_show, _at, expiresAt) => void scheduled.push({ expiresAt }) },
  );
  api = new Api(ctx.app);
});
afterAll(() => ctx.close());

const ms = (iso: string) => Date.parse(iso);

describe('POST /api/bookings/:id/extend', () => {
  it('moves a live hold to now + HOLD_TTL_SECONDS by the database clock, and never past created_at + HOLD_MAX_LIFETIME_SECONDS', async () => {
    const show = await api.show({ total_seats: 2 });
    const held = await api.held(show.id);
    await age(ctx.pool, held.id, 10); // made 10 s ago
    const first = await api.extend(held);
    expect(first.statusCode).toBe(200);
    const once = first.json();
    expect(once).toMatchObject({ id: held.id, status: 'PENDING' });
    expect(ms(once.expires_at) - ms(once.updated_at)).toBe(60_000); // now + TTL, both from one instant
    expect(ms(once.expires_at)).toBeGreaterThan(ms(held.expires_at));
    await shift(ctx.pool, held.id, 25); // 25 s later: now + 60 s is past created_at + 90 s
    const second = (await api.extend(held)).json();
    expect(ms(second.expires_at) - ms(second.created_at)).toBe(90_000);
    expectProblem(await api.extend(held), 409, 'extension_limit');
    const { rows } = await ctx.pool.query<{ expires_at: Date }>('SELECT expires_at FROM bookings WHERE id = $1', [
      held.id,
    ]);
    expect(rows[0]!.expires_at.toISOString()).toBe(second.expires_at);
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 1, pending_rows: 1 });
  });

  it('its expiry follows the new deadline: still a hold after the old one, EXPIRED after the new one', async () => {
    const show = await api.show({ total_seats: 1 });
    const held = await api.held(show.id);
    await shift(ctx.pool, held.id, 30); // made 30 s ago, 30 s left
    scheduled.length = 0;
    const extended = (await api.extend(held)).json(); // 60 s left
    // An expiry job is scheduled for the new deadline (the old one finds nothing due).
    expect(scheduled.map((job) => job.expiresAt.toISOString())).toEqual([extended.expires_at]);
    await shift(ctx.pool, held.id, 45); // past the old deadline, 15 s before the new one
    await ctx.services.housekeeping.run(); // the sweep
    expect((await api.getBooking(held)).json().status).toBe('PENDING');
    expectProblem(await api.hold(show.id), 409, 'sold_out');
    await lapse(ctx.pool, held.id); // past the new one
    expect((await api.getBooking(held)).json().status).toBe('EXPIRED');
    await ctx.services.housekeeping.run();
    expect(await storedStatus(ctx.pool, held.id)).toBe('EXPIRED');
  });

  it('refuses what has no live hold: expired 409 hold_expired, confirmed 409 booking_confirmed, cancelled 409 booking_cancelled', async () => {
    const show = await api.show({ total_seats: 3 });
    const [late, confirmed, cancelled] = [await api.held(show.id), await api.held(show.id), await api.held(show.id)];
    expect((await api.confirm(confirmed)).statusCode).toBe(200);
    expect((await api.cancel(cancelled)).statusCode).toBe(200);
    expectProblem(await api.extend(confirmed), 409, 'booking_confirmed');
    expectProblem(await api.extend(cancelled), 409, 'booking_cancelled');
    await lapse(ctx.pool, late.id);
    expectProblem(await api.extend(late), 409, 'hold_expired');
    expect(await storedStatus(ctx.pool, late.id)).toBe('EXPIRED');
  });

  it('needs the hold token or the admin key, and replays with an Idempotency-Key', async () => {
    const show = await api.show({ total_seats: 2 });
    const held = await api.held(show.id);
    const other = await api.held(show.id);
    expectProblem(await api.extend(held, {}), 401, 'unauthorized');
    expectProblem(await api.extend(held, { 'x-hold-token': other.hold_token }), 403, 'forbidden');
    expectProblem(await api.extend({ id: randomUUID() }, admin), 404, 'booking_not_found');
    expect((await api.extend(held, 'admin')).statusCode).toBe(200);
    const key = randomUUID();
    const first = await api.extend(other, 'buyer', { 'idempotency-key': key });
    const again = await api.extend(other, 'buyer', { 'idempotency-key': key });
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toBe(first.body);
  });
});

describe('extensions racing expiry, in real time', () => {
  // The race is with the clock itself, so this one waits for it: holds of 2 s.
  let racing: TestContext;
  beforeAll(async () => {
    racing = await startTestApp({ HOLD_TTL_SECONDS: '2', HOLD_MAX_LIFETIME_SECONDS: '3' });
  });
  afterAll(() => racing.close());

  it('each hold ends either extended (200, the deadline answered is the one stored) or expired (409, EXPIRED), never both', async () => {
    const on = new Api(racing.app);
    const show = await on.show({ total_seats: 40 });
    const holds = await Promise.all(Array.from({ length: 40 }, () => on.held(show.id)));
    // Fire the extensions across the deadline, with the sweep running among them.
    const deadline = Math.max(...holds.map((held) => ms(held.expires_at)));
    await sleep(deadline - Date.now() - 60);
    const answers = await Promise.all([
      ...holds.map(async (held, index) => {
        await sleep(index * 3);
        return { held, answer: await on.extend(held) };
      }),
      racing.services.housekeeping.run().then(() => undefined),
    ]);
    const { rows } = await racing.pool.query<{ id: string; status: string; expires_at: Date }>(
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
    const counts = await inventory(racing.pool, show.id);
    expect(counts.held).toBe(counts.pending_rows);
    expect(counts.pending_rows).toBe(extended);
  });
});
