import { Type, type Static } from 'typebox';
import { AppError } from '../errors.js';
import { DateTime } from './common.js';
import type { BookingLine } from './booking.js';
import type { SeatPlan } from './seat-map.js';

/** Most ticket types on one show. */
export const MAX_TICKET_TYPES = 50;
/** The highest price, in minor units (ten million of a currency with cents). */
export const MAX_PRICE = 1_000_000_000;

/** The type a show gets when it is created without ticket_types, and what `{"seats": N}` holds. */
export const DEFAULT_TICKET_TYPE = { code: 'standard', name: 'Admission', price: 0 } as const;

// Currencies ICU knows (ISO 4217 codes in use), for the check below.
const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

export const CURRENCY_DESCRIPTION =
  'ISO 4217 code (EUR, USD, JPY). Prices are integers in its minor unit (cents for EUR).';
export const Currency = Type.String({
  pattern: '^[A-Z]{3}$',
  description: CURRENCY_DESCRIPTION,
  examples: ['EUR'],
});

const TypeCode = Type.String({
  pattern: '^[a-z0-9][a-z0-9_-]{0,39}$',
  description: 'Lowercase letters, digits, - and _; at most 40 characters; unique on the show',
  examples: ['adult'],
});
const TypeName = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: '^[^\\u0000\\uD800-\\uDFFF]*[^\\s\\u0000\\uD800-\\uDFFF][^\\u0000\\uD800-\\uDFFF]*$',
  description: 'Not blank',
});
const Price = Type.Integer({ minimum: 0, maximum: MAX_PRICE, description: "In the currency's minor unit" });
// Written as additionalProperties (not a TypeBox Record's patternProperties), which is what the
// OpenAPI document says of it too.
const PriceByCategory = Type.Unsafe<Record<string, number>>({
  type: 'object',
  additionalProperties: Price,
  maxProperties: 100,
});
const Instant = (description: string) =>
  Type.String({ format: 'date-time', pattern: '(Z|[+-]\\d{2}:\\d{2})$', description });

/** What may be set on a type, at creation or by PATCH. */
const TypeSettings = {
  category_prices: Type.Optional(
    Type.Union([PriceByCategory, Type.Null()], {
      description: 'Seated shows: the price in these categories instead of `price`',
    }),
  ),
  categories: Type.Optional(
    Type.Union(
      [
        Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: 100, uniqueItems: true }),
        Type.Null(),
      ],
      { description: 'Seated shows: sold only in these categories (null or absent: every category)' },
    ),
  ),
  max_per_booking: Type.Optional(
    Type.Union([Type.Integer({ minimum: 1, maximum: 1000 }), Type.Null()], {
      description: 'Most tickets of this type in one booking',
    }),
  ),
  available_from: Type.Optional(Type.Union([Instant('Not sold before this'), Type.Null()])),
  available_until: Type.Optional(Type.Union([Instant('Not sold from this on'), Type.Null()])),
  requires_code: Type.Optional(
    Type.Boolean({ description: 'Sold only with a presale code that unlocks it; not listed without one' }),
  ),
};

/** A ticket type as an admin creates it. */
export const NewTicketType = Type.Object(
  { code: TypeCode, name: TypeName, price: Price, ...TypeSettings },
  { additionalProperties: false },
);
export type NewTicketType = Static<typeof NewTicketType>;

/**
 * A type in PATCH: one with a new code is added (name and price required); one with a known code
 * changes what it gives. `retired: true` stops new holds of it; it cannot be undone.
 */
export const TicketTypeChange = Type.Object(
  {
    code: TypeCode,
    name: Type.Optional(TypeName),
    price: Type.Optional(Price),
    ...TypeSettings,
    retired: Type.Optional(
      Type.Unsafe<true>({ enum: [true], description: 'true: no new holds of this type, for good' }),
    ),
  },
  { additionalProperties: false },
);
export type TicketTypeChange = Static<typeof TicketTypeChange>;

export const NewTicketTypes = Type.Array(NewTicketType, {
  minItems: 1,
  maxItems: MAX_TICKET_TYPES,
  description: `The types sold, in the order listed. Absent: one type ${JSON.stringify(DEFAULT_TICKET_TYPE)}`,
});

export const TicketTypeChanges = Type.Array(TicketTypeChange, { minItems: 1, maxItems: MAX_TICKET_TYPES });

/** A type as GET /api/shows/:id lists it (types that need a code, and retired ones, are not listed). */
export const TicketType = Type.Object({
  code: Type.String(),
  name: Type.String(),
  price: Type.Integer({ description: "In the show's currency's minor unit" }),
  category_prices: Type.Optional(
    Type.Record(Type.String(), Type.Integer(), {
      description: 'Seated shows: every category the type is sold in, with its price there',
    }),
  ),
  max_per_booking: Type.Union([Type.Integer(), Type.Null()]),
  available_from: Type.Union([DateTime(), Type.Null()]),
  available_until: Type.Union([DateTime(), Type.Null()]),
  available: Type.Integer({
    description: 'How many of this type could be held now: the available seats it may be sold in',
  }),
});
export type TicketType = Static<typeof TicketType>;

