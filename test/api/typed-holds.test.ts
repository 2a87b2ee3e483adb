import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventFromRow, type OutboxRow } from '../../src/domain/events.js';
import { startTestApp, type TestContext } from '../helpers.js';
import { Api, created, futureIso } from '../support/api.js';

// Holds by ticket type: each priced when it is held, the price frozen with the booking.
let ctx: TestContext;
let api: Api;
beforeAll(async () => {
  ctx = await startTestApp();
  api = new Api(ctx.app);
});
afterAll(() => ctx.close());

const types = [
  { code: 'adult', name: 'Adult', price: 4500 },
  { code: 'child', name: 'Child', price: 2500, max_per_booking: 4 },
  { code: 'fan', name: 'Fan presale', price: 4000, requires_code: true },
];

describe('a hold of tickets by type (general admission)', () => {
  it('is priced at hold time: lines, total and currency, the same in every answer and event', async () => {
    const show = await api.show({ total_seats: 20, currency: 'GBP', ticket_types: types });
    const held = await api.held(show.id, {
      tickets: [
        { type: 'adult', quantity: 2 },
        { type: 'child', quantity: 1 },
      ],
    });
    const sold = {
      seats: 3,
      currency: 'GBP',
      lines: [
        { type: 'adult', name: 'Adult', quantity: 2, unit_price: 4500 },
        { type: 'child', name: 'Child', quantity: 1, unit_price: 2500 },
      ],
      total: 11500,
    };
    expect(held).toMatchObject(sold);
    expect((await api.getBooking(held)).json()).toMatchObject(sold);
    expect(await api.available(show.id)).toBe(17);

    // A new price is for new holds: this one keeps its own, confirmed too.
    expect((await api.patchShow(show.id, { ticket_types: [{ code: 'adult', price: 5000 }] })).statusCode).toBe(200);
    expect(await api.confirmed(held)).toMatchObject({ status: 'CONFIRMED', ...sold });
    expect(await api.held(show.id, { tickets: [{ type: 'adult', quantity: 1 }] })).toMatchObject({
      lines: [{ type: 'adult', quantity: 1, unit_price: 5000 }],
      total: 5000,
    });

    // The box office: per type, tickets held and sold, and what the sold ones brought.
    expect(created(await api.summary(show.id), 200)).toMatchObject({
      currency: 'GBP',
      revenue: 11500,
      by_type: {
        adult: { name: 'Adult', held: 1, sold: 2, revenue: 9000 },
        child: { name: 'Child', held: 0, sold: 1, revenue: 2500 },
        fan: { name: 'Fan presale', held: 0, sold: 0, revenue: 0 },
      },
    });

    const { rows } = await ctx.pool.query<OutboxRow>(
      `SELECT seq::text, id, type, show_id, occurred_at, data FROM outbox_events
       WHERE data->>'id' = $1 ORDER BY seq`,
      [held.id],
    );
    expect(rows.map((row) => eventFromRow(row))).toMatchObject([
      { type: 'booking.held', data: { booking: sold } },
      { type: 'booking.confirmed', data: { booking: sold } },
    ]);
  });

  it('{"seats": N} holds N of the first type at its price; a comp is of that type at no price', async () => {
    const show = await api.show({ total_seats: 10, ticket_types: types });
    expect(await api.held(show.id, { seats: 2 })).toMatchObject({
      currency: 'EUR',
      lines: [{ type: 'adult', name: 'Adult', quantity: 2, unit_price: 4500 }],
      total: 9000,
    });
    const comp = await api.comp(show.id, { seats: 1 });
    expect(comp.json()).toMatchObject({ comp: true, lines: [{ type: 'adult', quantity: 1, unit_price: 0 }], total: 0 });
  });

  it.each([
    ['an unknown type', [{ type: 'vip', quantity: 1 }], 400, 'unknown_ticket_type', { ticket_type: 'vip' }],
    [
      'a type only a presale code unlocks',
      [{ type: 'fan', quantity: 1 }],
      409,
      'code_required',
      { ticket_type: 'fan' },
    ],
    [
      'more of a type than one booking may have',
      [
        { type: 'child', quantity: 3 },
        { type: 'child', quantity: 2 },
      ],
      409,
      'type_limit',
      { ticket_type: 'child', max_per_booking: 4 },
    ],
  ])('refuses %s, naming the type, holding nothing', async (_name, tickets, status, code, extra) => {
    const show = await api.show({ total_seats: 10, ticket_types: types });
    const problem = api.problem(await api.hold(show.id, { tickets }), status, code);
    expect(problem).toMatchObject(extra);
    expect(await api.available(show.id)).toBe(10);
  });

  it('refuses a retired type, and one outside its own sales window at the instant of the hold', async () => {
    const show = await api.show({
      total_seats: 10,
      ticket_types: [
        { code: 'adult', name: 'Adult', price: 4500 },
        { code: 'late', name: 'Late', price: 1000, available_from: futureIso(60) },
        { code: 'early', name: 'Early', price: 3000, available_until: futureIso(60) },
      ],
    });
    api.problem(await api.hold(show.id, { tickets: [{ type: 'late', quantity: 1 }] }), 409, 'type_not_on_sale');
    expect(await api.held(show.id, { tickets: [{ type: 'early', quantity: 1 }] })).toMatchObject({ total: 3000 });
    // The window closes: the database judges it, whatever this process knows of the types.
    await ctx.pool.query(`UPDATE ticket_types SET available_until = now() WHERE show_id = $1 AND code = 'early'`, [
      show.id,
    ]);
    const closed = api.problem(
      await api.hold(show.id, { tickets: [{ type: 'early', quantity: 1 }] }),
      409,
      'type_not_on_sale',
    );
    expect(closed).toMatchObject({ ticket_type: 'early' });
    await api.patchShow(show.id, { ticket_types: [{ code: 'early', retired: true }] });
    api.problem(await api.hold(show.id, { tickets: [{ type: 'early', quantity: 1 }] }), 409, 'type_not_on_sale');
    expect(await api.available(show.id)).toBe(9);
  });

  it('prices with the types as they are when another process changed them (types_changed, priced again)', async () => {
    const show = await api.show({ total_seats: 10, ticket_types: types });
    await api.held(show.id, { tickets: [{ type: 'adult', quantity: 1 }] }); // this process has read the types
    // Another process's PATCH: the row changes and the version moves, this process is not told.
    await ctx.pool.query(
      `WITH changed AS (UPDATE ticket_types SET price = 4800 WHERE show_id = $1 AND code = 'adult')
       UPDATE shows SET ticket_types_version = ticket_types_version + 1 WHERE id = $1`,
      [show.id],
    );
    expect(await api.held(show.id, { tickets: [{ type: 'adult', quantity: 2 }] })).toMatchObject({
      lines: [{ type: 'adult', quantity: 2, unit_price: 4800 }],
      total: 9600,
    });
  });

  it('refuses only on the types as they are: a type or a limit another process added is sold at once', async () => {
    const show = await api.show({ total_seats: 10, ticket_types: types });
    await api.held(show.id, { tickets: [{ type: 'adult', quantity: 1 }] }); // this process has read the types
    // Another process adds a type and raises a limit; this one is not told.
    await ctx.pool.query(
      `WITH added AS (
         INSERT INTO ticket_types (show_id, code, position, name, price) VALUES ($1, 'vip', 9, 'VIP', 9000)),
       raised AS (UPDATE ticket_types SET max_per_booking = 6 WHERE show_id = $1 AND code = 'child')
       UPDATE shows SET ticket_types_version = ticket_types_version + 1 WHERE id = $1`,
      [show.id],
    );
    expect(await api.held(show.id, { tickets: [{ type: 'vip', quantity: 1 }] })).toMatchObject({ total: 9000 });
    expect(await api.held(show.id, { tickets: [{ type: 'child', quantity: 5 }] })).toMatchObject({ total: 12500 });
  });

  it('{"seats": N} is of the first type on sale: another once the first is retired, and comps too', async () => {
    const show = await api.show({ total_seats: 10, ticket_types: types });
    await api.patchShow(show.id, { ticket_types: [{ code: 'adult', retired: true }] });
    expect(await api.held(show.id, { seats: 2 })).toMatchObject({
      lines: [{ type: 'child', quantity: 2, unit_price: 2500 }],
      total: 5000,
    });
    expect((await api.comp(show.id, { seats: 1 })).json()).toMatchObject({ lines: [{ type: 'child', unit_price: 0 }] });
  });

  it('lists sales by type in the order of the types', async () => {
    const show = await api.show({
      total_seats: 10,
      ticket_types: [
        { code: 'zeta', name: 'Zeta', price: 1 },
        { code: 'alpha', name: 'Alpha', price: 2 },
      ],
    });
    await api.sold(show.id, { tickets: [{ type: 'alpha', quantity: 1 }] });
    const summary = created(await api.summary(show.id), 200);
    expect(Object.keys(summary.by_type)).toEqual(['zeta', 'alpha']);
    expect(summary).toMatchObject({ revenue: 2, by_type: { alpha: { sold: 1, revenue: 2 } } });
  });

  it('answers 400 for tickets with seats, too many tickets, and quantities that are not the seats given', async () => {
    const show = await api.show({ total_seats: 10, ticket_types: types });
    const seated = await api.seatedShow([['A', 4]], { ticket_types: types });
    for (const [showId, body] of [
      [show.id, { seats: 2, tickets: [{ type: 'adult', quantity: 2 }] }],
      [show.id, { tickets: [{ type: 'adult', quantity: 11 }] }],
      [
        show.id,
        {
          tickets: [
            { type: 'adult', quantity: 6 },
            { type: 'child', quantity: 4 },
            { type: 'adult', quantity: 1 },
          ],
        },
      ],
      [show.id, { tickets: [{ type: 'adult', quantity: 0 }] }],
      [show.id, { tickets: [] }],
      [seated.id, { seat_ids: ['S-A-1', 'S-A-2'], tickets: [{ type: 'adult', quantity: 1 }] }],
    ] as const) {
      api.problem(await api.hold(showId, body), 400, 'validation_failed');
    }
  });
});

