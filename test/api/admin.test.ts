import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hold } from '../../client/src/index.js';
import type { SeatMapInput as SeatMap } from '../../src/domain/seat-map.js';
import { expectProblem, startTestApp, type TestContext } from '../helpers.js';
import { admin, Api, created, seatMap, unknownId } from '../support/api.js';
import { lapse } from '../support/clock.js';
import { categoryCounts, inventory } from '../support/database.js';

// The admin's routes of the checkout: PATCH a show, house seats (blocks), comps, a show's bookings
// and its summary.
let ctx: TestContext;
let api: Api;
beforeAll(async () => {
  ctx = await startTestApp();
  api = new Api(ctx.app);
});
afterAll(() => ctx.close());

// Stalls-A is premium, Stalls-B standard.
const smallMap = seatMap(
  [
    ['A', 4, 'premium'],
    ['B', 4],
  ],
  'Stalls',
);

const createShow = (body: object = {}) => api.show({ title: 'Admin', ...body });
const createSeated = (map = smallMap) => createShow({ seat_map: map });
const getShow = (showId: string) => api.showNow(showId);
const blocks = async (showId: string) => (await api.blocks(showId)).json();
const summary = async (showId: string) => created(await api.summary(showId), 200);
const categories = (showId: string) => categoryCounts(ctx.pool, showId);
const blockedSeats = async (showId: string) =>
  (await ctx.pool.query<{ n: number }>('SELECT blocked_seats AS n FROM shows WHERE id = $1', [showId])).rows[0]!.n;

