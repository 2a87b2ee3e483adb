import type { SeatBlock, SeatState, Show } from '@seat-hold/client';
import { useEffect, useState } from 'preact/hooks';
import { plural } from '../../format.js';
import { seatState, type SeatMapModel, type SeatRef } from '../../seatmap/model.js';
import { SeatMap } from '../../seatmap/SeatMap.js';
import { useIdempotentCalls } from '../../idempotency.js';
import { Outcome } from '../shared/Outcome.js';
import { SeatCountField } from '../shared/SeatCountField.js';
import { useAction, useAdmin } from '../shared/session.js';

/** Seats the admin may pick: free ones (to block or comp) and blocked ones (to comp). */
const choosable = (state: SeatState) => state === 'F' || state === 'B';
/** Chosen seats listed by id up to this many, then counted. */
const LISTED = 24;

/**
 * The seat map with the admin's choice on it, and what can be done with the chosen seats:
 * block them (house seats) or issue them as a comp.
 */
export function SeatedHouseSeats({
  show,
  model,
  onChanged,
}: {
  show: Show;
  model: SeatMapModel | undefined;
  onChanged: () => void;
}) {
  const { api } = useAdmin();
  const action = useAction();
  // A retry after a lost answer blocks or comps once (see useIdempotentCalls).
  const blocking = useIdempotentCalls();
  const comping = useIdempotentCalls();
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [note, setNote] = useState('');
  const [customer, setCustomer] = useState('');
  const [done, setDone] = useState<string>();

  // A chosen seat someone holds or buys meanwhile can no longer be blocked or comped.
  useEffect(() => {
    if (model === undefined) return;
    const kept = [...selected].filter((id) => choosable(seatState(model, id) ?? 'S'));
    if (kept.length !== selected.size) setSelected(new Set(kept));
  }, [model, selected]);

  const states = model === undefined ? [] : [...selected].map((id) => seatState(model, id));
  const allFree = selected.size > 0 && states.every((state) => state === 'F');
  const ids = [...selected];

  const toggle = (seat: SeatRef) => {
    setDone(undefined);
    const next = new Set(selected);
    if (next.has(seat.id)) next.delete(seat.id);
    else next.add(seat.id);
    setSelected(next);
  };

  async function block() {
    const trimmed = note.trim();
    const body = { seat_ids: ids, ...(trimmed ? { note: trimmed } : {}) };
    const made = await action.run(() =>
      blocking.send(body, (idempotencyKey) => api.blockSeats(show.id, body, { idempotencyKey })),
    );
    if (made === undefined) return;
    setDone(`Blocked ${plural(made.seats, 'seat')}.`);
    setSelected(new Set());
    setNote('');
    onChanged();
  }

  async function comp() {
    const ref = customer.trim();
    const body = { seat_ids: ids, ...(ref ? { customer_ref: ref } : {}) };
    const booking = await action.run(() =>
      comping.send(body, (idempotencyKey) => api.issueComp(show.id, body, { idempotencyKey })),
    );
    if (booking === undefined) return;
    setDone(`Comp issued: ${plural(booking.seats, 'seat')}, booking ${booking.id}.`);
    setSelected(new Set());
    setCustomer('');
    onChanged();
  }

  return (
    <div class="show-layout">
      <section class="panel" aria-labelledby="map-title">
        <h2 id="map-title">Seat map</h2>
        {model === undefined ? (
          <p class="muted seat-map-loading">Loading the seat map…</p>
        ) : (
          <SeatMap
            model={model}
            selected={selected}
            onToggle={toggle}
            canChoose={choosable}
            label={`Seat map of ${show.title}: choose free seats to block or comp, blocked seats to comp`}
          />
        )}
      </section>
      <section class="panel house-actions" aria-labelledby="house-title" data-panel="house-seats">
        <h2 id="house-title">Chosen seats</h2>
        <p class="seat-list chosen-seats" aria-live="polite" data-selected-count={selected.size}>
          {selected.size === 0
            ? 'Choose seats on the map.'
            : `${plural(selected.size, 'seat')}: ${ids.slice(0, LISTED).join(', ')}${ids.length > LISTED ? '…' : ''}`}
        </p>
        <form
          class="stack"
          onSubmit={(event) => {
            event.preventDefault();
            void block();
          }}
        >
          <TextField
            label="Note"
            hint="why, for whom"
            maxLength={500}
            value={note}
            onChange={setNote}
            field="block-note"
          />
          <button type="submit" disabled={action.busy || !allFree} data-action="block">
            Block {selected.size > 0 ? plural(selected.size, 'seat') : 'seats'}
          </button>
          {selected.size > 0 && !allFree && (
            <p class="muted small">Blocked seats are already kept back: they can be comped, or released below.</p>
          )}
        </form>
        <form
          class="stack"
          onSubmit={(event) => {
            event.preventDefault();
            void comp();
          }}
        >
          <TextField
            label="Customer reference"
            hint="optional"
            maxLength={128}
            value={customer}
            onChange={setCustomer}
            field="comp-customer"
          />
          <button type="submit" class="secondary" disabled={action.busy || selected.size === 0} data-action="comp">
            Issue comp {selected.size > 0 ? `(${plural(selected.size, 'seat')})` : ''}
          </button>
        </form>
        <div class="actions">
          <button
            type="button"
            class="secondary"
            disabled={selected.size === 0}
            onClick={() => setSelected(new Set())}
            data-action="clear-selection"
          >
            Clear choice
          </button>
        </div>
        <Outcome error={action.error} done={done} />
      </section>
    </div>
  );
}

