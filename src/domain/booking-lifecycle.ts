import { AppError, type ProblemCode } from '../errors.js';
import type { LateConfirmPolicy } from './show.js';

/**
 * The lifecycle of a booking, in one table: each status, what a booking in it does to its seats,
 * and what each action does to it (the next status and the event recorded, the same answer again,
 * or a refusal). Everything else is derived from it:
 * - the API's decisions: `decide` below;
 * - the database's: the migration runner writes this table into core.booking_statuses and
 *   core.booking_transitions (src/adapters/postgres/core.ts), from which the status moves (core.move_bookings),
 *   the seats a status owns (core.booking_seats_owned), the seats a customer has
 *   (core.customer_seats) and the outbox event of each change (core.bookings_record_*) are read,
 *   and a status change the table does not have is refused by the database;
 * - the event types webhooks and streams know (src/domain/events.ts).
 * A new status is one row here (and one value of the booking_status type, a migration).
 */
export const bookingStatuses = ['PENDING', 'CONFIRMED', 'EXPIRED', 'CANCELLED'] as const;
export type BookingStatus = (typeof bookingStatuses)[number];

/** What the customer's and the admin's routes ask of a booking. */
export const customerActions = ['confirm', 'cancel', 'extend'] as const;
export type CustomerAction = (typeof customerActions)[number];
/** …and what the service itself does: `expire` a hold whose deadline has passed. */
export type BookingAction = CustomerAction | 'expire';
/** How a booking comes to be. */
export type Creation = 'hold' | 'comp';

/**
 * What a booking in a status does to its seats: holds them (seat state H, counted in the show's
 * held_seats), sells them (S, confirmed_seats), or has none (they are free or someone else's).
 */
export type SeatUse = 'held' | 'sold' | 'none';

/** The events a booking's changes are recorded as (the outbox; webhooks and streams send them). */
export const bookingEventTypes = [
  'booking.held',
  'booking.confirmed',
  'booking.cancelled',
  'booking.expired',
  'booking.extended',
] as const;
export type BookingEventType = (typeof bookingEventTypes)[number];

/** A move to another status (or the same one, for an extension), recorded as `event`. */
export interface Move {
  to: BookingStatus;
  event: BookingEventType;
  /** Confirmed after its hold lapsed: the booking is marked `late`. */
  late?: true;
  /** Only on a show whose late_confirm is `reclaim`; elsewhere refused as `otherwise` says. */
  onlyIf?: 'late_confirm_reclaim';
  otherwise?: Refusal;
}
/** The action is refused with this problem. */
export interface Refusal {
  refuse: ProblemCode;
  detail: string;
}
/** The booking is already where the action leads: answered as it is (a retried confirm). */
export interface Unchanged {
  unchanged: true;
}
export type LifecycleEntry = Move | Refusal | Unchanged;

export interface StatusRow {
  seats: SeatUse;
  /**
   * A status with a deadline (expires_at): past it, the booking is in this status whether or not
   * its row says so yet, and `expire` writes that down (core.status_at is the one test of it).
   */
  lapsesTo?: BookingStatus;
  on: Record<CustomerAction, LifecycleEntry> & { expire?: Move };
}

const same: Unchanged = { unchanged: true };
const holdExpired: Refusal = { refuse: 'hold_expired', detail: 'The hold has expired; its seats are back on sale' };

export const bookingLifecycle: Record<BookingStatus, StatusRow> = {
  PENDING: {
    seats: 'held',
    lapsesTo: 'EXPIRED',
    on: {
      confirm: { to: 'CONFIRMED', event: 'booking.confirmed' },
      cancel: { to: 'CANCELLED', event: 'booking.cancelled' },
      extend: { to: 'PENDING', event: 'booking.extended' },
      expire: { to: 'EXPIRED', event: 'booking.expired' },
    },
  },
  CONFIRMED: {
    seats: 'sold',
    on: {
      confirm: same,
      cancel: { to: 'CANCELLED', event: 'booking.cancelled' },
      extend: { refuse: 'booking_confirmed', detail: 'A confirmed booking has no hold to extend' },
    },
  },
  EXPIRED: {
    seats: 'none',
    on: {
      // A late payment: the same seats again, if the show takes them and they are still free.
      confirm: {
        to: 'CONFIRMED',
        event: 'booking.confirmed',
        late: true,
        onlyIf: 'late_confirm_reclaim',
        otherwise: holdExpired,
      },
      cancel: holdExpired,
      extend: holdExpired,
    },
  },
  CANCELLED: {
    seats: 'none',
    on: {
      confirm: { refuse: 'booking_cancelled', detail: 'A cancelled booking cannot be confirmed' },
      cancel: same,
      extend: { refuse: 'booking_cancelled', detail: 'A cancelled booking cannot be extended' },
    },
  },
};

/** How bookings are created: a hold, or a comp the admin issues straight to CONFIRMED. */
export const bookingCreations: Record<Creation, Move> = {
  hold: { to: 'PENDING', event: 'booking.held' },
  comp: { to: 'CONFIRMED', event: 'booking.confirmed' },
};

export function isMove(entry: LifecycleEntry): entry is Move {
  return 'to' in entry;
}

/** What an action does to a booking in a given status, as the table says. */
export type Decision =
  /** To `to` (an extension: to the same status, with a later deadline). */
  | { kind: 'move'; from: BookingStatus; to: BookingStatus; late: boolean }
  /** Already where the action leads: answered with the booking as it is (an idempotent retry). */
  | { kind: 'unchanged' }
  | { kind: 'refuse'; error: AppError };

/**
 * The decision for `action` on a booking whose status is `status` as of the instant it is judged
 * (a hold past its deadline is EXPIRED: core.status_at), on a show whose late_confirm is
 * `lateConfirm`. A move that gives seats back to a booking that had none (a late confirm) is
 * decided here only as far as the table goes: whether the seats can be taken again is the
 * database's (core.confirm_late).
 */
export function decide(action: CustomerAction, status: BookingStatus, lateConfirm: LateConfirmPolicy): Decision {
  const entry = bookingLifecycle[status].on[action];
  if ('unchanged' in entry) return { kind: 'unchanged' };
  if ('refuse' in entry) return refusal(entry);
  if (entry.onlyIf === 'late_confirm_reclaim' && lateConfirm !== 'reclaim') return refusal(entry.otherwise!);
  return { kind: 'move', from: status, to: entry.to, late: entry.late === true };
}

/** Whether a move gives seats to a booking that had none: they must be free, and the sale gates passed. */
export function retakesSeats(from: BookingStatus, to: BookingStatus): boolean {
  return bookingLifecycle[from].seats === 'none' && bookingLifecycle[to].seats !== 'none';
}

// Built only when refusing: capturing a stack on every confirm would cost the hot path.
function refusal(entry: Refusal): Decision {
  return { kind: 'refuse', error: new AppError(entry.refuse, entry.detail) };
}