describe('PATCH /api/shows/:id', () => {
  it('changes title, description (null clears) and the settings, leaves the rest, and answers the show as GET reads it', async () => {
    const show = await createShow({ description: 'Tragedy' });
    const changes = {
      title: 'Macbeth',
      description: null,
      late_confirm: 'reclaim',
      max_seats_per_customer: 4,
      sales_start: '2030-01-01T09:00:00+01:00',
      sales_end: '2030-02-01T08:00:00.250Z',
    };
    const response = await api.patchShow(show.id, changes);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({
      ...show,
      ...changes,
      sales_start: '2030-01-01T08:00:00.000Z',
      sales_end: '2030-02-01T08:00:00.250Z',
    });
    expect(await getShow(show.id)).toEqual(response.json());
    // null clears each optional setting; what is not sent stays.
    const cleared = await api.patchShow(show.id, { max_seats_per_customer: null, sales_start: null, sales_end: null });
    expect(cleared.json()).toMatchObject({
      title: 'Macbeth',
      late_confirm: 'reclaim',
      max_seats_per_customer: null,
      sales_start: null,
      sales_end: null,
    });
  });

  it('moves start_time to a future instant; a past one is 422 start_time_in_past and changes nothing', async () => {
    const show = await createShow();
    const later = new Date(Date.now() + 3 * 86_400_000).toISOString();
    expect((await api.patchShow(show.id, { start_time: later })).json().start_time).toBe(later);
    expectProblem(
      await api.patchShow(show.id, { start_time: '2001-01-01T00:00:00Z', title: 'Never' }),
      422,
      'start_time_in_past',
    );
    expect(await getShow(show.id)).toMatchObject({ title: 'Admin', start_time: later });
  });

  it('sales_end must be after sales_start: 400 naming body/sales_end, in one PATCH or against the stored one', async () => {
    const show = await createShow();
    const equal = expectProblem(
      await api.patchShow(show.id, { sales_start: '2030-01-01T10:00:00Z', sales_end: '2030-01-01T10:00:00Z' }),
      400,
      'validation_failed',
    );
    expect(equal.errors[0].path).toBe('body/sales_end');
    expect((await api.patchShow(show.id, { sales_start: '2030-01-01T10:00:00Z' })).statusCode).toBe(200);
    const before = expectProblem(
      await api.patchShow(show.id, { sales_end: '2030-01-01T09:00:00Z', title: 'Never' }),
      400,
      'validation_failed',
    );
    expect(before.errors[0].path).toBe('body/sales_end');
    expect(await getShow(show.id)).toMatchObject({
      title: 'Admin',
      sales_start: '2030-01-01T10:00:00.000Z',
      sales_end: null,
    });
  });

  it('answers 400 for an empty or invalid body or a malformed id, 401 without the admin key, 404 for an unknown show', async () => {
    const show = await createShow();
    for (const body of [
      {},
      { total_seats: 0 },
      { late_confirm: 'later' },
      { max_seats_per_customer: 0 },
      { title: '' },
      { start_time: null },
      { sales_start: 'tomorrow' },
      { seating: 'assigned' },
      [],
    ]) {
      expectProblem(await api.patchShow(show.id, body), 400, 'validation_failed');
    }
    expectProblem(await api.patchShow(show.id, { title: 'x' }, {}), 401, 'unauthorized');
    expectProblem(
      await api.patchShow(show.id, { title: 'x' }, { authorization: 'Bearer not-the-admin-key' }),
      401,
      'unauthorized',
    );
    expectProblem(await api.patchShow(unknownId, { title: 'x' }), 404, 'show_not_found');
    expectProblem(await api.patchShow('nope', { title: 'x' }), 400, 'validation_failed');
    // The body is JSON, at most 8 MiB (a new seat map can be large).
    const raw = (type: string, payload: string) =>
      ctx.app.inject({
        method: 'PATCH',
        url: `/api/shows/${show.id}`,
        headers: { ...admin, 'content-type': type },
        payload,
      });
    expectProblem(await raw('application/json', '{'), 400, 'invalid_json');
    expectProblem(await raw('text/plain', 'title=x'), 415, 'unsupported_media_type');
    expectProblem(
      await raw('application/json', JSON.stringify({ title: 'x'.repeat(8 * 1024 * 1024) })),
      413,
      'payload_too_large',
    );
    expect((await getShow(show.id)).title).toBe('Admin');
  });

  it('general admission: total_seats grows, and shrinks down to the seats held, sold and blocked, never below (409 seats_in_use)', async () => {
    const show = await createShow({ total_seats: 10 });
    await api.held(show.id, { seats: 2 });
    await api.sold(show.id, { seats: 3 });
    await api.blocked(show.id, { seats: 1 });
    const refused = expectProblem(await api.patchShow(show.id, { total_seats: 5 }), 409, 'seats_in_use');
    expect(refused.seats_in_use).toBe(6);
    expect(await getShow(show.id)).toMatchObject({ total_seats: 10, available_seats: 4 });
    expect((await api.patchShow(show.id, { total_seats: 6 })).json()).toMatchObject({
      total_seats: 6,
      available_seats: 0,
    });
    expectProblem(await api.hold(show.id), 409, 'sold_out');
    expect((await api.patchShow(show.id, { total_seats: 12 })).json()).toMatchObject({
      total_seats: 12,
      available_seats: 6,
    });
    expect((await api.held(show.id, { seats: 6 })).seats).toBe(6);
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ total: 12, held: 8, pending_rows: 8, confirmed: 3 });
  });

  it('total_seats of a seated show is 409 show_seated; seat_map of a general-admission show is 409 show_not_seated', async () => {
    const seated = await createSeated();
    expectProblem(await api.patchShow(seated.id, { total_seats: 20 }), 409, 'show_seated');
    const ga = await createShow();
    expectProblem(await api.patchShow(ga.id, { seat_map: smallMap }), 409, 'show_not_seated');
    expect((await getShow(seated.id)).total_seats).toBe(8);
    expect((await getShow(ga.id)).total_seats).toBe(10);
  });

  it('a grown seat map: held, sold and blocked seats keep their ids and states, new seats are on sale', async () => {
    const show = await createSeated();
    const pending = await api.held(show.id, { seat_ids: ['Stalls-B-2'] });
    const confirmed = await api.sold(show.id, { seat_ids: ['Stalls-A-3'] });
    const house = await api.blocked(show.id, { seat_ids: ['Stalls-A-4'] });
    expect(await api.seatStates(show.id)).toEqual({ 'Stalls-A': 'FFSB', 'Stalls-B': 'FHFF' });

    // A section before, seats added at the end of a row, a row between, and a seat at the end.
    const grown: SeatMap = {
      sections: [
        { name: 'Front', rows: [{ label: 'A', seats: 2, category: 'vip' }] },
        {
          name: 'Stalls',
          rows: [
            { label: 'A', seats: 6, category: 'premium' },
            { label: 'AA', seats: 3 },
            { label: 'B', seats: 5 },
          ],
        },
      ],
    };
    const response = await api.patchShow(show.id, { seat_map: grown });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({
      total_seats: 16,
      available_seats: 13,
      available_by_category: { premium: 4, standard: 7, vip: 2 },
    });
    expect(await api.seatStates(show.id)).toEqual({
      'Front-A': 'FF',
      'Stalls-A': 'FFSBFF',
      'Stalls-AA': 'FFF',
      'Stalls-B': 'FHFFF',
    });
    expect(await categories(show.id)).toEqual([
      { name: 'premium', total_seats: 6, held_seats: 0, sold_seats: 1, blocked_seats: 1 },
      { name: 'standard', total_seats: 8, held_seats: 1, sold_seats: 0, blocked_seats: 0 },
      { name: 'vip', total_seats: 2, held_seats: 0, sold_seats: 0, blocked_seats: 0 },
    ]);
    const read = await api.get(`/api/bookings/${confirmed.id}`);
    expect(read.json()).toMatchObject({ status: 'CONFIRMED', seat_ids: ['Stalls-A-3'] });
    expect((await blocks(show.id)).map((b) => [b.id, b.seat_ids])).toEqual([[house.id, ['Stalls-A-4']]]);

    // Taken seats stay taken under their ids; new seats, and the free old ones, are on sale.
    expect(
      expectProblem(await api.hold(show.id, { seat_ids: ['Stalls-B-2'] }), 409, 'seats_taken').taken_seat_ids,
    ).toEqual(['Stalls-B-2']);
    expectProblem(await api.hold(show.id, { seat_ids: ['Stalls-A-4'] }), 409, 'seats_taken');
    expect((await api.held(show.id, { seat_ids: ['Front-A-1'] })).seat_ids).toEqual(['Front-A-1']);
    expect((await api.held(show.id, { seat_ids: ['Stalls-AA-2', 'Stalls-B-5'] })).seats).toBe(2);
    expect((await api.held(show.id, { seats: 1, category: 'vip' })).seat_ids).toEqual(['Front-A-2']);
    // The hold made on the old map confirms onto its seat in the new one.
    expect((await api.confirm(pending)).json()).toMatchObject({ status: 'CONFIRMED', seat_ids: ['Stalls-B-2'] });
    expect(await api.seatStates(show.id)).toEqual({
      'Front-A': 'HH',
      'Stalls-A': 'FFSBFF',
      'Stalls-AA': 'FHF',
      'Stalls-B': 'FSFFH',
    });
    expect(await inventory(ctx.pool, show.id)).toMatchObject({
      total: 16,
      held: 4,
      pending_rows: 4,
      confirmed: 2,
      confirmed_rows: 2,
    });
    expect(await categories(show.id)).toEqual([
      { name: 'premium', total_seats: 6, held_seats: 0, sold_seats: 1, blocked_seats: 1 },
      { name: 'standard', total_seats: 8, held_seats: 2, sold_seats: 1, blocked_seats: 0 },
      { name: 'vip', total_seats: 2, held_seats: 2, sold_seats: 0, blocked_seats: 0 },
    ]);
    expect(await api.release(show.id, house.id)).toMatchObject({ statusCode: 204 });
    expect((await api.seatStates(show.id))['Stalls-A']).toBe('FFSFFF');
  });

  it("a row's new category takes its seats' counts along; a category no row has any more is gone", async () => {
    const show = await createSeated();
    await api.held(show.id, { seat_ids: ['Stalls-B-1'] });
    await api.sold(show.id, { seat_ids: ['Stalls-B-4'] });
    const recategorized: SeatMap = {
      sections: [
        {
          name: 'Stalls',
          rows: [
            { label: 'A', seats: 4, category: 'premium' },
            { label: 'B', seats: 4, category: 'rear' },
          ],
        },
      ],
    };
    const response = await api.patchShow(show.id, { seat_map: recategorized });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().available_by_category).toEqual({ premium: 4, rear: 2 });
    expect(await categories(show.id)).toEqual([
      { name: 'premium', total_seats: 4, held_seats: 0, sold_seats: 0, blocked_seats: 0 },
      { name: 'rear', total_seats: 4, held_seats: 1, sold_seats: 1, blocked_seats: 0 },
    ]);
    expect((await api.held(show.id, { seats: 2, category: 'rear' })).seat_ids).toEqual(['Stalls-B-2', 'Stalls-B-3']);
  });

  it('a seat held, sold or blocked cannot be removed (409 seats_in_use naming them); free seats can', async () => {
    const show = await createSeated();
    await api.held(show.id, { seat_ids: ['Stalls-B-2'] });
    await api.sold(show.id, { seat_ids: ['Stalls-A-3'] });
    await api.blocked(show.id, { seat_ids: ['Stalls-A-4'] });
    const withoutB = expectProblem(
      await api.patchShow(show.id, {
        seat_map: { sections: [{ name: 'Stalls', rows: [{ label: 'A', seats: 4, category: 'premium' }] }] },
      }),
      409,
      'seats_in_use',
    );
    expect(withoutB.seat_ids_in_use).toEqual(['Stalls-B-2']);
    const shortA = expectProblem(
      await api.patchShow(show.id, {
        seat_map: {
          sections: [
            {
              name: 'Stalls',
              rows: [
                { label: 'A', seats: 2, category: 'premium' },
                { label: 'B', seats: 4 },
              ],
            },
          ],
        },
      }),
      409,
      'seats_in_use',
    );
    expect(shortA.seat_ids_in_use).toEqual(['Stalls-A-3', 'Stalls-A-4']);
    expect(await api.seatStates(show.id)).toEqual({ 'Stalls-A': 'FFSB', 'Stalls-B': 'FHFF' });
    // Stalls-B-3 and -4 are free: they may go.
    const shorter = await api.patchShow(show.id, {
      seat_map: {
        sections: [
          {
            name: 'Stalls',
            rows: [
              { label: 'A', seats: 4, category: 'premium' },
              { label: 'B', seats: 2 },
            ],
          },
        ],
      },
    });
    expect(shorter.statusCode, shorter.body).toBe(200);
    expect(shorter.json()).toMatchObject({ total_seats: 6, available_seats: 3 });
    expect(await api.seatStates(show.id)).toEqual({ 'Stalls-A': 'FFSB', 'Stalls-B': 'FH' });
    expect(
      expectProblem(await api.hold(show.id, { seat_ids: ['Stalls-B-3'] }), 400, 'validation_failed').unknown_seat_ids,
    ).toEqual(['Stalls-B-3']);
    expect(await categories(show.id)).toEqual([
      { name: 'premium', total_seats: 4, held_seats: 0, sold_seats: 1, blocked_seats: 1 },
      { name: 'standard', total_seats: 2, held_seats: 1, sold_seats: 0, blocked_seats: 0 },
    ]);
  });
});

