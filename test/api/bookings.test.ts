import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  admin,
  createShow,
  expectProblem,
  futureIso,
  hold,
  inventory,
  sleep,
  startTestApp,
  type TestContext,
} from '../helpers.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await startTestApp({ HOLD_TTL_SECONDS: '1', MAX_SEATS_PER_BOOKING: '4' });
});
afterAll(() => ctx.close());

const book = (showId: string, payload?: unknown, headers: Record<string, string> = {}) =>
  ctx.app.inject({
    method: 'POST',
    url: `/api/shows/${showId}/book`,
    headers: payload === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
  });
const act = (id: string, action: 'confirm' | 'cancel', headers: Record<string, string>) =>
  ctx.app.inject({ method: 'POST', url: `/api/bookings/${id}/${action}`, headers });
const getBooking = (id: string, headers: Record<string, string>) =>
  ctx.app.inject({ method: 'GET', url: `/api/bookings/${id}`, headers });
const available = async (showId: string) =>
  (await ctx.app.inject({ method: 'GET', url: `/api/shows/${showId}` })).json().available_seats as number;

const unknownId = '00000000-0000-4000-8000-000000000000';

describe('POST /api/shows/:id/book', () => {
  it('holds one seat when there is no body, with a hold token and a deadline', async () => {
    const show = await createShow(ctx.app, { total_seats: 5 });
    const response = await book(show.id);
    expect(response.statusCode).toBe(201);
    const booking = response.json();
    expect(booking).toMatchObject({ show_id: show.id, seats: 1, status: 'PENDING' });
    expect(booking.hold_token).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 bits
    const ttl = new Date(booking.expires_at).getTime() - new Date(booking.created_at).getTime();
    expect(ttl).toBe(1000);
    expect(response.headers.location).toBe(`/api/bookings/${booking.id}`);
    expect(await available(show.id)).toBe(4);
    // Stored as the token's SHA-256 digest (src/secrets.ts hashSecret), the 32 raw bytes, and nothing else.
    const { rows } = await ctx.pool.query<{ hold_token_hash: Buffer }>(
      'SELECT hold_token_hash FROM bookings WHERE id = $1',
      [booking.id],
    );
    const sha256 = createHash('sha256').update(booking.hold_token).digest();
    expect(rows[0]!.hold_token_hash.toString('hex')).toBe(sha256.toString('hex'));
  });

  it('holds the requested seats, and an empty JSON body means one seat', async () => {
    const show = await createShow(ctx.app, { total_seats: 5 });
    expect((await book(show.id, { seats: 3 })).json().seats).toBe(3);
    const empty = await ctx.app.inject({
      method: 'POST',
      url: `/api/shows/${show.id}/book`,
      headers: { 'content-type': 'application/json' },
      payload: '',
    });
    expect(empty.statusCode).toBe(201);
    expect(empty.json().seats).toBe(1);
    expect(await available(show.id)).toBe(1);
  });

  it('answers 409 sold_out when fewer seats are free than asked, never a partial hold', async () => {
    const show = await createShow(ctx.app, { total_seats: 3 });
    await hold(ctx.app, show.id, 2);
    const refused = expectProblem(await book(show.id, { seats: 2 }), 409, 'sold_out');
    expect(refused.available_seats).toBe(1);
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 2, pending_rows: 2 });
    expect((await book(show.id, { seats: 1 })).statusCode).toBe(201);
    expectProblem(await book(show.id), 409, 'sold_out');
  });

  it('answers 409 show_started once the show has begun', async () => {
    const show = await createShow(ctx.app, { total_seats: 3 });
    await ctx.pool.query(`UPDATE shows SET start_time = now() - interval '1 minute' WHERE id = $1`, [show.id]);
    expectProblem(await book(show.id), 409, 'show_started');
  });

  it('answers 404 for an unknown show and 400 for a malformed id', async () => {
    expectProblem(await book(unknownId), 404, 'show_not_found');
    expectProblem(await book('not-a-uuid'), 400, 'validation_failed');
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
    const show = await createShow(ctx.app);
    expectProblem(await book(show.id, payload), 400, 'validation_failed');
    expect(await available(show.id)).toBe(10);
  });

  it('makes the seats of an overdue hold bookable the instant it expires, with no worker at all', async () => {
    const show = await createShow(ctx.app, { total_seats: 2 });
    const first = await hold(ctx.app, show.id, 2);
    expectProblem(await book(show.id), 409, 'sold_out');
    await sleep(Math.max(0, new Date(first.expires_at).getTime() - Date.now()) + 50);
    expect(await available(show.id)).toBe(2);
    expect((await book(show.id, { seats: 2 })).statusCode).toBe(201);
    const expired = await getBooking(first.id, { 'x-hold-token': first.hold_token });
    expect(expired.json().status).toBe('EXPIRED');
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 2, pending_rows: 2, confirmed: 0 });
  });
});

