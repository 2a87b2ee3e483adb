import { describe, expect, it } from 'vitest';
import {
  applyTicketTypeChanges,
  categoriesFor,
  defaultTickets,
  priceHold,
  storedTicketType,
  type Catalogue,
} from '../../src/domain/ticket-types.js';

// Pricing a hold from a show's ticket types: what each ticket costs, and what a hold may have.
const catalogue: Catalogue = {
  version: 3,
  currency: 'EUR',
  defaultType: 'adult',
  types: [
    storedTicketType({ code: 'adult', name: 'Adult', price: 4500, category_prices: { premium: 8000 } }),
    storedTicketType({ code: 'child', name: 'Child', price: 2500, max_per_booking: 2, categories: ['standard'] }),
    storedTicketType({ code: 'fan', name: 'Fan', price: 4000, requires_code: true }),
    { ...storedTicketType({ code: 'old', name: 'Old', price: 1 }), retired: true },
  ],
};
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as { code: string }).code;
  }
  return 'priced';
};

describe('priceHold', () => {
  it('prices general admission per type, a type asked for twice in one line', () => {
    expect(
      priceHold(catalogue, [
        { type: 'adult', quantity: 2 },
        { type: 'child', quantity: 1 },
        { type: 'adult', quantity: 1 },
      ]),
    ).toEqual({
      lines: [
        { type: 'adult', name: 'Adult', quantity: 3, unit_price: 4500 },
        { type: 'child', name: 'Child', quantity: 1, unit_price: 2500 },
      ],
      total: 16000,
    });
  });

  it('gives seats to tickets in order, a line per type and price, each seat at its category price', () => {
    const priced = priceHold(
      catalogue,
      [
        { type: 'adult', quantity: 3 },
        { type: 'child', quantity: 1 },
      ],
      { ids: ['P-1', 'S-1', 'P-2', 'S-2'], categories: ['premium', 'standard', 'premium', 'standard'] },
    );
    expect(priced).toEqual({
      lines: [
        { type: 'adult', name: 'Adult', quantity: 2, unit_price: 8000, seat_ids: ['P-1', 'P-2'] },
        { type: 'adult', name: 'Adult', quantity: 1, unit_price: 4500, seat_ids: ['S-1'] },
        { type: 'child', name: 'Child', quantity: 1, unit_price: 2500, seat_ids: ['S-2'] },
      ],
      total: 23000,
    });
  });

  it('refuses an unknown type, one needing a code, more than max_per_booking, a seat outside its categories', () => {
    expect(code(() => priceHold(catalogue, [{ type: 'vip', quantity: 1 }]))).toBe('unknown_ticket_type');
    // Whether a type is on sale is judged by the database at the hold's instant (core.hold_gate).
    expect(code(() => priceHold(catalogue, [{ type: 'old', quantity: 1 }]))).toBe('priced');
    expect(code(() => priceHold(catalogue, [{ type: 'fan', quantity: 1 }]))).toBe('code_required');
    expect(
      code(() =>
        priceHold(catalogue, [
          { type: 'child', quantity: 2 },
          { type: 'child', quantity: 1 },
        ]),
      ),
    ).toBe('type_limit');
    expect(code(() => priceHold(catalogue, [{ type: 'child', quantity: 2 }]))).toBe('priced');
    expect(
      code(() => priceHold(catalogue, [{ type: 'child', quantity: 1 }], { ids: ['P-1'], categories: ['premium'] })),
    ).toBe('type_not_in_category');
  });

  it('{"seats": N} is N of the default type', () => {
    expect(defaultTickets(catalogue, 4)).toEqual([{ type: 'adult', quantity: 4 }]);
  });
});

describe('categoriesFor', () => {
  it('is where every type asked for is sold: null when anywhere', () => {
    expect(categoriesFor(catalogue, [{ type: 'adult', quantity: 1 }])).toBeNull();
    expect(
      categoriesFor(catalogue, [
        { type: 'adult', quantity: 1 },
        { type: 'child', quantity: 1 },
      ]),
    ).toEqual(['standard']);
  });
});

describe('applyTicketTypeChanges', () => {
  it('changes the fields given of known types, clears with null, adds new ones at the end, retires', () => {
    const changed = applyTicketTypeChanges(
      catalogue.types,
      [
        { code: 'child', price: 2000, max_per_booking: null },
        { code: 'vip', name: 'VIP', price: 9000 },
        { code: 'adult', retired: true },
      ],
      '/ticket_types',
    );
    expect(changed.map(({ code: c, price, max_per_booking: max, retired }) => [c, price, max, retired])).toEqual([
      ['adult', 4500, null, true],
      ['child', 2000, null, false],
      ['fan', 4000, null, false],
      ['old', 1, null, true],
      ['vip', 9000, null, false],
    ]);
    expect(catalogue.types[1]!.price).toBe(2500); // the list given is left as it was
  });
});
