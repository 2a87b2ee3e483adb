import { describe, expect, it } from 'vitest';
import { createShow, sqlTests } from './support.js';

// A show's ticket types as the database lists them (core.listed_ticket_types) and keeps them (the
// table's constraints).
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