describe('house seats: /api/shows/:id/blocks', () => {
  it('general admission: keeps a number of seats off sale until released', async () => {
    const show = await createShow({ total_seats: 5 });
    const response = await api.block(show.id, { seats: 3, note: 'Press night' });
    expect(response.statusCode, response.body).toBe(201);
    const kept = response.json();
    expect(kept).toEqual({
      id: expect.any(String),
      show_id: show.id,
      seats: 3,
      note: 'Press night',
      created_at: expect.any(String),
    });
    expect(response.headers.location).toBe(`/api/shows/${show.id}/blocks/${kept.id}`);
    expect((await getShow(show.id)).available_seats).toBe(2);
    expect(await blockedSeats(show.id)).toBe(3);
    expect(expectProblem(await api.hold(show.id, { seats: 3 }), 409, 'sold_out').available_seats).toBe(2);
    const unnoted = await api.blocked(show.id, { seats: 1 });
    expect(unnoted.note).toBeNull();
    expect(await blocks(show.id)).toEqual([kept, unnoted]);
    // More than are free: 409 sold_out, naming how many are.
    expect(expectProblem(await api.block(show.id, { seats: 2 }), 409, 'sold_out').available_seats).toBe(1);

    const released = await api.release(show.id, kept.id);
    expect(released.statusCode).toBe(204);
    expect(released.body).toBe('');
    expect(await blocks(show.id)).toEqual([unnoted]);
    expect((await getShow(show.id)).available_seats).toBe(4);
    expect(await blockedSeats(show.id)).toBe(1);
    expect((await api.held(show.id, { seats: 4 })).seats).toBe(4);
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ total: 5, held: 4, confirmed: 0 });
  });

  it('seated: keeps those seats (B in the map, out of their category), refused to holds, back on sale when released', async () => {
    const show = await createSeated();
    const kept = await api.blocked(show.id, { seat_ids: ['Stalls-A-2', 'Stalls-A-3'], note: 'Director' });
    expect(kept).toEqual({
      id: expect.any(String),
      show_id: show.id,
      seats: 2,
      seat_ids: ['Stalls-A-2', 'Stalls-A-3'],
      note: 'Director',
      created_at: expect.any(String),
    });
    expect(await api.seatStates(show.id)).toEqual({ 'Stalls-A': 'FBBF', 'Stalls-B': 'FFFF' });
    expect(await getShow(show.id)).toMatchObject({
      available_seats: 6,
      available_by_category: { premium: 2, standard: 4 },
    });
    expect(await categories(show.id)).toEqual([
      { name: 'premium', total_seats: 4, held_seats: 0, sold_seats: 0, blocked_seats: 2 },
      { name: 'standard', total_seats: 4, held_seats: 0, sold_seats: 0, blocked_seats: 0 },
    ]);
    expect(await blockedSeats(show.id)).toBe(2);
    expect(
      expectProblem(await api.hold(show.id, { seat_ids: ['Stalls-A-3'] }), 409, 'seats_taken').taken_seat_ids,
    ).toEqual(['Stalls-A-3']);
    // Best available works around them: no two premium seats together, but two apart.
    expectProblem(await api.hold(show.id, { seats: 2, category: 'premium' }), 409, 'sold_out');
    expect((await api.held(show.id, { seats: 2, category: 'premium', allow_split: true })).seat_ids).toEqual([
      'Stalls-A-1',
      'Stalls-A-4',
    ]);

    expect((await api.release(show.id, kept.id)).statusCode).toBe(204);
    expect(await api.seatStates(show.id)).toEqual({ 'Stalls-A': 'HFFH', 'Stalls-B': 'FFFF' });
    expect(await blocks(show.id)).toEqual([]);
    expect((await api.held(show.id, { seat_ids: ['Stalls-A-2', 'Stalls-A-3'] })).seats).toBe(2);
    expect(await categories(show.id)).toEqual([
      { name: 'premium', total_seats: 4, held_seats: 4, sold_seats: 0, blocked_seats: 0 },
      { name: 'standard', total_seats: 4, held_seats: 0, sold_seats: 0, blocked_seats: 0 },
    ]);
  });

  it('seated: a held, sold or blocked seat cannot be blocked (409 seats_taken naming them); nothing is kept', async () => {
    const show = await createSeated();
    await api.held(show.id, { seat_ids: ['Stalls-B-1'] });
    await api.sold(show.id, { seat_ids: ['Stalls-B-2'] });
    await api.blocked(show.id, { seat_ids: ['Stalls-B-3'] });
    const taken = expectProblem(
      await api.block(show.id, { seat_ids: ['Stalls-B-4', 'Stalls-B-3', 'Stalls-B-2', 'Stalls-B-1'] }),
      409,
      'seats_taken',
    );
    expect([...taken.taken_seat_ids].sort()).toEqual(['Stalls-B-1', 'Stalls-B-2', 'Stalls-B-3']);
    expect((await api.seatStates(show.id))['Stalls-B']).toBe('HSBF');
    expect(await blocks(show.id)).toHaveLength(1);
    expect(await blockedSeats(show.id)).toBe(1);
  });

  it("answers 400 for the wrong form for the show's kind, unknown seats and invalid bodies", async () => {
    const ga = await createShow();
    const seated = await createSeated();
    for (const [showId, body] of [
      [ga.id, { seat_ids: ['Stalls-A-1'] }],
      [ga.id, { seats: 1, seat_ids: ['Stalls-A-1'] }],
      [ga.id, {}],
      [ga.id, { note: 'nothing' }],
      [ga.id, { seats: 0 }],
      [ga.id, { seats: 1, note: 'x'.repeat(501) }],
      [ga.id, { seats: 1, extra: true }],
      [seated.id, { seats: 2 }],
      [seated.id, { seats: 1, seat_ids: ['Stalls-A-1'] }],
      [seated.id, {}],
      [seated.id, { seat_ids: [] }],
      [seated.id, { seat_ids: ['Stalls-A-1', 'Stalls-A-1'] }],
    ] as const) {
      expectProblem(await api.block(showId, body), 400, 'validation_failed');
    }
    const unknown = expectProblem(
      await api.block(seated.id, { seat_ids: ['Stalls-A-1', 'Stalls-C-1', 'Stalls-A-5'] }),
      400,
      'validation_failed',
    );
    expect(unknown.unknown_seat_ids).toEqual(['Stalls-C-1', 'Stalls-A-5']);
    expect(await blocks(ga.id)).toEqual([]);
    expect(await blocks(seated.id)).toEqual([]);
    expect((await api.seatStates(seated.id))['Stalls-A']).toBe('FFFF');
  });

  it('answers 401 without the admin key, 404 for an unknown show, 400 for a malformed id, on every blocks route', async () => {
    const show = await createShow();
    const kept = await api.blocked(show.id, { seats: 1 });
    expectProblem(await api.block(show.id, { seats: 1 }, {}), 401, 'unauthorized');
    expectProblem(await api.get(`/api/shows/${show.id}/blocks`, {}), 401, 'unauthorized');
    expectProblem(await api.release(show.id, kept.id, {}), 401, 'unauthorized');
    expectProblem(await api.block(unknownId, { seats: 1 }), 404, 'show_not_found');
    expectProblem(await api.get(`/api/shows/${unknownId}/blocks`), 404, 'show_not_found');
    expectProblem(await api.release(unknownId, kept.id), 404, 'show_not_found');
    expectProblem(await api.block('nope', { seats: 1 }), 400, 'validation_failed');
    expectProblem(await api.get('/api/shows/nope/blocks'), 400, 'validation_failed');
    expectProblem(await api.release(show.id, 'nope'), 400, 'validation_failed');
    expect(await blocks(show.id)).toEqual([kept]);
  });

  it('DELETE of an unknown block, one of another show, or one already released: 404 block_not_found', async () => {
    const show = await createShow();
    const other = await createShow();
    const kept = await api.blocked(show.id, { seats: 2 });
    expectProblem(await api.release(show.id, unknownId), 404, 'block_not_found');
    expectProblem(await api.release(other.id, kept.id), 404, 'block_not_found');
    expect(await blockedSeats(show.id)).toBe(2);
    expect((await api.release(show.id, kept.id)).statusCode).toBe(204);
    expectProblem(await api.release(show.id, kept.id), 404, 'block_not_found');
    expect(await blockedSeats(show.id)).toBe(0);
    expect((await getShow(show.id)).available_seats).toBe(10);
  });

  it('replays a keyed block instead of keeping more seats; the key with another body is 422', async () => {
    const show = await createShow({ total_seats: 4 });
    const key = randomUUID();
    const first = await api.block(show.id, { seats: 3 }, { ...admin, 'idempotency-key': key });
    const again = await api.block(show.id, { seats: 3 }, { ...admin, 'idempotency-key': key });
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toBe(first.body);
    expectProblem(
      await api.block(show.id, { seats: 1 }, { ...admin, 'idempotency-key': key }),
      422,
      'idempotency_key_reused',
    );
    expect(await blockedSeats(show.id)).toBe(3);
    expect(await blocks(show.id)).toHaveLength(1);
  });
});

