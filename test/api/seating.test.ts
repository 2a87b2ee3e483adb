import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShowRepository } from '../../src/repositories/show.repository.js';
import { SeatPlans } from '../../src/services/seat-plans.service.js';
import type { Hold } from '../../client/src/index.js';
import { expectProblem, startTestApp, type TestContext } from '../helpers.js';
import { createShow } from '../support/api.js';
import { admin, Api, futureIso } from '../support/api.js';
import { lapse } from '../support/clock.js';
import { inventory } from '../support/database.js';
import type { SeatMapInput as SeatMap } from '../../src/domain/seat-map.js';

// Seat maps: creating seated shows, holding chosen seats and the best available, and the
// database keeping every seat in at most one live booking.
let ctx: TestContext;
let api: Api;
beforeAll(async () => {
  ctx = await startTestApp();
  api = new Api(ctx.app);
});
afterAll(() => ctx.close());

type SeatHold = Hold & { seat_ids: string[] };

const smallMap: SeatMap = {
  sections: [
    {
      name: 'Stalls',
      rows: [
        { label: 'A', seats: 10, category: 'premium' },
        { label: 'B', seats: 12 },
      ],
    },
    { name: 'Circle', rows: [{ label: 'A', seats: 6 }] },
  ],
};

const createSeatedShow = (seatMap: SeatMap = smallMap) => api.show({ title: 'Seated', seat_map: seatMap });
const book = (showId: string, payload: object, headers: Record<string, string> = {}) =>
  api.hold(showId, payload, headers);
const held = async (showId: string, payload: object) => (await api.held(showId, payload)) as SeatHold;
const seatStatus = (showId: string) => api.seatStates(showId);

describe('creating a seated show', () => {
  it('takes a seat map: total_seats is its seats, every category available', async () => {
    const show = await createSeatedShow();
    expect(show).toMatchObject({
      seating: 'assigned',
      total_seats: 28,
      available_seats: 28,
      available_by_category: { premium: 10, standard: 18 },
    });
    const read = await api.showNow(show.id);
    expect(read).toMatchObject({
      seating: 'assigned',
      available_seats: 28,
      available_by_category: { premium: 10, standard: 18 },
    });
  });

  it('general admission is unchanged: no per-category counts', async () => {
    const show = await createShow(ctx.app, { total_seats: 5 });
    expect(show).toMatchObject({ seating: 'general_admission', total_seats: 5 });
    expect(show).not.toHaveProperty('available_by_category');
    expectProblem(await ctx.app.inject({ method: 'GET', url: `/api/shows/${show.id}/seats` }), 409, 'show_not_seated');
    expectProblem(await book(show.id, { seat_ids: ['Stalls-A-1'] }), 409, 'show_not_seated');
  });

  it('takes a 100,000-seat map beyond the usual body limit, from the admin only', async () => {
    const rows = Array.from({ length: 1_000 }, (_, i) => ({ label: `R${i}`, seats: 10 }));
    const seatMap = { sections: Array.from({ length: 10 }, (_, i) => ({ name: `S${i}`, rows })) };
    const payload = { title: 'Arena', start_time: futureIso(), seat_map: seatMap };
    expect(JSON.stringify(payload).length).toBeGreaterThan(16_384);
    const stranger = await ctx.app.inject({ method: 'POST', url: '/api/shows', payload });
    expectProblem(stranger, 401, 'unauthorized');
    const show = await createSeatedShow(seatMap);
    expect(show).toMatchObject({ total_seats: 100_000, available_seats: 100_000 });
    expect((await held(show.id, { seat_ids: ['S9-R999-10'] })).seat_ids).toEqual(['S9-R999-10']);
    expect((await held(show.id, { seats: 4, allow_split: true })).seat_ids).toEqual([
      'S0-R0-4',
      'S0-R0-5',
      'S0-R0-6',
      'S0-R0-7',
    ]);
  });

  it('refuses a map with repeated names, too many seats, or beside total_seats, naming the offender', async () => {
    const create = (payload: object) =>
      ctx.app.inject({
        method: 'POST',
        url: '/api/shows',
        headers: admin,
        payload: { title: 'Bad', start_time: futureIso(), ...payload },
      });
    const repeatedSection = expectProblem(
      await create({
        seat_map: {
          sections: [
            { name: 'X', rows: [{ label: 'A', seats: 1 }] },
            { name: 'X', rows: [{ label: 'A', seats: 1 }] },
          ],
        },
      }),
      400,
      'validation_failed',
    );
    expect(repeatedSection.errors[0].path).toBe('body/seat_map/sections/1/name');
    const repeatedRow = expectProblem(
      await create({
        seat_map: {
          sections: [
            {
              name: 'X',
              rows: [
                { label: 'A', seats: 1 },
                { label: 'A', seats: 2 },
              ],
            },
          ],
        },
      }),
      400,
      'validation_failed',
    );
    expect(repeatedRow.errors[0].path).toBe('body/seat_map/sections/0/rows/1/label');
    const rows = Array.from({ length: 101 }, (_, i) => ({ label: `R${i}`, seats: 1000 }));
    expectProblem(await create({ seat_map: { sections: [{ name: 'Big', rows }] } }), 400, 'validation_failed');
    expectProblem(await create({ total_seats: 3, seat_map: smallMap }), 400, 'validation_failed');
    expectProblem(await create({}), 400, 'validation_failed');
    const dashed = expectProblem(
      await create({ seat_map: { sections: [{ name: 'Left-Wing', rows: [{ label: 'A', seats: 1 }] }] } }),
      400,
      'validation_failed',
    );
    expect(dashed.errors[0].path).toBe('body/seat_map/sections/0/name');
    expectProblem(
      await create({ seat_map: { sections: [{ name: 'X', rows: [{ label: 'A', seats: 1001 }] }] } }),
      400,
      'validation_failed',
    );
  });
});

