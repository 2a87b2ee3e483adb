import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventFromRow, type OutboxRow } from '../../src/domain/events.js';
import { expectProblem, startTestApp, type TestContext } from '../helpers.js';
import { admin, createShow, futureIso, seatMap } from '../support/api.js';

// A show's catalogue: its currency and the ticket types it sells, set at creation and by PATCH.
let ctx: TestContext;
beforeAll(async () => {
  ctx = await startTestApp({ DEFAULT_CURRENCY: 'USD' });
});
afterAll(() => ctx.close());

const post = (payload: unknown) =>
  ctx.app.inject({ method: 'POST', url: '/api/shows', headers: admin, payload: payload as string });
const patch = (id: string, payload: unknown) =>
  ctx.app.inject({ method: 'PATCH', url: `/api/shows/${id}`, headers: admin, payload: payload as string });
const get = async (id: string) => (await ctx.app.inject({ method: 'GET', url: `/api/shows/${id}` })).json();

const types = [
  { code: 'adult', name: 'Adult', price: 4500 },
  { code: 'child', name: 'Child', price: 2500, max_per_booking: 4 },
  { code: 'early', name: 'Early bird', price: 3500, available_until: '2031-01-01T00:00:00Z' },
  { code: 'fan', name: 'Fan presale', price: 4000, requires_code: true },
];

describe('ticket types', () => {
  it('a show lists its types in order with their price and availability, and not those needing a code', async () => {
    const response = await post({
      title: 'Typed',
      start_time: futureIso(),
      total_seats: 50,
      currency: 'EUR',
      ticket_types: types,
    });
    expect(response.statusCode).toBe(201);
    const show = response.json();
    expect(show.currency).toBe('EUR');
    expect(show.ticket_types).toEqual([
      {
        code: 'adult',
        name: 'Adult',
        price: 4500,
        max_per_booking: null,
        available_from: null,
        available_until: null,
        available: 50,
      },
      {
        code: 'child',
        name: 'Child',
        price: 2500,
        max_per_booking: 4,
        available_from: null,
        available_until: null,
        available: 50,
      },
      {
        code: 'early',
        name: 'Early bird',
        price: 3500,
        max_per_booking: null,
        available_from: null,
        available_until: '2031-01-01T00:00:00.000Z',
        available: 50,
      },
    ]);
    expect(await get(show.id)).toEqual(show);
  });

  it('a show created without them has DEFAULT_CURRENCY and one free type', async () => {
    const show = await createShow(ctx.app, { total_seats: 3 });
    expect(show.currency).toBe('USD');
    expect(show.ticket_types).toMatchObject([{ code: 'standard', name: 'Admission', price: 0, available: 3 }]);
  });

  it('a seated show lists each type with its price per category it is sold in, and what is available there', async () => {
    const response = await post({
      title: 'Seated typed',
      start_time: futureIso(),
      seat_map: seatMap([
        ['A', 4, 'premium'],
        ['B', 6, 'standard'],
      ]),
      ticket_types: [
        { code: 'adult', name: 'Adult', price: 4500, category_prices: { premium: 8000 } },
        { code: 'child', name: 'Child', price: 2500, categories: ['standard'] },
      ],
    });
    expect(response.statusCode).toBe(201);
    expect(response.json().ticket_types).toMatchObject([
      { code: 'adult', price: 4500, category_prices: { premium: 8000, standard: 4500 }, available: 10 },
      { code: 'child', price: 2500, category_prices: { standard: 2500 }, available: 6 },
    ]);
  });

  it.each([
    ['an unknown currency', { currency: 'XYZ' }, '/currency'],
    ['a lowercase currency', { currency: 'eur' }, '/currency'],
    ['a repeated code', { ticket_types: [types[0], { ...types[1], code: 'adult' }] }, '/ticket_types/1/code'],
    ['a code with capitals', { ticket_types: [{ ...types[0], code: 'Adult' }] }, '/ticket_types/0/code'],
    ['a negative price', { ticket_types: [{ ...types[0], price: -1 }] }, '/ticket_types/0/price'],
    ['a fractional price', { ticket_types: [{ ...types[0], price: 45.5 }] }, '/ticket_types/0/price'],
    ['no types', { ticket_types: [] }, '/ticket_types'],
    [
      'a window that ends before it starts',
      {
        ticket_types: [
          { ...types[0], available_from: '2031-01-02T00:00:00Z', available_until: '2031-01-01T00:00:00Z' },
        ],
      },
      '/ticket_types/0/available_until',
    ],
    [
      'category prices on general admission',
      { ticket_types: [{ ...types[0], category_prices: { vip: 1 } }] },
      '/ticket_types/0/category_prices',
    ],
    [
      'categories on general admission',
      { ticket_types: [{ ...types[0], categories: ['vip'] }] },
      '/ticket_types/0/categories',
    ],
  ])('answers 400 validation_failed for %s', async (_name, fields, path) => {
    const problem = expectProblem(
      await post({ title: 'Bad', start_time: futureIso(), total_seats: 5, ...fields }),
      400,
      'validation_failed',
    );
    expect(JSON.stringify(problem.errors)).toContain(`body${path}`);
  });

  it('answers 400 for a category the seat map does not have', async () => {
    const problem = expectProblem(
      await post({
        title: 'Bad seated',
        start_time: futureIso(),
        seat_map: seatMap([['A', 4, 'premium']]),
        ticket_types: [{ code: 'adult', name: 'Adult', price: 1, categories: ['balcony'] }],
      }),
      400,
      'validation_failed',
    );
    expect(problem.detail).toMatch(/balcony/);
  });
});