describe('POST /api/bookings/:id/confirm', () => {
  it('confirms with the hold token, and again answers 200 with the same booking', async () => {
    const show = await createShow(ctx.app, { total_seats: 5 });
    const held = await hold(ctx.app, show.id, 2);
    const first = await act(held.id, 'confirm', { 'x-hold-token': held.hold_token });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ id: held.id, status: 'CONFIRMED', seats: 2 });
    expect(first.json().hold_token).toBeUndefined();
    const again = await act(held.id, 'confirm', { 'x-hold-token': held.hold_token });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(first.json());
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 0, confirmed: 2, confirmed_rows: 2 });
    // A confirmed booking outlives its hold deadline.
    await sleep(1100);
    expect((await getBooking(held.id, admin)).json().status).toBe('CONFIRMED');
    expect(await available(show.id)).toBe(3);
  });

  it('lets the admin confirm', async () => {
    const show = await createShow(ctx.app);
    const held = await hold(ctx.app, show.id);
    expect((await act(held.id, 'confirm', admin)).json().status).toBe('CONFIRMED');
  });

  it('answers 401 with no token, 403 with a wrong one, 404 for an unknown id, 400 for a malformed id', async () => {
    const show = await createShow(ctx.app);
    const held = await hold(ctx.app, show.id);
    expectProblem(await act(held.id, 'confirm', {}), 401, 'unauthorized');
    expectProblem(await act(held.id, 'confirm', { 'x-hold-token': 'wrong' }), 403, 'forbidden');
    expectProblem(await act(held.id, 'confirm', { authorization: 'Bearer not-the-admin-key' }), 403, 'forbidden');
    const other = await hold(ctx.app, show.id);
    expectProblem(await act(held.id, 'confirm', { 'x-hold-token': other.hold_token }), 403, 'forbidden');
    expectProblem(await act(unknownId, 'confirm', { 'x-hold-token': held.hold_token }), 404, 'booking_not_found');
    expectProblem(await act('nope', 'confirm', { 'x-hold-token': held.hold_token }), 400, 'validation_failed');
    expect((await getBooking(held.id, admin)).json().status).toBe('PENDING');
  });

  it('answers 409 hold_expired after expires_at, and the booking becomes EXPIRED with its seats back', async () => {
    const show = await createShow(ctx.app, { total_seats: 2 });
    const held = await hold(ctx.app, show.id, 2);
    await sleep(new Date(held.expires_at).getTime() - Date.now() + 50);
    expectProblem(await act(held.id, 'confirm', { 'x-hold-token': held.hold_token }), 409, 'hold_expired');
    const { rows } = await ctx.pool.query('SELECT status FROM bookings WHERE id = $1', [held.id]);
    expect(rows[0].status).toBe('EXPIRED');
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 0, pending_rows: 0, confirmed: 0 });
    expectProblem(await act(held.id, 'confirm', { 'x-hold-token': held.hold_token }), 409, 'hold_expired');
  });

  it('answers 409 booking_cancelled for a cancelled booking', async () => {
    const show = await createShow(ctx.app);
    const held = await hold(ctx.app, show.id);
    await act(held.id, 'cancel', { 'x-hold-token': held.hold_token });
    expectProblem(await act(held.id, 'confirm', { 'x-hold-token': held.hold_token }), 409, 'booking_cancelled');
  });
});

