import { AppError } from '../errors.js';
import type { BookingStatus } from '../domain/booking.js';
import type { LateConfirmPolicy } from '../domain/show.js';

export type CustomerAction = 'confirm' | 'cancel' | 'extend';

export type Decision =
  | { kind: 'transition'; from: BookingStatus; to: BookingStatus }
  /** Already where the action leads: answer with the booking as it is (idempotent retry). */
  | { kind: 'unchanged' }
  /** A live hold: move its deadline (how far is decided with the database clock, under the show's lock). */
  | { kind: 'extend' }
  /** A confirm after the hold passed its deadline, on a show that takes late payments: take the seats again if free. */
  | { kind: 'confirm_late' }
  /** The hold passed its deadline: reclaim it and refuse. */
  | { kind: 'expire_then_reject'; error: AppError }
  | { kind: 'reject'; error: AppError };

/**
 * What a confirm, cancel or extend does to a booking in a given state. `overdue` means PENDING
 * and past expires_at by the database clock, which is EXPIRED whether or not the row
 * says so yet. `lateConfirm` is the show's policy for a confirm that comes after that.
 */
export function decide(
  action: CustomerAction,
  status: BookingStatus,
  overdue: boolean,
  lateConfirm: LateConfirmPolicy = 'refuse',
): Decision {
  // Built only when refusing: capturing a stack on every confirm would cost the hot path.
  const expired = () => new AppError('hold_expired', 'The hold has expired; its seats are back on sale');
  if (
    action === 'confirm' &&
    lateConfirm === 'reclaim' &&
    (status === 'EXPIRED' || (status === 'PENDING' && overdue))
  ) {
    return { kind: 'confirm_late' };
  }
  if (status === 'PENDING' && overdue) return { kind: 'expire_then_reject', error: expired() };
  switch (status) {
    case 'PENDING':
      if (action === 'extend') return { kind: 'extend' };
      return { kind: 'transition', from: 'PENDING', to: action === 'confirm' ? 'CONFIRMED' : 'CANCELLED' };
    case 'CONFIRMED':
      if (action === 'extend') {
        return {
          kind: 'reject',
          error: new AppError('booking_confirmed', 'A confirmed booking has no hold to extend'),
        };
      }
      return action === 'confirm' ? { kind: 'unchanged' } : { kind: 'transition', from: 'CONFIRMED', to: 'CANCELLED' };
    case 'CANCELLED':
      return action === 'cancel'
        ? { kind: 'unchanged' }
        : { kind: 'reject', error: new AppError('booking_cancelled', `A cancelled booking cannot be ${action}ed`) };
    case 'EXPIRED':
      return { kind: 'reject', error: expired() };
  }
}