describe('holding chosen seats', () => {
  it('holds exactly those seats, all or nothing, and names the ones taken', async () => {
    const show = await createSeatedShow();
    const first = await held(show.id, { seat_ids: ['Stalls-A-5', 'Stalls-A-6'] });
    expect(first).toMatchObject({ seats: 2, seat_ids: ['Stalls-A-5', 'Stalls-A-6'], status: 'PENDING' });
    const clash = expectProblem(await book(show.id, { seat_ids: ['Stalls-A-6', 'Stalls-A-7'] }), 409, 'seats_taken');
    expect(clash.taken_seat_ids).toEqual(['Stalls-A-6']);
    expect((await seatStatus(show.id))['Stalls-A']).toBe('FFFFHHFFFF');
    const read = await ctx.app.inject({
      method: 'GET',
      url: `/api/bookings/${first.id}`,
      headers: { 'x-hold-token': first.hold_token },
    });
    expect(read.json()).toMatchObject({ seat_ids: ['Stalls-A-5', 'Stalls-A-6'] });
    expect((await ctx.app.inject({ method: 'GET', url: `/api/shows/${show.id}` })).json()).toMatchObject({
      available_seats: 26,
      available_by_category: { premium: 8, standard: 18 },
    });
  });

  it('answers 400 for unknown seats, repeated seats, and seat_ids beside other fields', async () => {
    const show = await createSeatedShow();
    const unknown = expectProblem(
      await book(show.id, { seat_ids: ['Stalls-A-11', 'Stalls-Z-1', 'Stalls-A-01'] }),
      400,
      'validation_failed',
    );
    expect(unknown.unknown_seat_ids).toEqual(['Stalls-A-11', 'Stalls-Z-1', 'Stalls-A-01']);
    expectProblem(await book(show.id, { seat_ids: ['Stalls-A-1', 'Stalls-A-1'] }), 400, 'validation_failed');
    expectProblem(await book(show.id, { seat_ids: ['Stalls-A-1'], seats: 1 }), 400, 'validation_failed');
    expectProblem(await book(show.id, { seats: 2, category: 'balcony' }), 400, 'validation_failed');
    expectProblem(await book(show.id, { seats: 2, section: 'Gallery' }), 400, 'validation_failed');
    expectProblem(await book(randomUUID(), { seat_ids: ['Stalls-A-1'] }), 404, 'show_not_found');
  });
});

