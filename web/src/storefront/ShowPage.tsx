import type { Show } from '@seat-hold/client';
import { useCallback, useEffect, useId, useMemo, useState } from 'preact/hooks';
import { api } from '../api.js';
import { formatDateTime, formatMoney, plural } from '../format.js';
import { describeError, problemCode, wordsFor } from '../problems.js';
import { seatState, type SeatMapModel, type SeatRef } from '../seatmap/model.js';
import { SeatMap } from '../seatmap/SeatMap.js';
import { useLiveSeatMap } from '../seatmap/useLiveSeatMap.js';
import { useLatestRequest } from '../useLatestRequest.js';
import { Count } from './ShowList.js';
import { HoldPanel } from './HoldPanel.js';
import { useHold, type HoldControls } from './useHold.js';

/** The API holds at most this many seats at once (MAX_SEATS_PER_BOOKING's default, the schema's maximum). */
const MAX_PER_HOLD = 10;

export function ShowPage({ id }: { id: string }) {
  const [show, setShow] = useState<Show>();
  const [error, setError] = useState<string>();
  // The page may move to another show before this one's answer came.
  const start = useLatestRequest();

  useEffect(() => {
    const isLatest = start();
    setShow(undefined);
    setError(undefined);
    api.getShow(id).then(
      (answer) => isLatest() && setShow(answer),
      (problem: unknown) =>
        // A malformed id in the address is, to a buyer, a show that does not exist.
        isLatest() &&
        setError(problemCode(problem) === 'validation_failed' ? wordsFor('show_not_found') : describeError(problem)),
    );
  }, [id, start]);

  if (error)
    return (
      <section class="panel">
        <p class="alert" role="alert">
          {error}
        </p>
        <a href="/">See all shows</a>
      </section>
    );
  if (show === undefined) return <p class="muted">Loading…</p>;
  return <Storefront key={show.id} show={show} />;
}

function Storefront({ show }: { show: Show }) {
  const seated = show.seating === 'assigned';
  const live = useLiveSeatMap(show.id, seated);
  const controls = useHold(show.id);
  const { held } = controls;
  const available = live.availability?.available_seats ?? show.available_seats;
  const holding = held !== undefined;
  const mine = useMemo(
    () => new Set(held && ['PENDING', 'CONFIRMED'].includes(held.booking.status) ? (held.booking.seat_ids ?? []) : []),
    [held],
  );

  const { reload } = live;
  const { refresh } = controls;
  const onEnded = useCallback(() => {
    // The seats read as free from expires_at on; the booking says EXPIRED once swept.
    void reload();
    void refresh();
  }, [reload, refresh]);

  return (
    <article>
      <header class="panel">
        <h1>{show.title}</h1>
        <p class="muted">
          {formatDateTime(show.start_time)} · {seated ? 'Reserved seating' : 'General admission'}
        </p>
        {show.description && <p>{show.description}</p>}
        <Count available={available} live={live.status === 'live'} />
        <SalesWindow show={show} />
      </header>
      <div class="show-layout">
        <div>
          {seated ? (
            <SeatedPurchase show={show} model={live.model} mine={mine} controls={controls} disabled={holding} />
          ) : (
            <QuantityPurchase show={show} available={available} controls={controls} disabled={holding} />
          )}
          {live.error && (
            <p class="alert" role="alert">
              {live.error}
            </p>
          )}
        </div>
        <aside>
          {holding ? (
            <HoldPanel show={show} controls={controls} onEnded={onEnded} />
          ) : (
            <section class="panel" aria-labelledby="order-title">
              <h2 id="order-title">Your order</h2>
              <p class="muted">
                {seated ? 'Choose seats on the map, or let us pick the best ones.' : 'Choose how many tickets.'} They
                are held for you while you pay, with a timer showing how long.
              </p>
              {controls.error && (
                <p class="alert" role="alert" data-code={controls.error.code}>
                  {controls.error.message}
                </p>
              )}
            </section>
          )}
        </aside>
      </div>
    </article>
  );
}

function SalesWindow({ show }: { show: Show }) {
  const now = Date.now();
  if (show.sales_start && Date.parse(show.sales_start) > now)
    return <p class="notice">Sales open {formatDateTime(show.sales_start)}.</p>;
  if (show.sales_end && Date.parse(show.sales_end) <= now) return <p class="alert">Sales have closed.</p>;
  if (show.sales_end) return <p class="muted">Sales close {formatDateTime(show.sales_end)}.</p>;
  return null;
}