/** A ticket type as stored, every field present. */
export interface StoredTicketType {
  code: string;
  name: string;
  price: number;
  category_prices: Record<string, number> | null;
  categories: string[] | null;
  max_per_booking: number | null;
  available_from: Date | string | null;
  available_until: Date | string | null;
  requires_code: boolean;
  retired: boolean;
}

function invalid(path: string, message: string): never {
  throw new AppError('validation_failed', `${path} ${message}`, { errors: [{ path: `body${path}`, message }] });
}

/** Whether `code` is an ISO 4217 currency code in use (as ICU knows them). */
export function isCurrency(code: string): boolean {
  return CURRENCIES.has(code);
}

/** 400 validation_failed unless `currency` is an ISO 4217 code in use. */
export function checkCurrency(currency: string, path = '/currency'): void {
  if (!isCurrency(currency)) invalid(path, `is not an ISO 4217 currency code in use: ${currency}`);
}

/**
 * The checks the schema cannot make of a show's whole list of types (after a PATCH's changes are
 * applied): unique codes, categories of the show's map (none for general admission), a window
 * that ends after it starts. 400 validation_failed naming the offender.
 */
export function checkTicketTypes(types: readonly StoredTicketType[], plan: SeatPlan | null, path: string): void {
  if (types.length > MAX_TICKET_TYPES) invalid(path, `must have at most ${MAX_TICKET_TYPES} types`);
  const codes = new Set<string>();
  types.forEach((type, index) => {
    const at = `${path}/${index}`;
    if (codes.has(type.code)) invalid(`${at}/code`, `repeats code "${type.code}"`);
    codes.add(type.code);
    for (const [field, names] of [
      ['category_prices', type.category_prices ? Object.keys(type.category_prices) : []],
      ['categories', type.categories ?? []],
    ] as const) {
      if (names.length === 0) continue;
      if (!plan) invalid(`${at}/${field}`, 'is for seated shows only');
      const unknown = names.find((name) => !plan.categories.includes(name));
      if (unknown !== undefined) invalid(`${at}/${field}`, `names "${unknown}", not a category of the seat map`);
    }
    if (
      type.available_from !== null &&
      type.available_until !== null &&
      new Date(type.available_until).getTime() <= new Date(type.available_from).getTime()
    ) {
      invalid(`${at}/available_until`, 'must be after available_from');
    }
  });
  if (!types.some((type) => !type.retired)) invalid(path, 'must leave at least one type that is not retired');
}

/** A new type with every field present. */
export function storedTicketType(type: NewTicketType): StoredTicketType {
  return {
    code: type.code,
    name: type.name,
    price: type.price,
    category_prices: type.category_prices ?? null,
    categories: type.categories ?? null,
    max_per_booking: type.max_per_booking ?? null,
    available_from: type.available_from ?? null,
    available_until: type.available_until ?? null,
    requires_code: type.requires_code ?? false,
    retired: false,
  };
}

/**
 * A show's types after a PATCH's changes, in order: changed ones where they were, new ones at
 * the end. A new code without name and price is 400.
 */
export function applyTicketTypeChanges(
  types: readonly StoredTicketType[],
  changes: readonly TicketTypeChange[],
  path: string,
): StoredTicketType[] {
  const result = types.map((type) => ({ ...type }));
  const seen = new Set<string>();
  changes.forEach((change, index) => {
    const at = `${path}/${index}`;
    if (seen.has(change.code)) invalid(`${at}/code`, `repeats code "${change.code}"`);
    seen.add(change.code);
    const { retired, ...fields } = change;
    let type = result.find((known) => known.code === change.code);
    if (!type) {
      if (fields.name === undefined || fields.price === undefined) {
        invalid(at, `adds type "${change.code}": name and price are required`);
      }
      type = storedTicketType({ ...fields, name: fields.name, price: fields.price });
      result.push(type);
    } else {
      Object.assign(type, Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)));
    }
    if (retired) type.retired = true;
  });
  return result;
}

/** What a show has available now, as its read gives it. */
export interface ShowAvailability {
  available_seats: number;
  /** Seated shows: per category, in the map's order. */
  available_by_category?: Record<string, number> | undefined;
}

/**
 * The type as a buyer sees it: its price in each category it is sold in (seated), and how many of
 * it could be held now, the available seats of those categories.
 */