describe('PATCH ticket_types', () => {
  it('adds types, changes prices, names and windows, retires a type, and says so in show.updated', async () => {
    const show = (
      await post({ title: 'Patched', start_time: futureIso(), total_seats: 20, ticket_types: types })
    ).json();
    const response = await patch(show.id, {
      ticket_types: [
        { code: 'adult', price: 5000 },
        { code: 'child', name: 'Kid', max_per_booking: null },
        { code: 'early', retired: true },
        { code: 'vip', name: 'VIP', price: 9000 },
      ],
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().ticket_types).toMatchObject([
      { code: 'adult', name: 'Adult', price: 5000 },
      { code: 'child', name: 'Kid', price: 2500, max_per_booking: null },
      { code: 'vip', name: 'VIP', price: 9000 },
    ]);
    expect(response.json().ticket_types).toHaveLength(3);

    const { rows } = await ctx.pool.query<OutboxRow>(
      `SELECT seq::text, id, type, show_id, occurred_at, data FROM outbox_events
       WHERE show_id = $1 AND type = 'show.updated' ORDER BY seq`,
      [show.id],
    );
    expect(rows).toHaveLength(1);
    const event = eventFromRow(rows[0]!);
    expect(event.data).toMatchObject({ show: { currency: 'USD', ticket_types: response.json().ticket_types } });
  });

  it('refuses a new type without name and price, retiring every type, a currency change, and an unknown category', async () => {
    const show = (
      await post({ title: 'Guarded', start_time: futureIso(), total_seats: 20, ticket_types: types.slice(0, 2) })
    ).json();
    expect(
      expectProblem(await patch(show.id, { ticket_types: [{ code: 'vip', price: 1 }] }), 400, 'validation_failed')
        .detail,
    ).toMatch(/name and price/);
    expectProblem(
      await patch(show.id, {
        ticket_types: [
          { code: 'adult', retired: true },
          { code: 'child', retired: true },
        ],
      }),
      400,
      'validation_failed',
    );
    expectProblem(await patch(show.id, { currency: 'GBP' }), 400, 'validation_failed');
    expectProblem(
      await patch(show.id, { ticket_types: [{ code: 'adult', categories: ['vip'] }] }),
      400,
      'validation_failed',
    );
    // Nothing of it was kept.
    expect(
      (await get(show.id)).ticket_types.map((type: { code: string; price: number }) => [type.code, type.price]),
    ).toEqual([
      ['adult', 4500],
      ['child', 2500],
    ]);
  });

  it('refuses a new seat map without a category a type is sold in', async () => {
    const show = (
      await post({
        title: 'Remapped',
        start_time: futureIso(),
        seat_map: seatMap([
          ['A', 2, 'premium'],
          ['B', 2, 'standard'],
        ]),
        ticket_types: [{ code: 'adult', name: 'Adult', price: 1, category_prices: { premium: 2 } }],
      })
    ).json();
    const problem = expectProblem(
      await patch(show.id, { seat_map: seatMap([['B', 2, 'standard']]) }),
      400,
      'validation_failed',
    );
    expect(problem.detail).toMatch(/premium/);
    expect((await get(show.id)).total_seats).toBe(4);
  });
});