describe('comps: POST /api/shows/:id/comps', () => {
  it('general admission: CONFIRMED at once with comp: true, from free seats', async () => {
    const show = await createShow({ total_seats: 5 });
    const response = await api.comp(show.id, { seats: 2, customer_ref: 'press-1' });
    expect(response.statusCode, response.body).toBe(201);
    const comp = response.json();
    expect(comp).toMatchObject({
      show_id: show.id,
      seats: 2,
      status: 'CONFIRMED',
      comp: true,
      customer_ref: 'press-1',
    });
    expect(comp).not.toHaveProperty('hold_token');
    expect(comp).not.toHaveProperty('seat_ids');
    expect(response.headers.location).toBe(`/api/bookings/${comp.id}`);
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 0, confirmed: 2, confirmed_rows: 2 });
    expect((await getShow(show.id)).available_seats).toBe(3);
    expect((await api.get(`/api/bookings/${comp.id}`)).json()).toEqual(comp);
    expect(expectProblem(await api.comp(show.id, { seats: 4 }), 409, 'sold_out').available_seats).toBe(3);
    // The admin cancels a comp like any booking: its seats are back on sale.
    const cancelled = await ctx.app.inject({ method: 'POST', url: `/api/bookings/${comp.id}/cancel`, headers: admin });
    expect(cancelled.json()).toMatchObject({ status: 'CANCELLED', comp: true });
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ confirmed: 0, confirmed_rows: 0 });
  });

  it('general admission: from a block, which keeps the rest; a block emptied is gone', async () => {
    const show = await createShow({ total_seats: 6 });
    const kept = await api.blocked(show.id, { seats: 3, note: 'House' });
    expect((await api.comp(show.id, { seats: 2, block_id: kept.id })).json()).toMatchObject({ comp: true, seats: 2 });
    expect(await blocks(show.id)).toEqual([{ ...kept, seats: 1 }]);
    expect(await blockedSeats(show.id)).toBe(1);
    // Seats from the block: those on sale are untouched.
    expect((await getShow(show.id)).available_seats).toBe(3);
    expect(
      expectProblem(await api.comp(show.id, { seats: 2, block_id: kept.id }), 409, 'sold_out').available_seats,
    ).toBe(1);
    expect((await api.comp(show.id, { seats: 1, block_id: kept.id })).statusCode).toBe(201);
    expect(await blocks(show.id)).toEqual([]);
    expectProblem(await api.release(show.id, kept.id), 404, 'block_not_found');
    expectProblem(await api.comp(show.id, { seats: 1, block_id: kept.id }), 404, 'block_not_found');
    expectProblem(await api.comp(show.id, { seats: 1, block_id: unknownId }), 404, 'block_not_found');
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ total: 6, held: 0, confirmed: 3, confirmed_rows: 3 });
    expect(await blockedSeats(show.id)).toBe(0);
    expect((await getShow(show.id)).available_seats).toBe(3);
  });

  it('seated: free and blocked seats are sold; blocked ones leave their block', async () => {
    const show = await createSeated();
    const kept = await api.blocked(show.id, { seat_ids: ['Stalls-A-1', 'Stalls-A-2', 'Stalls-A-3'] });
    const response = await api.comp(show.id, { seat_ids: ['Stalls-B-4', 'Stalls-A-2'] });
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toMatchObject({
      seats: 2,
      status: 'CONFIRMED',
      comp: true,
      seat_ids: ['Stalls-A-2', 'Stalls-B-4'],
    });
    expect(response.json()).not.toHaveProperty('customer_ref');
    expect(await api.seatStates(show.id)).toEqual({ 'Stalls-A': 'BSBF', 'Stalls-B': 'FFFS' });
    expect(await blocks(show.id)).toEqual([{ ...kept, seats: 2, seat_ids: ['Stalls-A-1', 'Stalls-A-3'] }]);
    expect(await categories(show.id)).toEqual([
      { name: 'premium', total_seats: 4, held_seats: 0, sold_seats: 1, blocked_seats: 2 },
      { name: 'standard', total_seats: 4, held_seats: 0, sold_seats: 1, blocked_seats: 0 },
    ]);
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ confirmed: 2, confirmed_rows: 2 });
    expect(await blockedSeats(show.id)).toBe(2);
    // The rest of the block comps out: the block is gone.
    expect((await api.comp(show.id, { seat_ids: ['Stalls-A-1', 'Stalls-A-3'] })).statusCode).toBe(201);
    expect(await blocks(show.id)).toEqual([]);
    expect(await api.seatStates(show.id)).toEqual({ 'Stalls-A': 'SSSF', 'Stalls-B': 'FFFS' });
    expect(await getShow(show.id)).toMatchObject({
      available_seats: 4,
      available_by_category: { premium: 1, standard: 3 },
    });
  });

  it('seated: a held or sold seat is 409 seats_taken naming it; nothing is sold', async () => {
    const show = await createSeated();
    await api.held(show.id, { seat_ids: ['Stalls-A-1'] });
    await api.sold(show.id, { seat_ids: ['Stalls-A-2'] });
    const taken = expectProblem(
      await api.comp(show.id, { seat_ids: ['Stalls-A-1', 'Stalls-A-2', 'Stalls-A-3'] }),
      409,
      'seats_taken',
    );
    expect(taken.taken_seat_ids).toEqual(['Stalls-A-1', 'Stalls-A-2']);
    expect((await api.seatStates(show.id))['Stalls-A']).toBe('HSFF');
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 1, confirmed: 1, confirmed_rows: 1 });
  });

  it('replays a keyed comp instead of selling more seats; the key with another body is 422', async () => {
    const show = await createShow({ total_seats: 4 });
    const key = randomUUID();
    const first = await api.comp(show.id, { seats: 3 }, { ...admin, 'idempotency-key': key });
    const again = await api.comp(show.id, { seats: 3 }, { ...admin, 'idempotency-key': key });
    expect(first.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toBe(first.body);
    expectProblem(
      await api.comp(show.id, { seats: 1 }, { ...admin, 'idempotency-key': key }),
      422,
      'idempotency_key_reused',
    );
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ confirmed: 3, confirmed_rows: 3 });
  });

  it("answers 400 for the wrong form for the show's kind or invalid bodies, 401, 404 and a malformed id", async () => {
    const ga = await createShow();
    const seated = await createSeated();
    const gaBlock = await api.blocked(ga.id, { seats: 1 });
    for (const [showId, body] of [
      [ga.id, { seat_ids: ['Stalls-A-1'] }],
      [ga.id, {}],
      [ga.id, { seats: 0 }],
      [ga.id, { seats: 1, customer_ref: '' }],
      [ga.id, { seats: 1, block_id: 'nope' }],
      [seated.id, { seats: 1 }],
      [seated.id, { seat_ids: ['Stalls-A-1'], block_id: gaBlock.id }],
      [seated.id, {}],
      [seated.id, { seat_ids: ['Stalls-Z-1'] }],
    ] as const) {
      expectProblem(await api.comp(showId, body), 400, 'validation_failed');
    }
    expectProblem(await api.comp(ga.id, { seats: 1 }, {}), 401, 'unauthorized');
    expectProblem(await api.comp(unknownId, { seats: 1 }), 404, 'show_not_found');
    expectProblem(await api.comp('nope', { seats: 1 }), 400, 'validation_failed');
    expect(await inventory(ctx.pool, ga.id)).toMatchObject({ confirmed: 0, confirmed_rows: 0 });
    expect(await inventory(ctx.pool, seated.id)).toMatchObject({ confirmed: 0, confirmed_rows: 0 });
  });
});

