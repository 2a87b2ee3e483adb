import type { Booking, HoldRequest } from '@seat-hold/client';
import { useCallback, useState } from 'preact/hooks';
import { api } from '../api.js';
import { clockFromAnswer, type ServerClock } from '../clock.js';
import { customerRef } from '../customer.js';
import { useIdempotentCalls } from '../idempotency.js';
import { describeError, problemCode } from '../problems.js';
import type { ProblemCode } from '@seat-hold/client';

/** This buyer's booking on a show, kept for the browser tab (a reload keeps the hold). */
export interface HeldBooking {
  booking: Booking;
  /** The hold_token: confirms, extends and cancels this booking. */
  token: string;
  clock: ServerClock;
}

export interface HoldError {
  message: string;
  code: ProblemCode | undefined;
}

const storageKey = (showId: string) => `seat-hold.hold.${showId}`;

function load(showId: string): HeldBooking | undefined {
  try {
    const text = sessionStorage.getItem(storageKey(showId));
    return text === null ? undefined : (JSON.parse(text) as HeldBooking);
  } catch {
    // Storage refused (site data blocked) or a damaged entry: no hold to resume.
    return undefined;
  }
}

function save(showId: string, held: HeldBooking | undefined): void {
  try {
    if (held === undefined) sessionStorage.removeItem(storageKey(showId));
    else sessionStorage.setItem(storageKey(showId), JSON.stringify(held));
  } catch {
    // Without storage the hold lives in this page only; a reload loses sight of it (not the seats).
  }
}

/**
 * Holding, confirming, extending and cancelling on one show. Every call carries an
 * Idempotency-Key that a retry after a lost answer sends again (useIdempotentCalls for the
 * hold; the booking and its state for the others), so trying again never holds twice.
 */
export function useHold(showId: string) {
  const [held, setHeld] = useState<HeldBooking | undefined>(() => load(showId));
  const [error, setError] = useState<HoldError>();
  const [busy, setBusy] = useState(false);

  const holding = useIdempotentCalls();
  const keep = useCallback(
    (next: HeldBooking | undefined) => {
      setHeld(next);
      save(showId, next);
    },
    [showId],
  );

  async function run<T>(action: () => Promise<T>): Promise<T | undefined> {
    setBusy(true);
    setError(undefined);
    try {
      return await action();
    } catch (problem) {
      setError({ message: describeError(problem), code: problemCode(problem) });
      return undefined;
    } finally {
      setBusy(false);
    }
  }

  const hold = (request: HoldRequest) =>
    run(async () => {
      const body = { ...request, customer_ref: customerRef() };
      const sentAt = Date.now();
      const answer = await holding.send(body, (idempotencyKey) => api.hold(showId, body, { idempotencyKey }));
      const { hold_token: token, ...booking } = answer;
      keep({ booking, token, clock: clockFromAnswer(booking.created_at, sentAt, Date.now()) });
      return booking;
    });

  /** Confirm (after the stand-in payment), extend or cancel the held booking. */
  const change = (verb: 'confirm' | 'extend' | 'cancel') =>
    run(async () => {
      if (held === undefined) return undefined;
      const sentAt = Date.now();
      const booking = await api[verb](held.booking.id, {
        holdToken: held.token,
        idempotencyKey: `${held.booking.id}:${verb}:${held.booking.updated_at}`,
      });
      const clock = verb === 'extend' ? clockFromAnswer(booking.updated_at, sentAt, Date.now()) : held.clock;
      keep({ ...held, booking, clock });
      return booking;
    });

  /** Read the booking again (its hold ran out here: did the server expire it?). */
  const refresh = () =>
    run(async () => {
      if (held === undefined) return undefined;
      const booking = await api.getBooking(held.booking.id, { holdToken: held.token });
      keep({ ...held, booking });
      return booking;
    });

  return {
    held,
    error,
    busy,
    hold,
    confirm: () => change('confirm'),
    extend: () => change('extend'),
    cancel: () => change('cancel'),
    refresh,
    clearError: () => setError(undefined),
    forget: () => keep(undefined),
  };
}

export type HoldControls = ReturnType<typeof useHold>;