describe('POST /api/bookings/:id/cancel', () => {
  it('cancels a hold and puts its seats on sale at once; again answers 200', async () => {
    const show = await createShow(ctx.app, { total_seats: 3 });
    const held = await hold(ctx.app, show.id, 3);
    const cancelled = await act(held.id, 'cancel', { 'x-hold-token': held.hold_token });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json().status).toBe('CANCELLED');
    expect(await available(show.id)).toBe(3);
    expect((await act(held.id, 'cancel', { 'x-hold-token': held.hold_token })).json()).toEqual(cancelled.json());
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 0, confirmed: 0 });
  });

  it('cancels a confirmed booking and returns its seats', async () => {
    const show = await createShow(ctx.app, { total_seats: 3 });
    const held = await hold(ctx.app, show.id, 3);
    await act(held.id, 'confirm', { 'x-hold-token': held.hold_token });
    expect(await available(show.id)).toBe(0);
    expect((await act(held.id, 'cancel', admin)).json().status).toBe('CANCELLED');
    expect(await available(show.id)).toBe(3);
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 0, confirmed: 0, confirmed_rows: 0 });
  });

  it('answers 409 hold_expired for an expired hold, and the same auth errors as confirm', async () => {
    const show = await createShow(ctx.app);
    const held = await hold(ctx.app, show.id);
    expectProblem(await act(held.id, 'cancel', {}), 401, 'unauthorized');
    expectProblem(await act(held.id, 'cancel', { 'x-hold-token': 'x' }), 403, 'forbidden');
    expectProblem(await act(unknownId, 'cancel', admin), 404, 'booking_not_found');
    await sleep(new Date(held.expires_at).getTime() - Date.now() + 50);
    expectProblem(await act(held.id, 'cancel', { 'x-hold-token': held.hold_token }), 409, 'hold_expired');
  });
});

describe('GET /api/bookings/:id', () => {
  it('returns the booking to its token holder and to the admin', async () => {
    const show = await createShow(ctx.app);
    const held = await hold(ctx.app, show.id, 2);
    const byToken = await getBooking(held.id, { 'x-hold-token': held.hold_token });
    expect(byToken.statusCode).toBe(200);
    expect(byToken.json()).toMatchObject({ id: held.id, show_id: show.id, seats: 2, status: 'PENDING' });
    expect(byToken.json().hold_token).toBeUndefined();
    expect((await getBooking(held.id, admin)).json()).toEqual(byToken.json());
  });
  it('answers 401, 403, 404 and 400', async () => {
    const show = await createShow(ctx.app);
    const held = await hold(ctx.app, show.id);
    expectProblem(await getBooking(held.id, {}), 401, 'unauthorized');
    expectProblem(await getBooking(held.id, { 'x-hold-token': 'nope' }), 403, 'forbidden');
    expectProblem(await getBooking(unknownId, admin), 404, 'booking_not_found');
    expectProblem(await getBooking('1', admin), 400, 'validation_failed');
  });
});

describe('show counters', () => {
  it('never exceed the seats, even for a statement that tries', async () => {
    const show = await createShow(ctx.app, { total_seats: 2, start_time: futureIso() });
    await expect(ctx.pool.query('UPDATE shows SET held_seats = 3 WHERE id = $1', [show.id])).rejects.toThrow(
      /shows_never_oversold/,
    );
    await expect(ctx.pool.query('UPDATE shows SET held_seats = -1 WHERE id = $1', [show.id])).rejects.toThrow(
      /check constraint/,
    );
  });
});