/** The pages of a listing, following rel="next" to the end. */
async function allPages(url: string): Promise<{ pages: { id: string; status: string }[][]; links: string[] }> {
  const pages: { id: string; status: string }[][] = [];
  const links: string[] = [];
  let next: string | undefined = url;
  while (next) {
    const response = await api.get(next);
    expect(response.statusCode, response.body).toBe(200);
    pages.push(response.json());
    const link = response.headers.link as string | undefined;
    next = link ? /^<([^>]+)>; rel="next"$/.exec(link)![1] : undefined;
    if (next) links.push(next);
    expect(pages.length).toBeLessThan(20);
  }
  return { pages, links };
}

describe('GET /api/shows/:id/bookings', () => {
  it('lists bookings in creation order, paginated by the Link header, filtered by status and customer_ref', async () => {
    const show = await createShow({ total_seats: 30 });
    // alice makes bookings 0, 2, 4, 6, 8; bob 1, 3, 5, 7. Confirmed: 0, 1, 4, 8; cancelled: 2.
    const made: Hold[] = [];
    for (let i = 0; i < 9; i++) made.push(await api.held(show.id, { customer_ref: i % 2 === 0 ? 'alice' : 'bob' }));
    for (const i of [0, 1, 4, 8]) expect((await api.confirm(made[i]!)).statusCode).toBe(200);
    expect((await api.cancel(made[2]!)).statusCode).toBe(200);
    await api.comp(show.id, { seats: 1 });
    const base = `/api/shows/${show.id}/bookings`;

    const everything = await allPages(`${base}?limit=4`);
    expect(everything.pages.map((page) => page.length)).toEqual([4, 4, 2]);
    expect(
      everything.pages
        .flat()
        .map((b) => b.id)
        .slice(0, 9),
    ).toEqual(made.map((b) => b.id));
    expect(everything.pages[0]![0]).toMatchObject({
      id: made[0]!.id,
      status: 'CONFIRMED',
      customer_ref: 'alice',
      seats: 1,
    });
    expect(everything.pages[0]![0]).not.toHaveProperty('hold_token');
    expect(everything.pages[2]![1]).toMatchObject({ comp: true, status: 'CONFIRMED' });

    const alice = await allPages(`${base}?customer_ref=alice&limit=2`);
    expect(alice.pages.map((page) => page.map((b) => b.id))).toEqual([
      [made[0]!.id, made[2]!.id],
      [made[4]!.id, made[6]!.id],
      [made[8]!.id],
    ]);
    for (const link of alice.links) expect(link).toMatch(/[?&]limit=2&customer_ref=alice&cursor=/);

    const aliceConfirmed = await allPages(`${base}?status=CONFIRMED&customer_ref=alice&limit=1`);
    expect(aliceConfirmed.pages.map((page) => page.map((b) => b.id))).toEqual([
      [made[0]!.id],
      [made[4]!.id],
      [made[8]!.id],
    ]);
    for (const link of aliceConfirmed.links) expect(link).toMatch(/[?&]status=CONFIRMED&customer_ref=alice&/);

    const pending = await allPages(`${base}?status=PENDING`);
    expect(pending.pages).toEqual([
      [made[3], made[5], made[6], made[7]].map((b) => expect.objectContaining({ id: b!.id, status: 'PENDING' })),
    ]);
    expect(pending.links).toEqual([]);
    expect((await api.get(`${base}?status=CANCELLED`)).json().map((b: Hold) => b.id)).toEqual([made[2]!.id]);
    expect((await api.get(`${base}?customer_ref=carol`)).json()).toEqual([]);
  });

  it('answers 400 for a bad status, limit, cursor or customer_ref, 401 without the admin key, 404 for an unknown show', async () => {
    const show = await createShow();
    const base = `/api/shows/${show.id}/bookings`;
    for (const query of ['status=HELD', 'limit=0', 'limit=201', 'limit=two', 'customer_ref=', 'cursor=']) {
      expectProblem(await api.get(`${base}?${query}`), 400, 'validation_failed');
    }
    expectProblem(await api.get(`${base}?cursor=not-a-cursor`), 400, 'invalid_cursor');
    expectProblem(await api.get(base, {}), 401, 'unauthorized');
    expectProblem(await api.get(`/api/shows/${unknownId}/bookings`), 404, 'show_not_found');
    expectProblem(await api.get('/api/shows/nope/bookings'), 400, 'validation_failed');
  });
});