function perHold(show: Show): number {
  return Math.min(MAX_PER_HOLD, show.max_seats_per_customer ?? MAX_PER_HOLD);
}

function QuantityPicker({ max, value, onChange }: { max: number; value: number; onChange: (n: number) => void }) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>Tickets</label>
      <select id={id} value={value} onChange={(event) => onChange(Number(event.currentTarget.value))}>
        {Array.from({ length: max }, (_, index) => index + 1).map((n) => (
          <option key={n} value={n}>
            {n}
          </option>
        ))}
      </select>
    </div>
  );
}

/** A show that sells more than one free type: the buyer picks tickets by type, with prices. */
function isPriced(show: Show): boolean {
  return show.ticket_types.length > 1 || show.ticket_types.some((type) => type.price > 0);
}

function QuantityPurchase({
  show,
  available,
  controls,
  disabled,
}: {
  show: Show;
  available: number;
  controls: HoldControls;
  disabled: boolean;
}) {
  const [wanted, setQuantity] = useState(1);
  if (isPriced(show))
    return <TypedPurchase show={show} available={available} controls={controls} disabled={disabled} />;
  // Never more than are left (one still, when none are: the answer then says sold out in words).
  const max = Math.max(1, Math.min(perHold(show), available));
  const quantity = Math.min(wanted, max);
  return (
    <section class="panel" aria-labelledby="buy-title">
      <h2 id="buy-title">Buy tickets</h2>
      <p class="muted">General admission: any free place on the night.</p>
      <form
        class="row"
        onSubmit={(event) => {
          event.preventDefault();
          void controls.hold({ seats: quantity });
        }}
      >
        <QuantityPicker max={max} value={quantity} onChange={setQuantity} />
        <button type="submit" disabled={disabled || controls.busy}>
          Hold {plural(quantity, 'ticket')}
        </button>
      </form>
    </section>
  );
}

/** Tickets by type: a quantity for each type on sale, never more than are left, and the total. */
function TypedPurchase({
  show,
  available,
  controls,
  disabled,
}: {
  show: Show;
  available: number;
  controls: HoldControls;
  disabled: boolean;
}) {
  const [quantities, setQuantities] = useState<Record<string, number>>({});
  const limit = Math.min(perHold(show), available);
  const count = Object.values(quantities).reduce((sum, n) => sum + n, 0);
  const total = show.ticket_types.reduce((sum, type) => sum + (quantities[type.code] ?? 0) * type.price, 0);
  const money = (minor: number) => formatMoney(minor, show.currency);
  return (
    <section class="panel" aria-labelledby="buy-title">
      <h2 id="buy-title">Buy tickets</h2>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          const tickets = show.ticket_types
            .filter((type) => (quantities[type.code] ?? 0) > 0)
            .map((type) => ({ type: type.code, quantity: quantities[type.code]! }));
          if (tickets.length > 0) void controls.hold({ tickets });
        }}
      >
        <ul class="ticket-types">
          {show.ticket_types.map((type) => {
            const mine = quantities[type.code] ?? 0;
            const window = typeWindow(type);
            // What this type may still go up to: the seats left after the other types chosen, and its own cap.
            const max =
              window === undefined
                ? Math.max(0, Math.min(limit - (count - mine), type.max_per_booking ?? Infinity, type.available))
                : 0;
            return (
              <li key={type.code} class="ticket-type">
                <TypeQuantity
                  label={type.name}
                  price={money(type.price)}
                  max={max}
                  value={mine}
                  onChange={(n) => setQuantities({ ...quantities, [type.code]: n })}
                />
                {window && <p class="muted small">{window}</p>}
              </li>
            );
          })}
        </ul>
        <p class="total">
          Total <output>{money(total)}</output>
        </p>
        <button type="submit" disabled={disabled || controls.busy || count === 0}>
          Hold {count > 0 ? plural(count, 'ticket') : 'tickets'}
        </button>
      </form>
      {available === 0 && <p class="muted">Sold out right now.</p>}
    </section>
  );
}

