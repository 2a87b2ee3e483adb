import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, startTestApp, type TestContext } from '../helpers.js';
import { inventory, storedStatus } from '../support/database.js';
import { Api, unknownId } from '../support/api.js';
import { lapse } from '../support/clock.js';

// A buyer's holds, confirms and cancels of general admission, and what they answer.
let ctx: TestContext;
let api: Api;
beforeAll(async () => {
  ctx = await startTestApp({ MAX_SEATS_PER_BOOKING: '4' });
  api = new Api(ctx.app);
});
afterAll(() => ctx.close());

describe('POST /api/shows/:id/book', () => {
  it('holds one seat when there is no body, with a hold token and a deadline', async () => {
    const show = await api.show({ total_seats: 5 });
    const response = await api.hold(show.id);
    expect(response.statusCode).toBe(201);
    const booking = response.json();
    expect(booking).toMatchObject({ show_id: show.id, seats: 1, status: 'PENDING' });
    expect(booking.hold_token).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 bits
    const ttl = Date.parse(booking.expires_at) - Date.parse(booking.created_at);
    expect(ttl).toBe(ctx.config.HOLD_TTL_SECONDS * 1000);
    expect(response.headers.location).toBe(`/api/bookings/${booking.id}`);
    expect(await api.available(show.id)).toBe(4);
    // Stored as the token's SHA-256 digest (src/secrets.ts hashSecret), the 32 raw bytes, and nothing else.
    const { rows } = await ctx.pool.query<{ hold_token_hash: Buffer }>(
      'SELECT hold_token_hash FROM bookings WHERE id = $1',
      [booking.id],
    );
    const sha256 = createHash('sha256').update(booking.hold_token).digest();
    expect(rows[0]!.hold_token_hash.toString('hex')).toBe(sha256.toString('hex'));
  });

  it('holds the requested seats, and an empty JSON body means one seat', async () => {
    const show = await api.show({ total_seats: 5 });
    expect((await api.held(show.id, { seats: 3 })).seats).toBe(3);
    const empty = await ctx.app.inject({
      method: 'POST',
      url: `/api/shows/${show.id}/book`,
      headers: { 'content-type': 'application/json' },
      payload: '',
    });
    expect(empty.statusCode).toBe(201);
    expect(empty.json().seats).toBe(1);
    expect(await api.available(show.id)).toBe(1);
  });

  it('answers 409 sold_out when fewer seats are free than asked, never a partial hold', async () => {
    const show = await api.show({ total_seats: 3 });
    await api.held(show.id, { seats: 2 });
    const refused = expectProblem(await api.hold(show.id, { seats: 2 }), 409, 'sold_out');
    expect(refused.available_seats).toBe(1);
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 2, pending_rows: 2 });
    expect((await api.hold(show.id, { seats: 1 })).statusCode).toBe(201);
    expectProblem(await api.hold(show.id), 409, 'sold_out');
  });

  it('answers 409 show_started once the show has begun', async () => {
    const show = await api.show({ total_seats: 3 });
    await ctx.pool.query(`UPDATE shows SET start_time = now() - interval '1 minute' WHERE id = $1`, [show.id]);
    expectProblem(await api.hold(show.id), 409, 'show_started');
  });

  it('answers 404 for an unknown show and 400 for a malformed id', async () => {
    expectProblem(await api.hold(unknownId), 404, 'show_not_found');
    expectProblem(await api.hold('not-a-uuid'), 400, 'validation_failed');
  });

  it.each([
    ['zero seats', { seats: 0 }],
    ['more than MAX_SEATS_PER_BOOKING', { seats: 5 }],
    ['a fractional count', { seats: 1.5 }],
    ['a string count', { seats: '2' }],
    ['a boolean count', { seats: true }],
    ['a huge number', { seats: 1e308 }],
    ['an unknown field', { seat: 2 }],
    ['an array', [1]],
    ['null', null],
  ])('answers 400 validation_failed for %s', async (_name, payload) => {
    const show = await api.show();
    const response = await ctx.app.inject({
      method: 'POST',
      url: `/api/shows/${show.id}/book`,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(payload),
    });
    expectProblem(response, 400, 'validation_failed');
    expect(await api.available(show.id)).toBe(10);
  });

  it('makes the seats of a hold bookable the instant it lapses, with no worker at all', async () => {
    const show = await api.show({ total_seats: 2 });
    const first = await api.held(show.id, { seats: 2 });
    expectProblem(await api.hold(show.id), 409, 'sold_out');
    await lapse(ctx.pool, first.id);
    expect(await api.available(show.id)).toBe(2);
    expect((await api.hold(show.id, { seats: 2 })).statusCode).toBe(201);
    expect((await api.getBooking(first)).json().status).toBe('EXPIRED');
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 2, pending_rows: 2, confirmed: 0 });
  });
});

