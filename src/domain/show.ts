import { Type, type Static } from 'typebox';
import { DateTime, Uuid } from './common.js';
import { MAX_SHOW_SEATS, SeatMapInput } from './seat-map.js';
import { Currency, CURRENCY_DESCRIPTION, NewTicketTypes, TicketType, TicketTypeChanges } from './ticket-types.js';

// ISO 8601 with a UTC offset ("Z" or "+02:00"): a show time without one is ambiguous.
const isoWithOffset = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,6})?)?(Z|[+-]\\d{2}:\\d{2})$';

// Text PostgreSQL can store exactly as sent: no NUL character, no lone UTF-16 surrogate.
const storable = '[^\\u0000\\uD800-\\uDFFF]';

const Title = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: `^${storable}*[^\\s\\u0000\\uD800-\\uDFFF]${storable}*$`,
  description: 'Not blank; no NUL characters',
});
const Description = Type.String({ maxLength: 2000, pattern: `^${storable}*$`, description: 'No NUL characters' });
const Instant = (description: string) =>
  Type.String({ format: 'date-time', pattern: isoWithOffset, description, examples: ['2031-05-01T20:00:00Z'] });
const StartTime = Instant('ISO 8601 date-time with an offset, in the future');

export const lateConfirmPolicies = ['refuse', 'reclaim'] as const;
export type LateConfirmPolicy = (typeof lateConfirmPolicies)[number];

/** The settings of a show's checkout: set at creation, changed by PATCH (null clears one). */
const ShowSettings = {
  late_confirm: Type.Optional(
    Type.Enum(lateConfirmPolicies, {
      description:
        'A confirm after the hold expired: refuse (409 hold_expired, the default), or reclaim: take the same seats again if they are still free',
    }),
  ),
  max_seats_per_customer: Type.Optional(
    Type.Union([Type.Integer({ minimum: 1, maximum: MAX_SHOW_SEATS }), Type.Null()], {
      description:
        'Most seats one customer_ref may have held or bought on the show; holds must then carry customer_ref',
    }),
  ),
  sales_start: Type.Optional(Type.Union([Instant('Holds are refused before this (409 sales_not_open)'), Type.Null()])),
  sales_end: Type.Optional(Type.Union([Instant('Holds are refused from this on (409 sales_closed)'), Type.Null()])),
};

/** What an admin sends to create a show. */
export const NewShow = Type.Object(
  {
    title: Title,
    description: Type.Optional(Description),
    start_time: StartTime,
    ...ShowSettings,
    total_seats: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_SHOW_SEATS,
        description: 'General admission: this many seats. Send either total_seats or seat_map.',
      }),
    ),
    seat_map: Type.Optional(SeatMapInput),
    currency: Type.Optional({
      ...Currency,
      description: `${CURRENCY_DESCRIPTION} Absent: DEFAULT_CURRENCY. Fixed once the show exists.`,
    }),
    ticket_types: Type.Optional(NewTicketTypes),
  },
  { additionalProperties: false },
);
export type NewShow = Static<typeof NewShow>;

/** What an admin sends to change a show: any of these; null clears an optional setting. */
export const ShowChanges = Type.Object(
  {
    title: Type.Optional(Title),
    description: Type.Optional(Type.Union([Description, Type.Null()])),
    start_time: Type.Optional(StartTime),
    ...ShowSettings,
    total_seats: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_SHOW_SEATS,
        description: 'General admission only; never below the seats held, sold and blocked (409 seats_in_use)',
      }),
    ),
    seat_map: Type.Optional({
      ...SeatMapInput,
      description:
        'Seated shows only: the whole new map. Rows and seats may be added anywhere; a seat that is held, sold or blocked cannot be removed (409 seats_in_use). Seat ids stay what they are.',
    }),
    ticket_types: Type.Optional({
      ...TicketTypeChanges,
      description:
        'Types added (a new code, with name and price) or changed (a known code: only the fields given change; null clears a setting; retired: true stops new holds of it, for good). A new price applies to new holds only. Types not named stay as they are.',
    }),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type ShowChanges = Static<typeof ShowChanges>;