/** Why a type cannot be bought now (its own sales window, by this browser's clock), or undefined. */
function typeWindow(type: Show['ticket_types'][number]): string | undefined {
  const now = Date.now();
  if (type.available_from && Date.parse(type.available_from) > now) {
    return `On sale from ${formatDateTime(type.available_from)}.`;
  }
  if (type.available_until && Date.parse(type.available_until) <= now) return 'No longer on sale.';
  return undefined;
}

function TypeQuantity({
  label,
  price,
  max,
  value,
  onChange,
}: {
  label: string;
  price: string;
  max: number;
  value: number;
  onChange: (n: number) => void;
}) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>
        {label} <span class="price">{price}</span>
      </label>
      <select id={id} value={value} onChange={(event) => onChange(Number(event.currentTarget.value))}>
        {Array.from({ length: Math.max(max, value) + 1 }, (_, n) => n).map((n) => (
          <option key={n} value={n}>
            {n}
          </option>
        ))}
      </select>
    </div>
  );
}

function SeatedPurchase({
  show,
  model,
  mine,
  controls,
  disabled,
}: {
  show: Show;
  model: SeatMapModel | undefined;
  mine: ReadonlySet<string>;
  controls: HoldControls;
  disabled: boolean;
}) {
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [note, setNote] = useState<string>();
  const [best, setBest] = useState(2);
  const [category, setCategory] = useState('');
  const limit = perHold(show);
  const categoryId = useId();

  // A chosen seat someone else takes meanwhile is let go, with a word why. Not while this
  // buyer's own hold of them is under way: its seat events may come before its answer.
  const { busy } = controls;
  useEffect(() => {
    if (model === undefined || busy) return;
    const gone = [...selected].filter((id) => seatState(model, id) !== 'F');
    if (gone.length === 0) return;
    setSelected(new Set([...selected].filter((id) => !gone.includes(id))));
    setNote(`${gone.join(', ')} ${gone.length === 1 ? 'was' : 'were'} just taken by someone else.`);
  }, [model, selected, busy]);

  const toggle = (seat: SeatRef) => {
    if (disabled) return;
    setNote(undefined);
    const next = new Set(selected);
    if (next.has(seat.id)) next.delete(seat.id);
    else if (next.size >= limit) return setNote(`At most ${plural(limit, 'seat')} at once.`);
    else next.add(seat.id);
    setSelected(next);
  };

  const holdChosen = async () => {
    const booking = await controls.hold({ seat_ids: [...selected] });
    if (booking === undefined) return;
    setSelected(new Set());
    setNote(undefined);
  };

  return (
    <section class="panel" aria-labelledby="buy-title">
      <h2 id="buy-title">Choose your seats</h2>
      {model === undefined ? (
        <p class="muted seat-map-loading">Loading the seat map…</p>
      ) : (
        <SeatMap
          model={model}
          selected={selected}
          mine={mine}
          onToggle={disabled ? undefined : toggle}
          label={`Seat map of ${show.title}`}
        />
      )}
      <div class="row chosen">
        <p class="seat-list" aria-live="polite">
          {selected.size === 0 ? 'No seats chosen yet.' : `Chosen: ${[...selected].join(', ')}`}
        </p>
        <button
          type="button"
          disabled={disabled || controls.busy || selected.size === 0}
          onClick={() => void holdChosen()}
        >
          Hold {selected.size > 0 ? plural(selected.size, 'seat') : 'seats'}
        </button>
      </div>
      {/* Always there, one line tall: a note coming and going does not move the form below. */}
      <p class="muted seat-note" aria-live="polite">
        {note ?? '\u00a0'}
      </p>
      <form
        class="row best-available"
        onSubmit={(event) => {
          event.preventDefault();
          void controls.hold({ seats: best, ...(category ? { category } : {}) });
        }}
      >
        <QuantityPicker max={limit} value={best} onChange={setBest} />
        {model !== undefined && model.categories.length > 1 && (
          <div class="field">
            <label for={categoryId}>Category</label>
            <select id={categoryId} value={category} onChange={(event) => setCategory(event.currentTarget.value)}>
              <option value="">Any</option>
              {model.categories.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </div>
        )}
        <button type="submit" class="secondary" disabled={disabled || controls.busy}>
          Best {plural(best, 'seat')} for me
        </button>
      </form>
    </section>
  );
}