describe('a hold of tickets by type (seated)', () => {
  const seatedTypes = [
    { code: 'adult', name: 'Adult', price: 4500, category_prices: { premium: 8000 } },
    { code: 'child', name: 'Child', price: 2500, categories: ['standard'] },
  ];

  it('gives the seats asked for to the tickets in order, each at its price in the seat’s category', async () => {
    const show = await api.seatedShow(
      [
        ['A', 3, 'premium'],
        ['B', 3, 'standard'],
      ],
      { ticket_types: seatedTypes },
    );
    const held = await api.held(show.id, {
      seat_ids: ['S-A-2', 'S-B-2', 'S-B-3'],
      tickets: [
        { type: 'adult', quantity: 2 },
        { type: 'child', quantity: 1 },
      ],
    });
    expect(held).toMatchObject({
      seat_ids: ['S-A-2', 'S-B-2', 'S-B-3'],
      lines: [
        { type: 'adult', quantity: 1, unit_price: 8000, seat_ids: ['S-A-2'] },
        { type: 'adult', quantity: 1, unit_price: 4500, seat_ids: ['S-B-2'] },
        { type: 'child', quantity: 1, unit_price: 2500, seat_ids: ['S-B-3'] },
      ],
      total: 15000,
    });
  });

  it('sells a type another process added, priced at what the types say under the lock', async () => {
    const show = await api.seatedShow(
      [
        ['A', 4, 'premium'],
        ['B', 4, 'standard'],
      ],
      { ticket_types: seatedTypes },
    );
    await api.held(show.id, { seat_ids: ['S-A-1'], tickets: [{ type: 'adult', quantity: 1 }] });
    await ctx.pool.query(
      `WITH added AS (
         INSERT INTO ticket_types (show_id, code, position, name, price) VALUES ($1, 'vip', 9, 'VIP', 9000)),
       repriced AS (UPDATE ticket_types SET category_prices = '{"premium": 8500}' WHERE show_id = $1 AND code = 'adult')
       UPDATE shows SET ticket_types_version = ticket_types_version + 1 WHERE id = $1`,
      [show.id],
    );
    expect(await api.held(show.id, { seat_ids: ['S-A-2'], tickets: [{ type: 'vip', quantity: 1 }] })).toMatchObject({
      lines: [{ type: 'vip', unit_price: 9000, seat_ids: ['S-A-2'] }],
    });
    expect(await api.held(show.id, { seat_ids: ['S-A-3'], tickets: [{ type: 'adult', quantity: 1 }] })).toMatchObject({
      total: 8500,
    });
  });

  it('refuses a type on a seat of a category it is not sold in, and looks for the best available only where it is', async () => {
    const show = await api.seatedShow(
      [
        ['A', 4, 'premium'],
        ['B', 4, 'standard'],
      ],
      { ticket_types: seatedTypes },
    );
    const refused = api.problem(
      await api.hold(show.id, { seat_ids: ['S-A-1'], tickets: [{ type: 'child', quantity: 1 }] }),
      409,
      'type_not_in_category',
    );
    expect(refused).toMatchObject({ ticket_type: 'child', category: 'premium' });
    api.problem(
      await api.hold(show.id, { category: 'premium', tickets: [{ type: 'child', quantity: 1 }] }),
      409,
      'type_not_in_category',
    );
    // Row A is the best row, but children are sold in the standard category only.
    expect(
      await api.held(show.id, {
        tickets: [
          { type: 'adult', quantity: 1 },
          { type: 'child', quantity: 1 },
        ],
      }),
    ).toMatchObject({
      seat_ids: ['S-B-2', 'S-B-3'],
      lines: [
        { type: 'adult', unit_price: 4500, seat_ids: ['S-B-2'] },
        { type: 'child', unit_price: 2500, seat_ids: ['S-B-3'] },
      ],
      total: 7000,
    });
    // Adults only in premium and children only in standard: no row sells both.
    const apart = await api.seatedShow(
      [
        ['A', 4, 'premium'],
        ['B', 4, 'standard'],
      ],
      {
        ticket_types: [
          { code: 'adult', name: 'Adult', price: 1, categories: ['premium'] },
          { code: 'child', name: 'Child', price: 1, categories: ['standard'] },
        ],
      },
    );
    api.problem(
      await api.hold(apart.id, {
        tickets: [
          { type: 'adult', quantity: 1 },
          { type: 'child', quantity: 1 },
        ],
      }),
      409,
      'type_not_in_category',
    );
    expect(await api.held(show.id, { seats: 2 })).toMatchObject({
      seat_ids: ['S-A-2', 'S-A-3'],
      lines: [{ type: 'adult', quantity: 2, unit_price: 8000 }],
      total: 16000,
    });
  });
});

