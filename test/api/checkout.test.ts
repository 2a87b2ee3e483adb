import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hold, Show } from '../../client/src/index.js';
import { expectProblem, startTestApp, type TestContext } from '../helpers.js';
import { categoryCounts, inventory, storedStatus as storedStatusOf } from '../support/database.js';
import { admin, Api, futureIso, seatMap } from '../support/api.js';
import { lapse } from '../support/clock.js';

// The checkout: late payments, per-customer limits, sales windows.
let ctx: TestContext;
let api: Api;
beforeAll(async () => {
  ctx = await startTestApp();
  api = new Api(ctx.app);
});
afterAll(() => ctx.close());

// S-A is premium, S-B standard.
const map = seatMap([
  ['A', 4, 'premium'],
  ['B', 4],
]);

const createShow = (settings: object = {}, seats: object = { total_seats: 10 }) =>
  api.show({ title: 'Checkout', ...seats, ...settings });
const createSeated = (settings: object = {}) => createShow(settings, { seat_map: map });
const getShow = (showId: string) => api.showNow(showId);

const storedStatus = (bookingId: string) => storedStatusOf(ctx.pool, bookingId);
const categories = (showId: string) => categoryCounts(ctx.pool, showId);

describe('show settings', () => {
  it('a new show refuses late payments, has no limit and no sales window unless told', async () => {
    const show = await createShow();
    expect(show).toMatchObject({
      late_confirm: 'refuse',
      max_seats_per_customer: null,
      sales_start: null,
      sales_end: null,
    });
  });

  it('takes the four settings at creation, instants with any offset answered in UTC', async () => {
    const show = await createSeated({
      late_confirm: 'reclaim',
      max_seats_per_customer: 6,
      sales_start: '2030-01-01T10:00:00+02:00',
      sales_end: '2031-01-01T10:00:00.5Z',
    });
    expect(show).toMatchObject({
      seating: 'assigned',
      late_confirm: 'reclaim',
      max_seats_per_customer: 6,
      sales_start: '2030-01-01T08:00:00.000Z',
      sales_end: '2031-01-01T10:00:00.500Z',
    });
    expect(await getShow(show.id)).toMatchObject({ late_confirm: 'reclaim', max_seats_per_customer: 6 });
  });

  it.each([
    ['an unknown late_confirm policy', { late_confirm: 'accept' }],
    ['max_seats_per_customer 0', { max_seats_per_customer: 0 }],
    ['max_seats_per_customer fractional', { max_seats_per_customer: 1.5 }],
    ['sales_start without offset', { sales_start: '2030-01-01T10:00:00' }],
    ['sales_end not a date', { sales_end: 'soon' }],
  ])('answers 400 validation_failed at creation for %s', async (_name, settings) => {
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/api/shows',
      headers: admin,
      payload: { title: 'Bad', start_time: futureIso(), total_seats: 1, ...settings },
    });
    expectProblem(response, 400, 'validation_failed');
  });

  it('answers 400 at creation when sales_end is not after sales_start (equal included)', async () => {
    for (const sales_end of ['2030-01-01T10:00:00Z', '2030-01-01T09:00:00Z']) {
      const response = await ctx.app.inject({
        method: 'POST',
        url: '/api/shows',
        headers: admin,
        payload: {
          title: 'Bad',
          start_time: futureIso(),
          total_seats: 1,
          sales_start: '2030-01-01T10:00:00Z',
          sales_end,
        },
      });
      const problem = expectProblem(response, 400, 'validation_failed');
      expect(problem.errors[0].path).toBe('body/sales_end');
    }
  });
});