describe('POST /api/bookings/:id/confirm', () => {
  it('confirms with the hold token, and again answers 200 with the same booking', async () => {
    const show = await api.show({ total_seats: 5 });
    const held = await api.held(show.id, { seats: 2 });
    const first = await api.confirm(held);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ id: held.id, status: 'CONFIRMED', seats: 2 });
    expect((first.json() as { hold_token?: string }).hold_token).toBeUndefined();
    const again = await api.confirm(held);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(first.json());
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 0, confirmed: 2, confirmed_rows: 2 });
    // A confirmed booking outlives its hold's deadline.
    await lapse(ctx.pool, held.id);
    expect((await api.getBooking(held, 'admin')).json().status).toBe('CONFIRMED');
    expect(await api.available(show.id)).toBe(3);
  });

  it('lets the admin confirm', async () => {
    const show = await api.show();
    const held = await api.held(show.id);
    expect((await api.confirm(held, 'admin')).json().status).toBe('CONFIRMED');
  });

  it('answers 401 with no token, 403 with a wrong one, 404 for an unknown id, 400 for a malformed id', async () => {
    const show = await api.show();
    const held = await api.held(show.id);
    const other = await api.held(show.id);
    expectProblem(await api.confirm(held, {}), 401, 'unauthorized');
    expectProblem(await api.confirm(held, { 'x-hold-token': 'wrong' }), 403, 'forbidden');
    expectProblem(await api.confirm(held, { authorization: 'Bearer not-the-admin-key' }), 403, 'forbidden');
    expectProblem(await api.confirm(held, { 'x-hold-token': other.hold_token }), 403, 'forbidden');
    expectProblem(await api.confirm({ ...held, id: unknownId }), 404, 'booking_not_found');
    expectProblem(await api.confirm({ ...held, id: 'nope' }), 400, 'validation_failed');
    expect((await api.getBooking(held, 'admin')).json().status).toBe('PENDING');
  });

  it('answers 409 hold_expired after expires_at, and the booking becomes EXPIRED with its seats back', async () => {
    const show = await api.show({ total_seats: 2 });
    const held = await api.held(show.id, { seats: 2 });
    await lapse(ctx.pool, held.id);
    expectProblem(await api.confirm(held), 409, 'hold_expired');
    expect(await storedStatus(ctx.pool, held.id)).toBe('EXPIRED');
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 0, pending_rows: 0, confirmed: 0 });
    expectProblem(await api.confirm(held), 409, 'hold_expired');
  });

  it('answers 409 booking_cancelled for a cancelled booking', async () => {
    const show = await api.show();
    const held = await api.held(show.id);
    await api.cancel(held);
    expectProblem(await api.confirm(held), 409, 'booking_cancelled');
  });
});

describe('POST /api/bookings/:id/cancel', () => {
  it('cancels a hold and puts its seats on sale at once; again answers 200', async () => {
    const show = await api.show({ total_seats: 3 });
    const held = await api.held(show.id, { seats: 3 });
    const cancelled = await api.cancel(held);
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json().status).toBe('CANCELLED');
    expect(await api.available(show.id)).toBe(3);
    expect((await api.cancel(held)).json()).toEqual(cancelled.json());
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 0, confirmed: 0 });
  });

  it('cancels a confirmed booking and returns its seats', async () => {
    const show = await api.show({ total_seats: 3 });
    const held = await api.held(show.id, { seats: 3 });
    await api.confirmed(held);
    expect(await api.available(show.id)).toBe(0);
    expect((await api.cancel(held, 'admin')).json().status).toBe('CANCELLED');
    expect(await api.available(show.id)).toBe(3);
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 0, confirmed: 0, confirmed_rows: 0 });
  });

  it('answers 409 hold_expired for an expired hold, and the same auth errors as confirm', async () => {
    const show = await api.show();
    const held = await api.held(show.id);
    expectProblem(await api.cancel(held, {}), 401, 'unauthorized');
    expectProblem(await api.cancel(held, { 'x-hold-token': 'x' }), 403, 'forbidden');
    expectProblem(await api.cancel({ id: unknownId }, 'admin'), 404, 'booking_not_found');
    await lapse(ctx.pool, held.id);
    expectProblem(await api.cancel(held), 409, 'hold_expired');
  });
});

describe('GET /api/bookings/:id', () => {
  it('returns the booking to its token holder and to the admin', async () => {
    const show = await api.show();
    const held = await api.held(show.id, { seats: 2 });
    const byToken = await api.getBooking(held);
    expect(byToken.statusCode).toBe(200);
    expect(byToken.json()).toMatchObject({ id: held.id, show_id: show.id, seats: 2, status: 'PENDING' });
    expect((byToken.json() as { hold_token?: string }).hold_token).toBeUndefined();
    expect((await api.getBooking(held, 'admin')).json()).toEqual(byToken.json());
  });

  it('answers 401, 403, 404 and 400', async () => {
    const show = await api.show();
    const held = await api.held(show.id);
    expectProblem(await api.getBooking(held, {}), 401, 'unauthorized');
    expectProblem(await api.getBooking(held, { 'x-hold-token': 'nope' }), 403, 'forbidden');
    expectProblem(await api.getBooking({ id: unknownId }, 'admin'), 404, 'booking_not_found');
    expectProblem(await api.getBooking({ id: '1' }, 'admin'), 400, 'validation_failed');
  });
});

describe('show counters', () => {
  it('never exceed the seats, even for a statement that tries', async () => {
    const show = await api.show({ total_seats: 2 });
    await expect(ctx.pool.query('UPDATE shows SET held_seats = 3 WHERE id = $1', [show.id])).rejects.toThrow(
      /shows_never_oversold/,
    );
    await expect(ctx.pool.query('UPDATE shows SET held_seats = -1 WHERE id = $1', [show.id])).rejects.toThrow(
      /check constraint/,
    );
  });
});