describe('best available', () => {
  it('takes the best row first, the block nearest its centre, within the category asked for', async () => {
    const show = await createSeatedShow();
    expect((await held(show.id, { seats: 2 })).seat_ids).toEqual(['Stalls-A-5', 'Stalls-A-6']);
    expect((await held(show.id, { seats: 3, category: 'standard' })).seat_ids).toEqual([
      'Stalls-B-5',
      'Stalls-B-6',
      'Stalls-B-7',
    ]);
    expect((await held(show.id, { seats: 2, section: 'Circle' })).seat_ids).toEqual(['Circle-A-3', 'Circle-A-4']);
    expect((await held(show.id, {})).seats).toBe(1);
  });

  it('answers sold_out when no row has the seats together, unless allow_split', async () => {
    const show = await createSeatedShow({
      sections: [
        {
          name: 'S',
          rows: [
            { label: 'A', seats: 3 },
            { label: 'B', seats: 3 },
          ],
        },
      ],
    });
    await held(show.id, { seat_ids: ['S-A-2', 'S-B-2'] });
    const refused = expectProblem(await book(show.id, { seats: 2 }), 409, 'sold_out');
    expect(refused.available_seats).toBe(4);
    const split = await held(show.id, { seats: 3, allow_split: true });
    expect(split.seat_ids).toEqual(['S-A-1', 'S-A-3', 'S-B-1']);
    expectProblem(await book(show.id, { seats: 2, allow_split: true }), 409, 'sold_out');
  });
});

describe('a seated booking carries its seats through confirm, cancel and expiry', () => {
  it('confirmed seats are sold; cancelled ones are free again at once', async () => {
    const show = await createSeatedShow();
    const booking = await held(show.id, { seat_ids: ['Circle-A-1', 'Circle-A-2'] });
    const confirm = await ctx.app.inject({
      method: 'POST',
      url: `/api/bookings/${booking.id}/confirm`,
      headers: { 'x-hold-token': booking.hold_token },
    });
    expect(confirm.json()).toMatchObject({ status: 'CONFIRMED', seat_ids: ['Circle-A-1', 'Circle-A-2'] });
    expect((await seatStatus(show.id))['Circle-A']).toBe('SSFFFF');
    expectProblem(await book(show.id, { seat_ids: ['Circle-A-2'] }), 409, 'seats_taken');
    const cancel = await ctx.app.inject({
      method: 'POST',
      url: `/api/bookings/${booking.id}/cancel`,
      headers: { 'x-hold-token': booking.hold_token },
    });
    expect(cancel.json()).toMatchObject({ status: 'CANCELLED', seat_ids: ['Circle-A-1', 'Circle-A-2'] });
    expect((await seatStatus(show.id))['Circle-A']).toBe('FFFFFF');
    // The same process that knew them sold now gives them out again.
    expect((await held(show.id, { seat_ids: ['Circle-A-1', 'Circle-A-2'] })).seats).toBe(2);
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 2, pending_rows: 2, confirmed: 0 });
  });

  it('an overdue hold reads as free the instant it passes expires_at, and its seats can be held again', async () => {
    const show = await createSeatedShow();
    const booking = await held(show.id, { seats: 2 });
    expect((await seatStatus(show.id))['Stalls-A']).toBe('FFFFHHFFFF');
    await lapse(ctx.pool, booking.id);
    expect((await seatStatus(show.id))['Stalls-A']).toBe('FFFFFFFFFF');
    expect((await ctx.app.inject({ method: 'GET', url: `/api/shows/${show.id}` })).json()).toMatchObject({
      available_seats: 28,
      available_by_category: { premium: 10 },
    });
    // Its very seats can be held again: the group that asks for them expires the lapsed hold first.
    const again = await held(show.id, { seat_ids: booking.seat_ids });
    expect(again.seat_ids).toEqual(booking.seat_ids);
    const { rows } = await ctx.pool.query('SELECT status FROM bookings WHERE id = $1', [booking.id]);
    expect(rows[0].status).toBe('EXPIRED');
    expectProblem(
      await ctx.app.inject({
        method: 'POST',
        url: `/api/bookings/${booking.id}/confirm`,
        headers: { 'x-hold-token': booking.hold_token },
      }),
      409,
      'hold_expired',
    );
  });

  it('the expiry worker frees the seats, and the API catches up with seats changed behind its back', async () => {
    const show = await createSeatedShow();
    const lapsing = await held(show.id, { seat_ids: ['Stalls-A-5', 'Stalls-A-6'] });
    await lapse(ctx.pool, lapsing.id);
    expect(await ctx.services.expiry.expireShow(show.id)).toBe(2);
    expect((await seatStatus(show.id))['Stalls-A']).toBe('FFFFFFFFFF');
    // This process knew the seats held; its next group is refused as stale and chosen again.
    expect((await held(show.id, { seat_ids: ['Stalls-A-5', 'Stalls-A-6'] })).seats).toBe(2);
  });

  it('replays a keyed seated hold with its seats', async () => {
    const show = await createSeatedShow();
    const key = randomUUID();
    const first = await book(show.id, { seats: 2 }, { 'idempotency-key': key });
    const replay = await book(show.id, { seats: 2 }, { 'idempotency-key': key });
    expect(first.statusCode).toBe(201);
    expect(replay.statusCode).toBe(201);
    expect(replay.json()).toEqual(first.json());
    expect(first.json().seat_ids).toHaveLength(2);
  });
});