describe('per-customer limits', () => {
  it('a limited show needs customer_ref on every hold: 400 naming body/customer_ref, nothing held', async () => {
    const ga = await createShow({ max_seats_per_customer: 2 });
    const seated = await createSeated({ max_seats_per_customer: 2 });
    for (const [showId, payload] of [
      [ga.id, { seats: 1 }],
      [seated.id, { seat_ids: ['S-A-1'] }],
      [seated.id, { seats: 1 }],
    ] as const) {
      const problem = expectProblem(await api.hold(showId, payload), 400, 'validation_failed');
      expect(problem.errors).toEqual([{ path: 'body/customer_ref', message: expect.any(String) }]);
    }
    // No body at all is one seat for nobody: refused the same way.
    expectProblem(await ctx.app.inject({ method: 'POST', url: `/api/shows/${ga.id}/book` }), 400, 'validation_failed');
    expect(await inventory(ctx.pool, ga.id)).toMatchObject({ held: 0, pending_rows: 0 });
    expect((await api.seatStates(seated.id))['S-A']).toBe('FFFF');
  });

  it('general admission: live holds and confirmed seats count, with this request; refusals say how many are left', async () => {
    const show = await createShow({ max_seats_per_customer: 4 });
    const first = await api.held(show.id, { seats: 3, customer_ref: 'alice' });
    expect(first).toMatchObject({ seats: 3, status: 'PENDING', customer_ref: 'alice' });
    const over = expectProblem(
      await api.hold(show.id, { seats: 2, customer_ref: 'alice' }),
      409,
      'customer_limit_reached',
    );
    expect(over.seats_allowed).toBe(1);
    const second = await api.held(show.id, { seats: 1, customer_ref: 'alice' });
    // Confirmed seats count as much as held ones.
    expect((await api.confirm(second)).json()).toMatchObject({ status: 'CONFIRMED', customer_ref: 'alice' });
    const full = expectProblem(
      await api.hold(show.id, { seats: 1, customer_ref: 'alice' }),
      409,
      'customer_limit_reached',
    );
    expect(full.seats_allowed).toBe(0);
    // Another customer has a limit of their own; the refusals held nothing.
    expect((await api.held(show.id, { seats: 4, customer_ref: 'bob' })).customer_ref).toBe('bob');
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 7, pending_rows: 7, confirmed: 1 });
    // A cancelled booking no longer counts.
    expect((await api.cancel(first)).statusCode).toBe(200);
    expect((await api.held(show.id, { seats: 3, customer_ref: 'alice' })).seats).toBe(3);
    expect((await api.getBooking(first, 'admin')).json()).toMatchObject({ status: 'CANCELLED', customer_ref: 'alice' });
  });

  it('seated: the same count over chosen and best-available seats; refused seats stay free', async () => {
    const show = await createSeated({ max_seats_per_customer: 3 });
    const first = await api.held(show.id, { seat_ids: ['S-A-1', 'S-A-2'], customer_ref: 'alice' });
    expect(first).toMatchObject({ seat_ids: ['S-A-1', 'S-A-2'], customer_ref: 'alice' });
    const over = expectProblem(
      await api.hold(show.id, { seat_ids: ['S-B-1', 'S-B-2'], customer_ref: 'alice' }),
      409,
      'customer_limit_reached',
    );
    expect(over.seats_allowed).toBe(1);
    expectProblem(await api.hold(show.id, { seats: 2, customer_ref: 'alice' }), 409, 'customer_limit_reached');
    expect(await api.seatStates(show.id)).toEqual({ 'S-A': 'HHFF', 'S-B': 'FFFF' });
    // The seats refused are still on sale, to anyone.
    expect((await api.held(show.id, { seat_ids: ['S-B-1', 'S-B-2'], customer_ref: 'bob' })).seats).toBe(2);
    expect((await api.held(show.id, { seats: 1, customer_ref: 'alice' })).seat_ids).toEqual(['S-A-3']);
    expect(await api.seatStates(show.id)).toEqual({ 'S-A': 'HHHF', 'S-B': 'HHFF' });
    expect(await categories(show.id)).toEqual([
      { name: 'premium', total_seats: 4, held_seats: 3, sold_seats: 0, blocked_seats: 0 },
      { name: 'standard', total_seats: 4, held_seats: 2, sold_seats: 0, blocked_seats: 0 },
    ]);
  });

  it('customer_ref is 1–128 printable characters, optional without a limit, and carried by the booking', async () => {
    const show = await createShow();
    for (const customer_ref of ['', 'x'.repeat(129), 'bell\u0007', 'tab\there', 42]) {
      expectProblem(await api.hold(show.id, { customer_ref }), 400, 'validation_failed');
    }
    const nobody = await api.held(show.id);
    expect(nobody).not.toHaveProperty('customer_ref');
    const long = await api.held(show.id, { customer_ref: 'x'.repeat(128) });
    expect(long.customer_ref).toBe('x'.repeat(128));
    const accented = await api.held(show.id, { customer_ref: 'Zoë <zoe@example.org>' });
    expect((await api.getBooking(accented)).json().customer_ref).toBe('Zoë <zoe@example.org>');
  });

  it('concurrent holds of one customer, decided in one group: exactly the limit is granted', async () => {
    const ga = await createShow({ max_seats_per_customer: 3 }, { total_seats: 20 });
    const answers = await Promise.all([
      ...Array.from({ length: 8 }, () => api.hold(ga.id, { seats: 1, customer_ref: 'carol' })),
      api.hold(ga.id, { seats: 2, customer_ref: 'dave' }),
    ]);
    const carol = answers.slice(0, 8);
    expect(carol.filter((answer) => answer.statusCode === 201)).toHaveLength(3);
    for (const refused of carol.filter((answer) => answer.statusCode !== 201)) {
      expect(expectProblem(refused, 409, 'customer_limit_reached').seats_allowed).toBe(0);
    }
    expect(answers[8]!.statusCode).toBe(201);
    expect(await inventory(ctx.pool, ga.id)).toMatchObject({ held: 5, pending_rows: 5 });

    const seated = await createSeated({ max_seats_per_customer: 2 });
    const seatedAnswers = await Promise.all(
      Array.from({ length: 6 }, () => api.hold(seated.id, { seats: 1, customer_ref: 'erin' })),
    );
    expect(seatedAnswers.filter((answer) => answer.statusCode === 201)).toHaveLength(2);
    for (const refused of seatedAnswers.filter((answer) => answer.statusCode !== 201)) {
      expect(expectProblem(refused, 409, 'customer_limit_reached').seats_allowed).toBe(0);
    }
    const states = Object.values(await api.seatStates(seated.id)).join('');
    expect(states.replace(/[^H]/g, '')).toBe('HH');
    expect(await inventory(ctx.pool, seated.id)).toMatchObject({ held: 2, pending_rows: 2 });
  });

  it("a hold refused by its customer's limit takes no seat from the requests grouped with it", async () => {
    const oneRow = { sections: [{ name: 'S', rows: [{ label: 'A', seats: 4 }] }] };
    for (const seats of [{ total_seats: 4 }, { seat_map: oneRow }]) {
      const show = await createShow({ max_seats_per_customer: 2 }, seats);
      await api.held(show.id, { seats: 2, customer_ref: 'alice' });
      // carol's hold keeps the show's lane busy, so alice's and bob's are decided together after it.
      const [carol, alice, bob] = await Promise.all([
        api.hold(show.id, { seats: 1, customer_ref: 'carol' }),
        api.hold(show.id, { seats: 1, customer_ref: 'alice' }),
        api.hold(show.id, { seats: 1, customer_ref: 'bob' }),
      ]);
      expect(carol.statusCode, carol.body).toBe(201);
      expect(expectProblem(alice, 409, 'customer_limit_reached').seats_allowed).toBe(0);
      expect(bob.statusCode, bob.body).toBe(201);
      expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 4, pending_rows: 4 });
    }
  });

  it('PATCH moves the limit: lowered below what a customer has, nothing more; cleared, no customer_ref needed', async () => {
    const show = await createShow({ max_seats_per_customer: 5 }, { total_seats: 12 });
    await api.held(show.id, { seats: 3, customer_ref: 'alice' });
    expect((await api.patchShow(show.id, { max_seats_per_customer: 2 })).json().max_seats_per_customer).toBe(2);
    const over = expectProblem(
      await api.hold(show.id, { seats: 1, customer_ref: 'alice' }),
      409,
      'customer_limit_reached',
    );
    expect(over.seats_allowed).toBe(0);
    expect((await api.patchShow(show.id, { max_seats_per_customer: null })).json().max_seats_per_customer).toBeNull();
    expect((await api.held(show.id, { seats: 4 })).seats).toBe(4);
    expect((await api.held(show.id, { seats: 4, customer_ref: 'alice' })).seats).toBe(4);
  });
});