describe('GET /api/shows/:id/summary', () => {
  it('general admission: seats free, held, sold and blocked, and bookings by status, comps apart', async () => {
    const show = await createShow({ total_seats: 10 });
    await api.held(show.id, { seats: 2 });
    await api.sold(show.id, { seats: 3 });
    expect((await api.cancel(await api.held(show.id))).statusCode).toBe(200);
    await api.blocked(show.id, { seats: 2 });
    expect((await api.comp(show.id, { seats: 1 })).statusCode).toBe(201);
    const before = Date.now();
    const body = await summary(show.id);
    expect(body).toEqual({
      show_id: show.id,
      currency: 'EUR',
      seats: { total: 10, free: 2, held: 2, sold: 4, blocked: 2 },
      // One free type: tickets counted, no revenue.
      revenue: 0,
      by_type: { standard: { name: 'Admission', held: 2, sold: 4, revenue: 0 } },
      bookings: { pending: 1, confirmed: 2, expired: 0, cancelled: 1, comps: 1 },
      at: expect.any(String),
    });
    expect(Math.abs(Date.parse(body.at) - before)).toBeLessThan(5_000);
  });

  it('seated: the same per category', async () => {
    const show = await createSeated();
    await api.held(show.id, { seat_ids: ['Stalls-A-1'] });
    await api.sold(show.id, { seat_ids: ['Stalls-B-1'] });
    await api.blocked(show.id, { seat_ids: ['Stalls-A-2'] });
    expect((await api.comp(show.id, { seat_ids: ['Stalls-B-4'] })).statusCode).toBe(201);
    expect(await summary(show.id)).toEqual({
      show_id: show.id,
      currency: 'EUR',
      seats: { total: 8, free: 4, held: 1, sold: 2, blocked: 1 },
      revenue: 0,
      by_type: { standard: { name: 'Admission', held: 1, sold: 2, revenue: 0 } },
      by_category: {
        premium: { total: 4, free: 2, held: 1, sold: 0, blocked: 1 },
        standard: { total: 4, free: 2, held: 0, sold: 2, blocked: 0 },
      },
      bookings: { pending: 1, confirmed: 2, expired: 0, cancelled: 0, comps: 1 },
      at: expect.any(String),
    });
  });

  it('answers 401 without the admin key, 404 for an unknown show, 400 for a malformed id', async () => {
    const show = await createShow();
    expectProblem(await api.get(`/api/shows/${show.id}/summary`, {}), 401, 'unauthorized');
    expectProblem(await api.get(`/api/shows/${unknownId}/summary`), 404, 'show_not_found');
    expectProblem(await api.get('/api/shows/nope/summary'), 400, 'validation_failed');
  });
});