describe('a late confirm of a hold by type', () => {
  let late: TestContext;
  beforeAll(async () => {
    late = await startTestApp({ HOLD_TTL_SECONDS: '1' });
  });
  afterAll(() => late.close());

  it('keeps the prices it was held at, and is refused once its type is no longer on sale', async () => {
    const lateApi = new Api(late.app);
    const show = await lateApi.show({ total_seats: 10, late_confirm: 'reclaim', ticket_types: types });
    const [kept, retiredLater] = [
      await lateApi.held(show.id, { tickets: [{ type: 'adult', quantity: 2 }] }),
      await lateApi.held(show.id, { tickets: [{ type: 'child', quantity: 1 }] }),
    ];
    await new Promise((resolve) => setTimeout(resolve, 1_300)); // both holds lapse
    await lateApi.patchShow(show.id, {
      ticket_types: [
        { code: 'adult', price: 9999 },
        { code: 'child', retired: true },
      ],
    });
    expect(await lateApi.confirmed(kept)).toMatchObject({
      status: 'CONFIRMED',
      late: true,
      lines: [{ type: 'adult', quantity: 2, unit_price: 4500 }],
      total: 9000,
    });
    lateApi.problem(await lateApi.confirm(retiredLater), 409, 'type_not_on_sale');
  });
});