describe('sales windows', () => {
  it('general admission: before sales_start 409 sales_not_open naming it; opening the window lets holds in', async () => {
    const salesStart = new Date(Date.now() + 3_600_000).toISOString();
    const show = await createShow({ sales_start: salesStart });
    const early = expectProblem(await api.hold(show.id, { seats: 2 }), 409, 'sales_not_open');
    expect(early.sales_start).toBe(salesStart);
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 0, pending_rows: 0 });
    expect((await api.patchShow(show.id, { sales_start: new Date(Date.now() - 1000).toISOString() })).statusCode).toBe(
      200,
    );
    expect((await api.held(show.id, { seats: 2 })).seats).toBe(2);
  });

  it('general admission: from sales_end 409 sales_closed, while holds made before still confirm and cancel', async () => {
    const show = await createShow({ sales_end: futureIso(60) });
    const [toConfirm, toCancel] = [await api.held(show.id, { seats: 2 }), await api.held(show.id, { seats: 1 })];
    expect((await api.patchShow(show.id, { sales_end: new Date(Date.now() - 1000).toISOString() })).statusCode).toBe(
      200,
    );
    expectProblem(await api.hold(show.id), 409, 'sales_closed');
    expect((await api.confirm(toConfirm)).json()).toMatchObject({ status: 'CONFIRMED', seats: 2 });
    expect((await api.cancel(toCancel)).json()).toMatchObject({ status: 'CANCELLED' });
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 0, confirmed: 2, confirmed_rows: 2 });
    // A window closed at creation refuses from the first hold.
    const closed = await createShow({ sales_end: new Date(Date.now() - 60_000).toISOString() });
    expectProblem(await api.hold(closed.id), 409, 'sales_closed');
  });

  it('seated: chosen and best-available holds are refused outside the window, confirms of earlier holds go on', async () => {
    const salesStart = futureIso(60);
    const early = await createSeated({ sales_start: salesStart });
    expect(expectProblem(await api.hold(early.id, { seat_ids: ['S-A-1'] }), 409, 'sales_not_open').sales_start).toBe(
      salesStart,
    );
    expectProblem(await api.hold(early.id, { seats: 2 }), 409, 'sales_not_open');
    expect(await api.seatStates(early.id)).toEqual({ 'S-A': 'FFFF', 'S-B': 'FFFF' });

    const show = await createSeated();
    const before = await api.held(show.id, { seat_ids: ['S-B-2', 'S-B-3'] });
    expect((await api.patchShow(show.id, { sales_end: new Date(Date.now() - 1000).toISOString() })).statusCode).toBe(
      200,
    );
    expectProblem(await api.hold(show.id, { seat_ids: ['S-A-1'] }), 409, 'sales_closed');
    expectProblem(await api.hold(show.id, { seats: 1 }), 409, 'sales_closed');
    expect((await api.confirm(before)).json()).toMatchObject({ status: 'CONFIRMED', seat_ids: ['S-B-2', 'S-B-3'] });
    expect(await api.seatStates(show.id)).toEqual({ 'S-A': 'FFFF', 'S-B': 'FSSF' });
  });
});

