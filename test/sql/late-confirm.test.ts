import { describe, expect, it } from 'vitest';
import { at, counters, createShow, holdGroup, holdSeats, seatStates, sqlTests, statuses } from './support.js';

// core.confirm_late: a confirm after the hold lapsed, as a sale of its seats would be made.
const { db } = sqlTests();

const confirmLate = async (show: string, ids: (string | null)[], now: string) =>
  (
    await db().query<{ booking_id: string; outcome: string; allowed: number | null; reclaimed: number }>(
      'SELECT booking_id, outcome, allowed, reclaimed FROM core.confirm_late(p_show => $1, p_ids => $2::uuid[], p_at => $3)',
      [show, ids, now],
    )
  ).rows;

describe('core.confirm_late', () => {
  it('confirms a lapsed hold on its own seats when they are free, expiring it and the other lapsed holds first', async () => {
    const show = await createShow(db(), { rows: [{ label: 'A', seats: 4 }], lateConfirm: 'reclaim' });
    const [mine, other] = await holdSeats(db(), show, [[0, 1], [3]], { ttl: 60 });
    const rows = await confirmLate(show, [mine!.id], at(61));
    expect(rows).toEqual([{ booking_id: mine!.id, outcome: 'confirmed', allowed: null, reclaimed: 2 }]);
    expect(await statuses(db(), [mine!.id, other!.id])).toEqual({ [mine!.id!]: 'CONFIRMED', [other!.id!]: 'EXPIRED' });
    expect(await seatStates(db(), show)).toBe('SSFF');
    const { rows: late } = await db().query('SELECT late FROM bookings WHERE id = $1', [mine!.id]);
    expect(late).toEqual([{ late: true }]);
  });

  it('refuses when a seat of it was taken since (seats_taken), on general admission when too few are free', async () => {
    const seated = await createShow(db(), { rows: [{ label: 'A', seats: 3 }], lateConfirm: 'reclaim' });
    const [mine] = await holdSeats(db(), seated, [[0, 1]], { ttl: 60 });
    await holdSeats(db(), seated, [[1]], { now: at(61) });
    expect((await confirmLate(seated, [mine!.id], at(62))).map((row) => row.outcome)).toEqual(['seats_taken']);
    const general = await createShow(db(), { total: 3, lateConfirm: 'reclaim' });
    const [first] = await holdGroup(db(), general, [2], { ttl: 60 });
    await holdGroup(db(), general, [2], { now: at(61) });
    expect((await confirmLate(general, [first!.id], at(62))).map((row) => row.outcome)).toEqual(['seats_taken']);
    expect(await counters(db(), general)).toMatchObject({ held: 2, sold: 0 });
  });

  it("passes the gate of a sale and its customer's limit, in the order given", async () => {
    const show = await createShow(db(), { total: 10, lateConfirm: 'reclaim', maxPerCustomer: 3, salesEnd: at(500) });
    const [a, b] = await holdGroup(db(), show, [2, 1], { ttl: 60, refs: ['ann', 'ann'] });
    await holdGroup(db(), show, [2], { now: at(61), refs: ['ann'] }); // ann has 2 live seats again
    const rows = await confirmLate(show, [a!.id, b!.id], at(62));
    expect(rows.map((row) => [row.outcome, row.allowed])).toEqual([
      ['customer_limit', 1],
      ['confirmed', null],
    ]);
    const [c] = await holdGroup(db(), show, [1], { ttl: 60, now: at(100), refs: ['bob'] });
    expect((await confirmLate(show, [c!.id], at(500))).map((row) => row.outcome)).toEqual(['sales_closed']);
    const started = await createShow(db(), { total: 2, lateConfirm: 'reclaim', start: at(200) });
    const [d] = await holdGroup(db(), started, [1], { ttl: 60 });
    expect((await confirmLate(started, [d!.id], at(200))).map((row) => row.outcome)).toEqual(['show_started']);
  });
});
