import { describe, expect, it } from 'vitest';
import { AT, at, counters, createShow, holdGroup, holdSeats, sqlTests, standardLines } from './support.js';

// A show's ticket types as the database lists them (core.listed_ticket_types) and keeps them (the
// table's constraints), and what a hold statement checks of them under the show's lock: the
// version it was priced at (types_changed), each type's own window at the instant
// (core.hold_gate: type_not_on_sale), and the lines and total written as given.
const { db } = sqlTests();

const addType = (show: string, code: string, position: number, extra: Record<string, unknown> = {}) =>
  db().query(
    `INSERT INTO ticket_types (show_id, code, position, name, price, requires_code, retired)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [show, code, position, `Type ${code}`, extra.price ?? 100, extra.requires_code ?? false, extra.retired ?? false],
  );

const listed = async (show: string) =>
  (await db().query<{ types: { code: string }[] }>('SELECT core.listed_ticket_types(p_show => $1) AS types', [show]))
    .rows[0]!.types;

describe('core.listed_ticket_types', () => {
  it('lists the types in position order, without retired ones and those that need a code', async () => {
    const show = await createShow(db());
    await addType(show, 'vip', 3, { price: 9000 });
    await addType(show, 'fan', 2, { requires_code: true });
    await addType(show, 'old', 4, { retired: true });
    expect(await listed(show)).toEqual([
      {
        code: 'standard',
        name: 'Admission',
        price: 0,
        category_prices: null,
        categories: null,
        max_per_booking: null,
        available_from: null,
        available_until: null,
        requires_code: false,
        retired: false,
      },
      expect.objectContaining({ code: 'vip', price: 9000 }),
    ]);
  });

  it('is an empty list for a show without types, and the table refuses what no type may be', async () => {
    expect(await listed('00000000-0000-4000-8000-000000000000')).toEqual([]);
    const show = await createShow(db());
    for (const [code, price] of [
      ['Upper', 1],
      ['ok', -1],
      ['standard', 1], // the show has it already
    ] as const) {
      await db().query('SAVEPOINT bad');
      await expect(addType(show, code, 9, { price })).rejects.toThrow(/violates/);
      await db().query('ROLLBACK TO SAVEPOINT bad');
    }
  });
});

const lines = (type: string, quantity: number, unitPrice: number) => [
  { type, name: type, quantity, unit_price: unitPrice },
];

describe('a hold statement and the ticket types', () => {
  it('writes nothing when the types changed since they were priced (types_changed), and the lines and total as given', async () => {
    const show = await createShow(db(), { total: 5 });
    const stale = await holdGroup(db(), show, [1, 1], { typesVersion: 7 });
    expect(stale.map((row) => row.outcome)).toEqual(['types_changed', 'types_changed']);
    expect((await counters(db(), show)).held).toBe(0);
    const [held] = await holdGroup(db(), show, [2], { lines: [lines('standard', 2, 1500)], totals: [3000] });
    const { rows } = await db().query('SELECT currency, lines, total::int FROM bookings WHERE id = $1', [held!.id]);
    expect(rows).toEqual([{ currency: 'EUR', lines: lines('standard', 2, 1500), total: 3000 }]);
  });

  it("refuses a type outside its own window at the statement's instant, each edge exact, and a retired one", async () => {
    const show = await createShow(db(), { total: 10 });
    await addType(show, 'early', 2);
    await db().query(
      `UPDATE ticket_types SET available_from = $2, available_until = $3 WHERE show_id = $1 AND code = 'early'`,
      [show, at(10), at(20)],
    );
    const early = [lines('early', 1, 100)];
    const hold = (now: string) => holdGroup(db(), show, [1], { now, lines: early });
    expect((await hold(at(9.999)))[0]).toMatchObject({ outcome: 'type_not_on_sale', ticket_type: 'early' });
    expect((await hold(at(10)))[0]!.outcome).toBe('held');
    expect((await hold(at(19.999)))[0]!.outcome).toBe('held');
    expect((await hold(at(20)))[0]).toMatchObject({ outcome: 'type_not_on_sale', ticket_type: 'early' });
    // A request of other types is not concerned.
    expect((await holdGroup(db(), show, [1], { now: at(25), lines: [standardLines(1)] }))[0]!.outcome).toBe('held');
    await db().query(`UPDATE ticket_types SET retired = true WHERE show_id = $1 AND code = 'standard'`, [show]);
    expect((await holdGroup(db(), show, [1], { now: at(15) }))[0]).toMatchObject({
      outcome: 'type_not_on_sale',
      ticket_type: 'standard',
    });
    expect((await counters(db(), show)).held).toBe(3);
  });

  it('checks the same on a seated show', async () => {
    const show = await createShow(db(), { rows: [{ label: 'A', seats: 4 }] });
    expect((await holdSeats(db(), show, [[0]], { typesVersion: 2 }))[0]!.outcome).toBe('types_changed');
    await db().query(`UPDATE ticket_types SET available_until = $2 WHERE show_id = $1`, [show, AT]);
    expect((await holdSeats(db(), show, [[0]]))[0]).toMatchObject({
      outcome: 'type_not_on_sale',
      ticket_type: 'standard',
    });
  });
});
