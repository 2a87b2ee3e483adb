import { describe, expect, it } from 'vitest';
import { lifecycleSql } from '../../src/adapters/postgres/core.js';
import {
  bookingCreations,
  bookingEventTypes,
  bookingLifecycle,
  bookingStatuses,
  customerActions,
  decide,
  isMove,
  retakesSeats,
  type BookingStatus,
} from '../../src/domain/booking-lifecycle.js';

// The lifecycle table (src/domain/booking-lifecycle.ts) and the decisions taken from it. The
// database's side of it is tested in test/sql/lifecycle.test.ts.

const code = (decision: ReturnType<typeof decide>) =>
  decision.kind === 'refuse' ? decision.error.code : decision.kind;

describe('decide', () => {
  it('a live hold: confirm and cancel move it, extend keeps it PENDING with a later deadline', () => {
    expect(decide('confirm', 'PENDING', 'refuse')).toEqual({
      kind: 'move',
      from: 'PENDING',
      to: 'CONFIRMED',
      late: false,
    });
    expect(decide('cancel', 'PENDING', 'refuse')).toEqual({
      kind: 'move',
      from: 'PENDING',
      to: 'CANCELLED',
      late: false,
    });
    expect(decide('extend', 'PENDING', 'refuse')).toEqual({
      kind: 'move',
      from: 'PENDING',
      to: 'PENDING',
      late: false,
    });
  });

  it('is idempotent for a repeated confirm or cancel, and cancels a confirmed booking', () => {
    expect(decide('confirm', 'CONFIRMED', 'refuse')).toEqual({ kind: 'unchanged' });
    expect(decide('cancel', 'CANCELLED', 'reclaim')).toEqual({ kind: 'unchanged' });
    expect(decide('cancel', 'CONFIRMED', 'refuse')).toMatchObject({ kind: 'move', to: 'CANCELLED' });
  });

  it('refuses what a status has no move for, with the problem the table names', () => {
    expect(code(decide('extend', 'CONFIRMED', 'refuse'))).toBe('booking_confirmed');
    expect(code(decide('confirm', 'CANCELLED', 'reclaim'))).toBe('booking_cancelled');
    expect(code(decide('extend', 'CANCELLED', 'refuse'))).toBe('booking_cancelled');
    for (const action of customerActions) expect(code(decide(action, 'EXPIRED', 'refuse'))).toBe('hold_expired');
  });

  it('a confirm of a lapsed hold is a late move only on a show that reclaims', () => {
    expect(decide('confirm', 'EXPIRED', 'reclaim')).toEqual({
      kind: 'move',
      from: 'EXPIRED',
      to: 'CONFIRMED',
      late: true,
    });
    expect(retakesSeats('EXPIRED', 'CONFIRMED')).toBe(true);
    expect(retakesSeats('PENDING', 'CONFIRMED')).toBe(false);
    expect(code(decide('cancel', 'EXPIRED', 'reclaim'))).toBe('hold_expired');
  });
});

describe('the table', () => {
  it('says what every customer action does in every status', () => {
    for (const status of bookingStatuses) {
      for (const action of customerActions)
        expect(bookingLifecycle[status].on[action], `${status} ${action}`).toBeDefined();
    }
  });

  it('only a status with a deadline can be expired, to the status it lapses to', () => {
    for (const status of bookingStatuses) {
      const { lapsesTo, on } = bookingLifecycle[status];
      expect(on.expire?.to).toBe(lapsesTo);
    }
  });

  it('names every booking event it records, and records every event it names', () => {
    const recorded = new Set([
      ...Object.values(bookingCreations).map((move) => move.event),
      ...bookingStatuses.flatMap((status) =>
        Object.values(bookingLifecycle[status].on).flatMap((entry) => (isMove(entry) ? [entry.event] : [])),
      ),
    ]);
    expect([...recorded].sort()).toEqual([...bookingEventTypes].sort());
  });

  it('has one move between any two statuses, so the database knows a change by its statuses alone', () => {
    const pairs = new Set<string>();
    const moves: [BookingStatus | null, BookingStatus][] = [
      ...Object.values(bookingCreations).map((move): [null, BookingStatus] => [null, move.to]),
      ...bookingStatuses.flatMap((status) =>
        Object.values(bookingLifecycle[status].on).flatMap((entry): [BookingStatus, BookingStatus][] =>
          isMove(entry) ? [[status, entry.to]] : [],
        ),
      ),
    ];
    for (const [from, to] of moves) {
      expect(pairs.has(`${from} ${to}`), `${from} → ${to}`).toBe(false);
      pairs.add(`${from} ${to}`);
    }
    expect(() => lifecycleSql()).not.toThrow();
  });
});