describe('seat plans', () => {
  it("the first holds of a show, arriving together, read its seating once (an on-sale's first second)", async () => {
    const shows = new ShowRepository(ctx.pool);
    const seating = shows.seating.bind(shows);
    let reads = 0;
    shows.seating = (id) => {
      reads++;
      return seating(id);
    };
    const plans = new SeatPlans(shows);
    const show = await createSeatedShow();
    const got = await Promise.all(Array.from({ length: 64 }, () => plans.get(show.id)));
    expect(reads).toBe(1);
    expect(new Set(got).size).toBe(1);
    expect(got[0]!.total).toBe(28);
    expect(plans.known(show.id)).toBe(got[0]);
  });
});

describe('the database keeps every seat in at most one live booking', () => {
  it('refuses a booking that leaves PENDING while it still owns its seats', async () => {
    const show = await createSeatedShow();
    const booking = await held(show.id, { seat_ids: ['Stalls-B-1'] });
    await expect(
      ctx.pool.query(`UPDATE bookings SET status = 'CANCELLED' WHERE id = $1`, [booking.id]),
    ).rejects.toThrow(/owns 1 of its 1 seats/);
  });

  it('refuses seats chosen from wrong seat states, even at the current version', async () => {
    const show = await createSeatedShow({ sections: [{ name: 'S', rows: [{ label: 'A', seats: 2 }] }] });
    const first = await held(show.id, { seat_ids: ['S-A-1'] });
    const { rows } = await ctx.pool.query<{ v: string }>('SELECT seat_version::text AS v FROM shows WHERE id = $1', [
      show.id,
    ]);
    // A buggy API process that believes S-A-1 free: the group holds nothing.
    const { rows: results } = await ctx.pool.query(
      `SELECT outcome, id FROM core.hold_seats($1, 60, NULL, 0, $2, ARRAY[$3::uuid], ARRAY[1], ARRAY[0], ARRAY[1], ARRAY['S-A-1'],
                                         ARRAY[sha256('x')], ARRAY[NULL::text], NULL, NULL, NULL, NULL, NULL, 0,
                                         ARRAY['[{"type":"standard","name":"Admission","quantity":1,"unit_price":0}]'::jsonb],
                                         ARRAY[0])`,
      [show.id, rows[0]!.v, randomUUID()],
    );
    expect(results).toEqual([{ outcome: 'conflict', id: null }]);
    const seats = await ctx.pool.query(
      'SELECT seat_no, state, booking_id FROM seats WHERE show_id = $1 ORDER BY seat_no',
      [show.id],
    );
    expect(seats.rows).toEqual([
      { seat_no: 0, state: 'H', booking_id: first.id },
      { seat_no: 1, state: 'F', booking_id: null },
    ]);
    const categories = await ctx.pool.query('SELECT held_seats, sold_seats FROM show_categories WHERE show_id = $1', [
      show.id,
    ]);
    expect(categories.rows).toEqual([{ held_seats: 1, sold_seats: 0 }]);
  });
});
