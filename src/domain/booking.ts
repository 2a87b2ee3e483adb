import { randomUUID } from 'node:crypto';
import { Type, type Static } from 'typebox';
import { DateTime, Uuid } from './common.js';

export const bookingStatuses = ['PENDING', 'CONFIRMED', 'EXPIRED', 'CANCELLED'] as const;
export type BookingStatus = (typeof bookingStatuses)[number];

/** A booking as the API shows it. */
export const Booking = Type.Object({
  id: Uuid,
  show_id: Uuid,
  seats: Type.Integer(),
  seat_ids: Type.Optional(
    Type.Array(Type.String(), { description: 'The seats, on a show with a seat map (Section-Row-Number)' }),
  ),
  status: Type.Enum(bookingStatuses),
  expires_at: DateTime('When an unconfirmed hold expires'),
  created_at: DateTime(),
  updated_at: DateTime(),
});
export type Booking = Static<typeof Booking>;

/** The answer to a granted hold: the booking and, once, its hold token. */
export const HeldBooking = Type.Object({
  ...Booking.properties,
  hold_token: Type.String({
    description: 'Secret that confirms or cancels this booking (X-Hold-Token). Shown only here, once.',
  }),
});
export type HeldBooking = Static<typeof HeldBooking>;

/** A booking row as stored, judged at some instant of the database clock. */
export interface StoredBooking extends Booking {
  hold_token_hash: Buffer;
  /** PENDING and past expires_at at that instant: no longer a hold, swept or not. */
  overdue: boolean;
}

/** The one mapping from a stored row to what a customer sees: an overdue hold is EXPIRED. */
export function bookingAsSeen(row: StoredBooking): Booking {
  const { id, show_id, seats, seat_ids, created_at, expires_at, updated_at } = row;
  const status = row.overdue ? 'EXPIRED' : row.status;
  return seat_ids
    ? { id, show_id, seats, seat_ids, status, created_at, expires_at, updated_at }
    : { id, show_id, seats, status, created_at, expires_at, updated_at };
}

/** A booking row as read: general admission has no seat ids (NULL), which the API leaves out. */
export function withoutNullSeats<T extends { seat_ids?: string[] | null | undefined }>(row: T): T {
  if (row.seat_ids === null) delete row.seat_ids;
  return row;
}

/**
 * A new booking's id: a random UUID whose first 8 hex digits are its show's. A load balancer
 * that hashes those 8 digits (deploy/nginx.conf) sends a booking's confirm and cancel to the
 * API process that serves its show's holds, so they share its show's queue. 90 random bits
 * remain, plenty against collisions; the version and variant digits are untouched.
 */
export function newBookingId(showId: string): string {
  return showId.slice(0, 8) + randomUUID().slice(8);
}