/** A show as the API shows it. */
export const Show = Type.Object({
  id: Uuid,
  title: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  start_time: DateTime(),
  seating: Type.Enum(['general_admission', 'assigned'], {
    description: 'assigned: the show has a seat map (GET /api/shows/{id}/seats)',
  }),
  total_seats: Type.Integer(),
  available_seats: Type.Integer({ description: 'Seats neither confirmed nor held by an unexpired hold' }),
  available_by_category: Type.Optional(
    Type.Record(Type.String(), Type.Integer(), { description: 'Assigned seating only: available seats per category' }),
  ),
  late_confirm: Type.Enum(lateConfirmPolicies),
  max_seats_per_customer: Type.Union([Type.Integer(), Type.Null()]),
  sales_start: Type.Union([DateTime(), Type.Null()]),
  sales_end: Type.Union([DateTime(), Type.Null()]),
  currency: Type.String({ description: 'ISO 4217: every price of the show is in its minor unit' }),
  ticket_types: Type.Array(TicketType, {
    description: 'What the show sells, in order; types that need a presale code, and retired ones, are not listed',
  }),
  created_at: DateTime(),
});
export type Show = Static<typeof Show>;

const SeatCounts = Type.Object({
  total: Type.Integer(),
  free: Type.Integer({ description: 'On sale now: not held by an unexpired hold, sold or blocked' }),
  held: Type.Integer({ description: 'In PENDING holds before their expires_at' }),
  sold: Type.Integer(),
  blocked: Type.Integer(),
});

/** GET /api/shows/:id/summary: the show's seats and bookings, from one snapshot. */
export const ShowSummary = Type.Object({
  show_id: Uuid,
  currency: Type.String(),
  seats: SeatCounts,
  revenue: Type.Integer({ description: "The totals of the confirmed bookings, in the currency's minor unit" }),
  by_type: Type.Record(
    Type.String(),
    Type.Object({
      name: Type.String(),
      held: Type.Integer({ description: 'Tickets of the type in live holds' }),
      sold: Type.Integer({ description: 'Tickets of the type in confirmed bookings' }),
      revenue: Type.Integer({ description: 'What its confirmed tickets were sold for' }),
    }),
    { description: 'Every ticket type of the show, retired ones too, in order' },
  ),
  by_category: Type.Optional(Type.Record(Type.String(), SeatCounts, { description: 'Assigned seating only' })),
  bookings: Type.Object({
    pending: Type.Integer({ description: 'Live holds' }),
    confirmed: Type.Integer(),
    expired: Type.Integer({ description: 'Past holds, those not yet marked EXPIRED included' }),
    cancelled: Type.Integer(),
    comps: Type.Integer({ description: 'Confirmed complimentary bookings' }),
  }),
  at: DateTime('The database time of the snapshot'),
});
export type ShowSummary = Static<typeof ShowSummary>;

/** Seats the house keeps back, as the API shows them. */
export const SeatBlock = Type.Object({
  id: Uuid,
  show_id: Uuid,
  seats: Type.Integer(),
  seat_ids: Type.Optional(Type.Array(Type.String(), { description: 'Seated shows' })),
  note: Type.Union([Type.String(), Type.Null()]),
  created_at: DateTime(),
});
export type SeatBlock = Static<typeof SeatBlock>;

/** POST /api/shows/:id/blocks. */
export const NewBlock = Type.Object(
  {
    seat_ids: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
        minItems: 1,
        maxItems: MAX_SHOW_SEATS,
        uniqueItems: true,
        description: 'Seated shows: these seats',
      }),
    ),
    seats: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_SHOW_SEATS, description: 'General admission' })),
    note: Type.Optional(Type.String({ maxLength: 500, pattern: `^${storable}*$` })),
  },
  { additionalProperties: false },
);
export type NewBlock = Static<typeof NewBlock>;

export const SeatMapRowState = Type.Object({
  label: Type.String(),
  category: Type.String(),
  seats: Type.Integer(),
  status: Type.String({
    description:
      'One character per seat, seat 1 first: F free, H held, S sold, B blocked. A hold past its expires_at reads as free.',
  }),
});

/** A seated show's map with the state of every seat, from one snapshot. */
export const SeatMapState = Type.Object({
  show_id: Uuid,
  version: Type.String({ description: 'Moves with every change to the seats of the show' }),
  sections: Type.Array(Type.Object({ name: Type.String(), rows: Type.Array(SeatMapRowState) })),
});
export type SeatMapState = Static<typeof SeatMapState>;