describe('once holds have expired', () => {
  // Every hold these tests need lapsed is made up front, and then lapses.
  const f = {} as Record<
    | 'gaBack'
    | 'gaTaken'
    | 'gaRefuse'
    | 'gaCancelled'
    | 'seatedBack'
    | 'seatedTaken'
    | 'gaLimit'
    | 'seatedLimit'
    | 'lateLimit'
    | 'seatedLateLimit'
    | 'lateStarted'
    | 'lateClosed',
    { show: Show; hold: Hold }
  >;
  beforeAll(async () => {
    const reclaim = { late_confirm: 'reclaim' };
    let show = await createShow(reclaim, { total_seats: 3 });
    const sold = await api.held(show.id);
    expect((await api.confirm(sold)).statusCode).toBe(200);
    f.gaBack = { show, hold: await api.held(show.id, { seats: 2 }) };
    show = await createShow(reclaim, { total_seats: 3 });
    f.gaTaken = { show, hold: await api.held(show.id, { seats: 2 }) };
    show = await createShow({}, { total_seats: 2 });
    f.gaRefuse = { show, hold: await api.held(show.id) };
    show = await createShow(reclaim, { total_seats: 2 });
    f.gaCancelled = { show, hold: await api.held(show.id, { seats: 2 }) };
    expect((await api.cancel(f.gaCancelled.hold)).statusCode).toBe(200);
    show = await createSeated(reclaim);
    f.seatedBack = { show, hold: await api.held(show.id, { seat_ids: ['S-A-2', 'S-A-3'] }) };
    show = await createSeated(reclaim);
    f.seatedTaken = { show, hold: await api.held(show.id, { seat_ids: ['S-A-2', 'S-A-3'] }) };
    show = await createShow({ max_seats_per_customer: 2 });
    f.gaLimit = { show, hold: await api.held(show.id, { seats: 2, customer_ref: 'alice' }) };
    show = await createSeated({ max_seats_per_customer: 2 });
    f.seatedLimit = { show, hold: await api.held(show.id, { seat_ids: ['S-B-1', 'S-B-2'], customer_ref: 'alice' }) };
    show = await createShow({ ...reclaim, max_seats_per_customer: 2 });
    f.lateLimit = { show, hold: await api.held(show.id, { seats: 2, customer_ref: 'bob' }) };
    show = await createSeated({ ...reclaim, max_seats_per_customer: 2 });
    f.seatedLateLimit = { show, hold: await api.held(show.id, { seat_ids: ['S-B-1', 'S-B-2'], customer_ref: 'bob' }) };
    show = await createShow(reclaim, { total_seats: 3 });
    f.lateStarted = { show, hold: await api.held(show.id) };
    show = await createSeated(reclaim);
    f.lateClosed = { show, hold: await api.held(show.id, { seat_ids: ['S-A-1'] }) };
    // Time moves on: every one of them lapses (gaCancelled was cancelled, not held).
    await lapse(
      ctx.pool,
      Object.entries(f)
        .filter(([name]) => name !== 'gaCancelled')
        .map(([, { hold }]) => hold.id),
    );
  });

  it('reclaim, general admission: a late confirm takes the seats back (200, late: true); replays answer the same', async () => {
    const { show, hold } = f.gaBack;
    // Past its deadline the hold's seats are on sale: only the confirmed seat is taken.
    expect((await getShow(show.id)).available_seats).toBe(2);
    const key = randomUUID();
    const late = await api.confirm(hold, 'buyer', { 'idempotency-key': key });
    expect(late.statusCode, late.body).toBe(200);
    expect(late.json()).toMatchObject({ id: hold.id, status: 'CONFIRMED', seats: 2, late: true });
    expect(await inventory(ctx.pool, show.id)).toMatchObject({
      held: 0,
      pending_rows: 0,
      confirmed: 3,
      confirmed_rows: 3,
    });
    expect((await getShow(show.id)).available_seats).toBe(0);
    // The keyed retry replays the answer; an unkeyed one finds the booking confirmed.
    const replay = await api.confirm(hold, 'buyer', { 'idempotency-key': key });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toBe(late.body);
    const again = await api.confirm(hold);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(late.json());
    expect(await storedStatus(hold.id)).toBe('CONFIRMED');
  });

  it('reclaim, general admission: refused (409 reclaimable: false) while its seats are taken, confirmed once they are free', async () => {
    const { show, hold } = f.gaTaken;
    // Another customer takes 2 of the 3 seats (the overdue hold is reclaimed for it).
    const other = await api.held(show.id, { seats: 2 });
    expect(await storedStatus(hold.id)).toBe('EXPIRED');
    const refused = expectProblem(await api.confirm(hold), 409, 'hold_expired');
    expect(refused.reclaimable).toBe(false);
    expectProblem(await api.confirm(hold), 409, 'hold_expired');
    expect(await storedStatus(hold.id)).toBe('EXPIRED');
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 2, pending_rows: 2, confirmed: 0 });
    expect((await api.cancel(other)).statusCode).toBe(200);
    expect((await api.confirm(hold)).json()).toMatchObject({ status: 'CONFIRMED', late: true });
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 0, confirmed: 2, confirmed_rows: 2 });
  });

  it('refuse (the default): 409 hold_expired without reclaimable; switched to reclaim by PATCH, the same booking confirms', async () => {
    const { show, hold } = f.gaRefuse;
    const refused = expectProblem(await api.confirm(hold), 409, 'hold_expired');
    expect(refused).not.toHaveProperty('reclaimable');
    expect(await storedStatus(hold.id)).toBe('EXPIRED');
    expect((await api.patchShow(show.id, { late_confirm: 'reclaim' })).json().late_confirm).toBe('reclaim');
    expect((await api.confirm(hold)).json()).toMatchObject({ status: 'CONFIRMED', late: true, seats: 1 });
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 0, confirmed: 1, confirmed_rows: 1 });
  });

  it('reclaim never revives a cancelled booking: 409 booking_cancelled, its seats stay on sale', async () => {
    const { show, hold } = f.gaCancelled;
    expectProblem(await api.confirm(hold), 409, 'booking_cancelled');
    expect(await storedStatus(hold.id)).toBe('CANCELLED');
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 0, confirmed: 0 });
    expect((await getShow(show.id)).available_seats).toBe(2);
  });

  it('reclaim, seated: the late confirm takes the very same seats, sold in the map and their category', async () => {
    const { show, hold } = f.seatedBack;
    expect((await api.seatStates(show.id))['S-A']).toBe('FFFF');
    const late = await api.confirm(hold);
    expect(late.statusCode, late.body).toBe(200);
    expect(late.json()).toMatchObject({ status: 'CONFIRMED', late: true, seat_ids: ['S-A-2', 'S-A-3'] });
    expect(await api.seatStates(show.id)).toEqual({ 'S-A': 'FSSF', 'S-B': 'FFFF' });
    expect(await categories(show.id)).toEqual([
      { name: 'premium', total_seats: 4, held_seats: 0, sold_seats: 2, blocked_seats: 0 },
      { name: 'standard', total_seats: 4, held_seats: 0, sold_seats: 0, blocked_seats: 0 },
    ]);
    expect(await getShow(show.id)).toMatchObject({
      available_seats: 6,
      available_by_category: { premium: 2, standard: 4 },
    });
    // This process had the hold's seats as free after its deadline: it must not sell them again.
    expect(expectProblem(await api.hold(show.id, { seat_ids: ['S-A-3'] }), 409, 'seats_taken').taken_seat_ids).toEqual([
      'S-A-3',
    ]);
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 0, confirmed: 2, confirmed_rows: 2 });
  });

  it('reclaim, seated: refused (409 reclaimable: false) when someone else took one of its seats; nothing moves', async () => {
    const { show, hold } = f.seatedTaken;
    await api.held(show.id, { seat_ids: ['S-A-3'] });
    const refused = expectProblem(await api.confirm(hold), 409, 'hold_expired');
    expect(refused.reclaimable).toBe(false);
    expect(await storedStatus(hold.id)).toBe('EXPIRED');
    expect((await api.seatStates(show.id))['S-A']).toBe('FFHF');
    expect(await categories(show.id)).toEqual([
      { name: 'premium', total_seats: 4, held_seats: 1, sold_seats: 0, blocked_seats: 0 },
      { name: 'standard', total_seats: 4, held_seats: 0, sold_seats: 0, blocked_seats: 0 },
    ]);
    // The seat it still had free is on sale to anyone.
    expect((await api.held(show.id, { seat_ids: ['S-A-2'] })).seat_ids).toEqual(['S-A-2']);
    expect((await api.seatStates(show.id))['S-A']).toBe('FHHF');
  });

  it("a late confirm counts toward its customer's limit like a hold: refused past it, nothing sold", async () => {
    for (const { show, hold } of [f.lateLimit, f.seatedLateLimit]) {
      // The first hold lapsed; the customer holds as many again and buys them.
      const again = await api.held(show.id, { seats: 2, customer_ref: 'bob' });
      expect((await api.confirm(again)).statusCode).toBe(200);
      const late = expectProblem(await api.confirm(hold), 409, 'customer_limit_reached');
      expect(late.seats_allowed).toBe(0);
      expect(await storedStatus(hold.id)).toBe('EXPIRED');
      const counted = await ctx.pool.query<{ seats: number }>(
        `SELECT sum(seats)::int AS seats FROM bookings WHERE show_id = $1 AND customer_ref = 'bob' AND status = 'CONFIRMED'`,
        [show.id],
      );
      expect(counted.rows[0]!.seats).toBe(2);
      expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 0, confirmed: 2, confirmed_rows: 2 });
    }
  });

  it('a late confirm passes the gate of any sale: refused once the show started or sales closed, like a hold', async () => {
    // The show starts (its start_time moved into the past, as the clock would move it).
    const started = f.lateStarted;
    await ctx.pool.query("UPDATE shows SET start_time = now() - interval '1 minute' WHERE id = $1", [started.show.id]);
    expectProblem(await api.hold(started.show.id), 409, 'show_started');
    expectProblem(await api.confirm(started.hold), 409, 'show_started');
    expect(await storedStatus(started.hold.id)).toBe('EXPIRED');
    expect(await inventory(ctx.pool, started.show.id)).toMatchObject({ held: 0, confirmed: 0 });
    // Sales close: the admin ends them now.
    const closed = f.lateClosed;
    expect((await api.patchShow(closed.show.id, { sales_end: new Date().toISOString() })).statusCode).toBe(200);
    expectProblem(await api.hold(closed.show.id, { seat_ids: ['S-A-2'] }), 409, 'sales_closed');
    expectProblem(await api.confirm(closed.hold), 409, 'sales_closed');
    expect(await storedStatus(closed.hold.id)).toBe('EXPIRED');
    expect((await api.seatStates(closed.show.id))['S-A']).toBe('FFFF');
  });

  it("expired holds no longer count toward the customer's limit", async () => {
    const ga = f.gaLimit;
    expect((await api.held(ga.show.id, { seats: 2, customer_ref: 'alice' })).seats).toBe(2);
    expectProblem(await api.hold(ga.show.id, { seats: 1, customer_ref: 'alice' }), 409, 'customer_limit_reached');
    const seated = f.seatedLimit;
    expect((await api.held(seated.show.id, { seat_ids: ['S-B-1', 'S-B-2'], customer_ref: 'alice' })).seats).toBe(2);
    const over = expectProblem(
      await api.hold(seated.show.id, { seats: 1, customer_ref: 'alice' }),
      409,
      'customer_limit_reached',
    );
    expect(over.seats_allowed).toBe(0);
  });
});