export function listedTicketType(type: StoredTicketType, show: ShowAvailability): TicketType {
  const byCategory = show.available_by_category;
  const categories = byCategory
    ? Object.keys(byCategory).filter((category) => type.categories === null || type.categories.includes(category))
    : null;
  const listed: TicketType = {
    code: type.code,
    name: type.name,
    price: type.price,
    max_per_booking: type.max_per_booking,
    available_from: type.available_from === null ? null : new Date(type.available_from),
    available_until: type.available_until === null ? null : new Date(type.available_until),
    available:
      byCategory && categories
        ? categories.reduce((sum, category) => sum + (byCategory[category] ?? 0), 0)
        : show.available_seats,
  };
  if (categories) {
    listed.category_prices = Object.fromEntries(
      categories.map((category) => [category, type.category_prices?.[category] ?? type.price]),
    );
  }
  return listed;
}

/** A show's ticket types at one version of them (shows.ticket_types_version): what holds are priced with. */
export interface Catalogue {
  version: number;
  currency: string;
  /** The type a hold that names none is of (core.default_ticket_type). */
  defaultType: string;
  /** Every type, retired ones too, in order. */
  types: StoredTicketType[];
}

/** So many tickets of one type, as a hold asks for them. */
export interface TicketAsk {
  type: string;
  quantity: number;
}

/** What a hold sells, priced: frozen with the booking. */
export interface PricedHold {
  lines: BookingLine[];
  total: number;
}

/** What `{"seats": N}` holds: N of the show's default type. */
export function defaultTickets(catalogue: Catalogue, seats: number): TicketAsk[] {
  return [{ type: catalogue.defaultType, quantity: seats }];
}

function typeOf(catalogue: Catalogue, code: string): StoredTicketType {
  const type = catalogue.types.find((known) => known.code === code);
  if (!type)
    throw new AppError('unknown_ticket_type', `The show sells no ticket type "${code}"`, { ticket_type: code });
  return type;
}

/**
 * The categories a hold of these tickets may take seats in (seated shows): those every type named
 * is sold in; null when every type is sold everywhere.
 */
export function categoriesFor(catalogue: Catalogue, tickets: readonly TicketAsk[]): string[] | null {
  let allowed: string[] | null = null;
  for (const { type: code } of tickets) {
    const { categories } = typeOf(catalogue, code);
    if (categories !== null)
      allowed = allowed === null ? [...categories] : allowed.filter((c) => categories.includes(c));
  }
  return allowed;
}

/**
 * What a hold of `tickets` is refused for whatever its seats: a type the show does not have (400
 * unknown_ticket_type), one sold only with a presale code (code_required), more of a type than its
 * max_per_booking (type_limit). Whether a type is on sale (retired, its window) is the database's
 * to judge, at the instant of the hold (core.hold_gate).
 */
export function checkTickets(catalogue: Catalogue, tickets: readonly TicketAsk[]): void {
  const quantities = new Map<string, number>();
  for (const { type: code, quantity } of tickets) quantities.set(code, (quantities.get(code) ?? 0) + quantity);
  for (const [code, quantity] of quantities) {
    const type = typeOf(catalogue, code);
    const named = { ticket_type: code };
    if (type.requires_code) throw new AppError('code_required', `"${code}" is sold only with a presale code`, named);
    if (type.max_per_booking !== null && quantity > type.max_per_booking) {
      throw new AppError('type_limit', `At most ${type.max_per_booking} "${code}" ticket(s) per booking`, {
        ...named,
        max_per_booking: type.max_per_booking,
      });
    }
  }
}

/**
 * Prices a hold of `tickets` from the catalogue: one line per type and price, in the order asked,
 * each at the type's price (seated: its price in the seat's category). On a seated show `seats`
 * are the hold's seats in the order the tickets take them, with their categories. Refuses what
 * checkTickets refuses, and a seat in a category its type is not sold in (type_not_in_category).
 */
export function priceHold(
  catalogue: Catalogue,
  tickets: readonly TicketAsk[],
  seats?: { ids: readonly string[]; categories: readonly string[] },
): PricedHold {
  checkTickets(catalogue, tickets);
  const lines: BookingLine[] = [];
  let total = 0;
  let seat = 0;
  for (const { type: code, quantity } of tickets) {
    const type = typeOf(catalogue, code);
    for (let unit = 0; unit < quantity; unit++) {
      const category = seats?.categories[seat];
      if (category !== undefined && type.categories !== null && !type.categories.includes(category)) {
        throw new AppError('type_not_in_category', `"${code}" is not sold in ${category}`, {
          ticket_type: code,
          category,
        });
      }
      const price = (category !== undefined ? type.category_prices?.[category] : undefined) ?? type.price;
      let line = lines.find((known) => known.type === code && known.unit_price === price);
      if (!line) {
        line = { type: code, name: type.name, quantity: 0, unit_price: price, ...(seats ? { seat_ids: [] } : {}) };
        lines.push(line);
      }
      line.quantity++;
      if (seats) line.seat_ids!.push(seats.ids[seat]!);
      total += price;
      seat++;
    }
  }
  return { lines, total };
}
