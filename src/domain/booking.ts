import { randomUUID } from 'node:crypto';
import { Type, type Static } from 'typebox';
import { bookingStatuses } from './booking-lifecycle.js';
import { DateTime, Uuid } from './common.js';

/** An opaque id of the customer from the storefront. */
export const CustomerRef = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: '^[\\u0020-\\u007e\\u00a0-\\ud7ff\\ue000-\\uffff]+$',
  description: "The storefront's opaque id of the customer: 1–128 printable characters",
});

export { bookingStatuses, type BookingStatus } from './booking-lifecycle.js';

/** What a booking sells of one ticket type at one price, frozen when it was held. */
export const BookingLine = Type.Object({
  type: Type.String({ description: 'The ticket type code' }),
  name: Type.String({ description: "The type's name when the booking was made" }),
  quantity: Type.Integer(),
  unit_price: Type.Integer({ description: "In the currency's minor unit, as it was when the booking was made" }),
  seat_ids: Type.Optional(Type.Array(Type.String(), { description: 'Seated shows: the seats of this line' })),
});
export type BookingLine = Static<typeof BookingLine>;

/** A booking as the API shows it. */
export const Booking = Type.Object({
  id: Uuid,
  show_id: Uuid,
  seats: Type.Integer(),
  currency: Type.String({ description: "ISO 4217: the show's currency" }),
  lines: Type.Array(BookingLine, {
    description: 'What the booking sells, by ticket type and price; prices are frozen when the seats are held',
  }),
  total: Type.Integer({ description: "The sum of the lines, in the currency's minor unit" }),
  seat_ids: Type.Optional(
    Type.Array(Type.String(), { description: 'The seats, on a show with a seat map (Section-Row-Number)' }),
  ),
  status: Type.Enum(bookingStatuses, { description: 'A hold past its expires_at is EXPIRED' }),
  customer_ref: Type.Optional(Type.String({ description: 'The customer the storefront named when holding' })),
  comp: Type.Optional(Type.Literal(true, { description: 'A complimentary booking issued by the admin' })),
  late: Type.Optional(
    Type.Literal(true, { description: 'Confirmed after its hold expired, on the same seats (late_confirm: reclaim)' }),
  ),
  expires_at: DateTime('When an unconfirmed hold expires'),
  created_at: DateTime(),
  updated_at: DateTime(),
});
export type Booking = Static<typeof Booking>;

/** The answer to a granted hold: the booking and, once, its hold token. */
export const HeldBooking = Type.Object({
  ...Booking.properties,
  hold_token: Type.String({
    description: 'Secret that confirms, extends, cancels or reads this booking (X-Hold-Token). Shown only here, once.',
  }),
});
export type HeldBooking = Static<typeof HeldBooking>;

/** The columns of a booking as the API shows it (asBooking maps a row of them). */
export const BOOKING_COLUMNS =
  'id, show_id, seats, currency, lines, total::float8 AS total, seat_ids, status, customer_ref, comp, late, created_at, expires_at, updated_at';

type BookingRow = Omit<Booking, 'seat_ids' | 'customer_ref' | 'comp' | 'late'> & {
  seat_ids?: string[] | null;
  customer_ref?: string | null;
  comp?: boolean;
  late?: boolean;
};

/**
 * A booking row as read: what does not apply is left out of the answer (seat ids of general
 * admission, a customer never named, comp and late when false), so answers stay as they were.
 */
export function asBooking<T extends BookingRow>(row: T): T & Booking {
  if (row.seat_ids === null) delete row.seat_ids;
  if (row.customer_ref === null) delete row.customer_ref;
  if (row.comp === false) delete row.comp;
  if (row.late === false) delete row.late;
  return row as T & Booking;
}

/** POST /api/shows/:id/comps: a complimentary booking, straight to CONFIRMED. */
export const NewComp = Type.Object(
  {
    seat_ids: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
        minItems: 1,
        maxItems: 1000,
        uniqueItems: true,
        description: 'Seated shows: these seats, each free or blocked',
      }),
    ),
    seats: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000, description: 'General admission' })),
    block_id: Type.Optional({ ...Uuid, description: 'General admission: take the seats from this block' }),
    customer_ref: Type.Optional(CustomerRef),
  },
  { additionalProperties: false },
);
export type NewComp = Static<typeof NewComp>;

/**
 * A new booking's id: a random UUID whose first 8 hex digits are its show's. A load balancer
 * that hashes those 8 digits (deploy/nginx.conf) sends a booking's confirms, extensions and
 * cancels to the API process that serves its show's holds, so they share its show's queue. 90
 * random bits remain, plenty against collisions; the version and variant digits are untouched.
 */
export function newBookingId(showId: string): string {
  return showId.slice(0, 8) + randomUUID().slice(8);
}