/** General admission: house seats and comps by number, a comp optionally out of a block. */
export function GeneralHouseSeats({
  show,
  blocks,
  onChanged,
}: {
  show: Show;
  blocks: SeatBlock[] | undefined;
  onChanged: () => void;
}) {
  const { api } = useAdmin();
  const action = useAction();
  // A retry after a lost answer blocks or comps once (see useIdempotentCalls).
  const blocking = useIdempotentCalls();
  const comping = useIdempotentCalls();
  const [blockSeats, setBlockSeats] = useState('2');
  const [note, setNote] = useState('');
  const [compSeats, setCompSeats] = useState('2');
  const [fromBlock, setFromBlock] = useState('');
  const [customer, setCustomer] = useState('');
  const [done, setDone] = useState<string>();

  async function block() {
    const trimmed = note.trim();
    const body = { seats: Number(blockSeats), ...(trimmed ? { note: trimmed } : {}) };
    const made = await action.run(() =>
      blocking.send(body, (idempotencyKey) => api.blockSeats(show.id, body, { idempotencyKey })),
    );
    if (made === undefined) return;
    setDone(`Blocked ${plural(made.seats, 'seat')}.`);
    setNote('');
    onChanged();
  }

  async function comp() {
    const ref = customer.trim();
    const body = {
      seats: Number(compSeats),
      ...(fromBlock ? { block_id: fromBlock } : {}),
      ...(ref ? { customer_ref: ref } : {}),
    };
    const booking = await action.run(() =>
      comping.send(body, (idempotencyKey) => api.issueComp(show.id, body, { idempotencyKey })),
    );
    if (booking === undefined) return;
    setDone(`Comp issued: ${plural(booking.seats, 'seat')}, booking ${booking.id}.`);
    setCustomer('');
    setFromBlock('');
    onChanged();
  }

  return (
    <section class="panel" aria-labelledby="house-title" data-panel="house-seats">
      <h2 id="house-title">House seats and comps</h2>
      <div class="two-forms">
        <form
          class="stack"
          onSubmit={(event) => {
            event.preventDefault();
            void block();
          }}
        >
          <h3>Block seats</h3>
          <SeatCountField value={blockSeats} onChange={setBlockSeats} field="block-seats" />
          <TextField
            label="Note"
            hint="why, for whom"
            maxLength={500}
            value={note}
            onChange={setNote}
            field="block-note"
          />
          <button type="submit" disabled={action.busy} data-action="block">
            Block seats
          </button>
        </form>
        <form
          class="stack"
          onSubmit={(event) => {
            event.preventDefault();
            void comp();
          }}
        >
          <h3>Issue a comp</h3>
          <SeatCountField value={compSeats} onChange={setCompSeats} field="comp-seats" />
          <label>
            From
            <select
              value={fromBlock}
              onChange={(event) => setFromBlock(event.currentTarget.value)}
              data-field="comp-block"
            >
              <option value="">Free seats</option>
              {blocks?.map((block) => (
                <option key={block.id} value={block.id}>
                  Block of {plural(block.seats, 'seat')}
                  {block.note ? `: ${block.note}` : ''}
                </option>
              ))}
            </select>
          </label>
          <TextField
            label="Customer reference"
            hint="optional"
            maxLength={128}
            value={customer}
            onChange={setCustomer}
            field="comp-customer"
          />
          <button type="submit" class="secondary" disabled={action.busy} data-action="comp">
            Issue comp
          </button>
        </form>
      </div>
      <Outcome error={action.error} done={done} />
    </section>
  );
}

/** A block's note or a comp's customer reference: the same field in both house-seat forms. */
function TextField(props: {
  label: string;
  hint: string;
  maxLength: number;
  value: string;
  onChange: (value: string) => void;
  field: string;
}) {
  return (
    <label>
      <span>
        {props.label} <span class="muted">({props.hint})</span>
      </span>
      <input
        maxLength={props.maxLength}
        value={props.value}
        onInput={(event) => props.onChange(event.currentTarget.value)}
        data-field={props.field}
      />
    </label>
  );
}
