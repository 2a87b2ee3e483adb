import { describe, expect, it } from 'vitest';
import { decide } from '../../src/services/booking-rules.js';

describe('decide', () => {
  it('confirms and cancels a live hold', () => {
    expect(decide('confirm', 'PENDING', false)).toEqual({ kind: 'transition', from: 'PENDING', to: 'CONFIRMED' });
    expect(decide('cancel', 'PENDING', false)).toEqual({ kind: 'transition', from: 'PENDING', to: 'CANCELLED' });
  });
  it('treats an overdue hold as expired for every action', () => {
    for (const action of ['confirm', 'cancel', 'extend'] as const) {
      const decision = decide(action, 'PENDING', true);
      expect(decision.kind).toBe('expire_then_reject');
      expect(decision.kind === 'expire_then_reject' && decision.error.code).toBe('hold_expired');
    }
  });
  it('is idempotent for repeated actions', () => {
    expect(decide('confirm', 'CONFIRMED', false)).toEqual({ kind: 'unchanged' });
    expect(decide('cancel', 'CANCELLED', false)).toEqual({ kind: 'unchanged' });
  });
  it('cancels a confirmed booking', () => {
    expect(decide('cancel', 'CONFIRMED', false)).toEqual({ kind: 'transition', from: 'CONFIRMED', to: 'CANCELLED' });
  });
  it('refuses to confirm a cancelled booking and to act on an expired one', () => {
    const cancelled = decide('confirm', 'CANCELLED', false);
    expect(cancelled.kind === 'reject' && cancelled.error.code).toBe('booking_cancelled');
    for (const action of ['confirm', 'cancel', 'extend'] as const) {
      const expired = decide(action, 'EXPIRED', false);
      expect(expired.kind === 'reject' && expired.error.code).toBe('hold_expired');
    }
  });
  it('extends only a live hold: a confirmed or cancelled booking has none', () => {
    expect(decide('extend', 'PENDING', false)).toEqual({ kind: 'extend' });
    const confirmed = decide('extend', 'CONFIRMED', false);
    expect(confirmed.kind === 'reject' && confirmed.error.code).toBe('booking_confirmed');
    const cancelled = decide('extend', 'CANCELLED', false);
    expect(cancelled.kind === 'reject' && cancelled.error.code).toBe('booking_cancelled');
  });
});