describe('a hold past its deadline, before anything reclaims it', () => {
  it('is EXPIRED in the bookings list (and found by that status) and in the summary, its seats free', async () => {
    const ga = await createShow({ total_seats: 5 });
    const lapsing = await api.held(ga.id, { seats: 2, customer_ref: 'alice' });
    await api.sold(ga.id, { seats: 1 });
    const seated = await createSeated();
    const seatedLapsing = await api.held(seated.id, { seat_ids: ['Stalls-A-1', 'Stalls-A-2'] });
    await api.sold(seated.id, { seat_ids: ['Stalls-B-1'] });
    await lapse(ctx.pool, [lapsing.id, seatedLapsing.id]);

    const base = `/api/shows/${ga.id}/bookings`;
    expect((await api.get(base)).json().map((b: Hold) => b.status)).toEqual(['EXPIRED', 'CONFIRMED']);
    expect((await api.get(`${base}?status=EXPIRED`)).json()).toEqual([
      expect.objectContaining({ id: lapsing.id, status: 'EXPIRED', customer_ref: 'alice' }),
    ]);
    expect((await api.get(`${base}?status=PENDING`)).json()).toEqual([]);
    expect(await summary(ga.id)).toMatchObject({
      seats: { total: 5, free: 4, held: 0, sold: 1, blocked: 0 },
      bookings: { pending: 0, confirmed: 1, expired: 1, cancelled: 0, comps: 0 },
    });
    expect(await summary(seated.id)).toMatchObject({
      seats: { total: 8, free: 7, held: 0, sold: 1, blocked: 0 },
      by_category: {
        premium: { total: 4, free: 4, held: 0, sold: 0, blocked: 0 },
        standard: { total: 4, free: 3, held: 0, sold: 1, blocked: 0 },
      },
      bookings: { pending: 0, confirmed: 1, expired: 1 },
    });
    // Read as expired: nothing was written.
    const { rows } = await ctx.pool.query('SELECT status FROM bookings WHERE id = $1', [lapsing.id]);
    expect(rows[0].status).toBe('PENDING');
  });
});
