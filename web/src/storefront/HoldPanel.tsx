import type { Booking, Show } from '@seat-hold/client';
import { useEffect, useRef, useState } from 'preact/hooks';
import { msUntil } from '../clock.js';
import { formatCountdown, formatMoney, plural } from '../format.js';
import type { HoldControls } from './useHold.js';

/** Under this much time left, the countdown turns urgent. */
const URGENT_MS = 30_000;

/** What a screen reader is told as the hold runs out: the text changes only at these marks. */
function warning(ms: number): string {
  if (ms <= 10_000) return '10 seconds left to pay.';
  if (ms <= 30_000) return '30 seconds left to pay.';
  if (ms <= 60_000) return '1 minute left to pay.';
  return '';
}

/**
 * The buyer's hold: a countdown to expires_at on the server's clock, extend, a stand-in
 * payment step that confirms, and cancel. When the countdown reaches zero the seats are
 * back on sale; a show with late_confirm "reclaim" still takes the payment if they are free.
 */
export function HoldPanel({ show, controls, onEnded }: { show: Show; controls: HoldControls; onEnded: () => void }) {
  const { held, busy, error } = controls;
  const booking = held?.booking;
  const [left, setLeft] = useState(() => (held ? msUntil(held.booking.expires_at, held.clock) : 0));
  // The deadline onEnded was called for: once per deadline, however often this re-renders.
  const ended = useRef<string | undefined>(undefined);

  useEffect(() => {
    if (held === undefined || held.booking.status !== 'PENDING') return;
    const deadline = `${held.booking.id}@${held.booking.expires_at}`;
    const tick = () => {
      const ms = msUntil(held.booking.expires_at, held.clock);
      setLeft(ms);
      if (ms === 0) {
        clearInterval(timer);
        if (ended.current !== deadline) {
          ended.current = deadline;
          onEnded();
        }
      }
    };
    const timer = setInterval(tick, 250);
    tick();
    return () => clearInterval(timer);
  }, [held, onEnded]);

  if (booking === undefined) return null;
  const seats = booking.seat_ids?.join(', ') ?? plural(booking.seats, 'ticket');
  const lapsed = booking.status === 'EXPIRED' || (booking.status === 'PENDING' && left === 0);

  return (
    <section class="panel hold-panel" aria-labelledby="hold-title" data-status={lapsed ? 'EXPIRED' : booking.status}>
      {booking.status === 'CONFIRMED' ? (
        <>
          <h2 id="hold-title">You're going!</h2>
          <p class="notice" role="status">
            Booking confirmed{booking.late ? ' (paid after the hold ran out, the seats were still free)' : ''}.
          </p>
          <p>
            <span class="seat-list">{seats}</span>
          </p>
          <Lines booking={booking} />
          <p class="muted">
            Booking number <code>{booking.id}</code>
          </p>
          <div class="actions">
            <button type="button" class="secondary" onClick={controls.forget}>
              Book more
            </button>
          </div>
        </>
      ) : booking.status === 'CANCELLED' ? (
        <>
          <h2 id="hold-title">Hold cancelled</h2>
          <p role="status">The seats are back on sale.</p>
          <div class="actions">
            <button type="button" class="secondary" onClick={controls.forget}>
              Choose again
            </button>
          </div>
        </>
      ) : lapsed ? (
        <>
          <h2 id="hold-title">Your hold ran out</h2>
          <p class="alert" role="alert">
            Your hold expired and the seats went back on sale.
          </p>
          <div class="actions">
            {show.late_confirm === 'reclaim' && (
              <button type="button" disabled={busy} onClick={() => void controls.confirm()}>
                Pay anyway if still free
              </button>
            )}
            <button type="button" class="secondary" onClick={controls.forget}>
              Choose again
            </button>
          </div>
        </>
      ) : (
        <>
          <h2 id="hold-title">Your seats are held</h2>
          <p class="seat-list">{seats}</p>
          <Lines booking={booking} />
          <p>
            <span class="visually-hidden">Time left to pay: </span>
            <span class={`countdown ${left < URGENT_MS ? 'urgent' : ''}`} role="timer" data-ms-left={left}>
              {formatCountdown(left)}
            </span>
          </p>
          {/* Said by screen readers at a few marks, not every second. */}
          <p class="visually-hidden" aria-live="assertive">
            {warning(left)}
          </p>
          <p class="muted">Pay before the timer runs out, or the seats go back on sale.</p>
          <div class="payment">
            <h3>Payment</h3>
            <p class="muted">This demo takes no money: paying confirms the booking.</p>
            <div class="actions">
              <button type="button" disabled={busy} onClick={() => void controls.confirm()}>
                Pay and confirm
              </button>
              <button type="button" class="secondary" disabled={busy} onClick={() => void controls.extend()}>
                More time
              </button>
              <button type="button" class="danger" disabled={busy} onClick={() => void controls.cancel()}>
                Cancel
              </button>
            </div>
          </div>
        </>
      )}
      {error && (
        <p class="alert" role="alert" data-code={error.code}>
          {error.message}
        </p>
      )}
    </section>
  );
}

/** What the booking sells, at the prices it was held at; nothing for a single free line. */
function Lines({ booking }: { booking: Booking }) {
  if (booking.total === 0 && booking.lines.length <= 1) return null;
  const money = (minor: number) => formatMoney(minor, booking.currency);
  return (
    <table class="lines">
      <tbody>
        {booking.lines.map((line, index) => (
          <tr key={index}>
            <td>
              {line.quantity} × {line.name}
              {line.seat_ids ? ` (${line.seat_ids.join(', ')})` : ''}
            </td>
            <td class="amount">{money(line.quantity * line.unit_price)}</td>
          </tr>
        ))}
      </tbody>
      <tfoot>
        <tr>
          <th scope="row">Total</th>
          <td class="amount booking-total">{money(booking.total)}</td>
        </tr>
      </tfoot>
    </table>
  );
}
