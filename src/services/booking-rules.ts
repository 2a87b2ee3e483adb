import { AppError } from '../errors.js';
import type { BookingStatus } from '../domain/booking.js';

export type CustomerAction = 'confirm' | 'cancel';

export type Decision =
  | { kind: 'transition'; from: BookingStatus; to: BookingStatus }
  /** Already where the action leads: answer with the booking as it is (idempotent retry). */
  | { kind: 'unchanged' }
  /** The hold passed its deadline: reclaim it and refuse. */
  | { kind: 'expire_then_reject'; error: AppError }
  | { kind: 'reject'; error: AppError };

/**
 * What a confirm or cancel does to a booking in a given state. `overdue` means PENDING
 * and past expires_at by the database clock, which is EXPIRED whether or not the row
 * says so yet.
 */
export function decide(action: CustomerAction, status: BookingStatus, overdue: boolean): Decision {
  // Built only when refusing: capturing a stack on every confirm would cost the hot path.
  const expired = () =>
    new AppError('hold_expired', 'The hold expired before it was confirmed; its seats are back on sale');
  if (status === 'PENDING' && overdue) return { kind: 'expire_then_reject', error: expired() };
  switch (status) {
    case 'PENDING':
      return { kind: 'transition', from: 'PENDING', to: action === 'confirm' ? 'CONFIRMED' : 'CANCELLED' };
    case 'CONFIRMED':
      return action === 'confirm' ? { kind: 'unchanged' } : { kind: 'transition', from: 'CONFIRMED', to: 'CANCELLED' };
    case 'CANCELLED':
      return action === 'cancel'
        ? { kind: 'unchanged' }
        : { kind: 'reject', error: new AppError('booking_cancelled', 'A cancelled booking cannot be confirmed') };
    case 'EXPIRED':
      return { kind: 'reject', error: expired() };
  }
}
