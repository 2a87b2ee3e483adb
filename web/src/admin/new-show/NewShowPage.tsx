import type { NewShow, Show } from '@seat-hold/client';
import { useState } from 'preact/hooks';
import { formatDateTime, plural } from '../../format.js';
import { newKey, toSeatMap, type DraftSection } from './seatMapDraft.js';
import { SeatMapBuilder } from './SeatMapBuilder.js';
import { EMPTY_TICKETS, TicketTypesEditor, ticketTypesBody, type TicketsDraft } from './TicketTypesEditor.js';
import { useIdempotentCalls } from '../../idempotency.js';
import { SeatCountField } from '../shared/SeatCountField.js';
import { useAction, useAdmin } from '../shared/session.js';
import { EMPTY_FORM, ShowFields, type ShowForm } from '../shared/ShowFields.js';
import { localInputToIso } from '../shared/time.js';

type Seating = 'general_admission' | 'assigned';

export function NewShowPage() {
  const { api } = useAdmin();
  const action = useAction();
  const [form, setForm] = useState<ShowForm>(EMPTY_FORM);
  const [seating, setSeating] = useState<Seating>('assigned');
  const [totalSeats, setTotalSeats] = useState('100');
  const [sections, setSections] = useState<DraftSection[]>(() => [{ key: newKey(), name: 'Stalls', rows: [] }]);
  const [tickets, setTickets] = useState<TicketsDraft>(EMPTY_TICKETS);
  const [created, setCreated] = useState<Show>();
  // A double submit, or a retry after a lost answer, creates the show once.
  const idempotent = useIdempotentCalls();

  async function submit() {
    const body = newShowBody(form, seating, totalSeats, sections, tickets);
    if ('problem' in body) return action.setError(body.problem);
    const show = await action.run(() =>
      idempotent.send(body.show, (idempotencyKey) => api.createShow(body.show, { idempotencyKey })),
    );
    if (show === undefined) return;
    setCreated(show);
  }

  if (created !== undefined)
    return (
      <section class="panel" aria-labelledby="created-title" data-created-show={created.id}>
        <h1 id="created-title">Show created</h1>
        <p class="notice" role="status">
          {created.title}, {formatDateTime(created.start_time)}: {plural(created.total_seats, 'seat')}
          {created.seating === 'assigned' ? ' on a seat map' : ', general admission'}.
        </p>
        <div class="actions">
          <a class="button" href={`/admin/shows/${created.id}`} data-link="created-show">
            Open the on-sale view
          </a>
          <button
            type="button"
            class="secondary"
            onClick={() => {
              setCreated(undefined);
              setForm(EMPTY_FORM);
              setTickets(EMPTY_TICKETS);
            }}
          >
            Create another show
          </button>
        </div>
      </section>
    );

  return (
    <section aria-labelledby="new-show-title">
      <h1 id="new-show-title">New show</h1>
      <form
        class="panel"
        data-form="new-show"
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <ShowFields form={form} onChange={setForm} idPrefix="new-show" />
        <fieldset class="seating-choice">
          <legend>Seating</legend>
          <label class="choice">
            <input
              type="radio"
              name="seating"
              value="assigned"
              checked={seating === 'assigned'}
              onChange={() => setSeating('assigned')}
              data-field="seating-assigned"
            />
            Seat map: sections and rows, buyers choose seats
          </label>
          <label class="choice">
            <input
              type="radio"
              name="seating"
              value="general_admission"
              checked={seating === 'general_admission'}
              onChange={() => setSeating('general_admission')}
              data-field="seating-general"
            />
            General admission: a number of places
          </label>
        </fieldset>
        {seating === 'general_admission' ? (
          <SeatCountField value={totalSeats} onChange={setTotalSeats} field="total_seats" />
        ) : (
          <SeatMapBuilder sections={sections} onChange={setSections} />
        )}
        <TicketTypesEditor draft={tickets} onChange={setTickets} />
        <div class="actions form-submit">
          <button type="submit" disabled={action.busy} data-action="create-show">
            {action.busy ? 'Creating…' : 'Create show'}
          </button>
        </div>
        {action.error && (
          <p class="alert" role="alert">
            {action.error}
          </p>
        )}
      </form>
    </section>
  );
}

function newShowBody(
  form: ShowForm,
  seating: Seating,
  totalSeats: string,
  sections: DraftSection[],
  tickets: TicketsDraft,
): { show: NewShow } | { problem: string } {
  const start = localInputToIso(form.start);
  if (start === undefined) return { problem: 'Choose when the show starts.' };
  const types = ticketTypesBody(tickets);
  if ('problem' in types) return types;
  const show: NewShow = {
    title: form.title.trim(),
    start_time: start,
    late_confirm: form.lateConfirm,
    ...types.fields,
  };
  if (form.description.trim() !== '') show.description = form.description.trim();
  if (form.maxPerCustomer !== '') show.max_seats_per_customer = Number(form.maxPerCustomer);
  const salesStart = localInputToIso(form.salesStart);
  const salesEnd = localInputToIso(form.salesEnd);
  if (salesStart !== undefined) show.sales_start = salesStart;
  if (salesEnd !== undefined) show.sales_end = salesEnd;
  if (seating === 'general_admission') {
    const seats = Number(totalSeats);
    if (!Number.isInteger(seats) || seats < 1) return { problem: 'Seats: a whole number, at least 1.' };
    return { show: { ...show, total_seats: seats } };
  }
  const map = toSeatMap(sections);
  return 'problem' in map ? map : { show: { ...show, seat_map: map.map } };
}
