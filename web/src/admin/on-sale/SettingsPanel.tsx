import type { Show, ShowChanges } from '@seat-hold/client';
import { useState } from 'preact/hooks';
import { Outcome } from '../shared/Outcome.js';
import { SeatCountField } from '../shared/SeatCountField.js';
import { useAction, useAdmin } from '../shared/session.js';
import { formOf, ShowFields, type ShowForm } from '../shared/ShowFields.js';
import { localInputToIso } from '../shared/time.js';

/** The show's title, times and checkout settings; only what changed is sent. */
export function SettingsPanel({ show, onSaved }: { show: Show; onSaved: (show: Show) => void }) {
  const { api } = useAdmin();
  const action = useAction();
  const [form, setForm] = useState<ShowForm>(() => formOf(show));
  const [totalSeats, setTotalSeats] = useState(String(show.total_seats));
  const [done, setDone] = useState<string>();
  const general = show.seating === 'general_admission';

  async function save() {
    setDone(undefined);
    const changes = changesOf(show, form, general ? totalSeats : undefined);
    if (typeof changes === 'string') return action.setError(changes);
    if (Object.keys(changes).length === 0) return setDone('Nothing changed.');
    const saved = await action.run(() => api.updateShow(show.id, changes));
    if (saved === undefined) return;
    setForm(formOf(saved));
    setTotalSeats(String(saved.total_seats));
    setDone('Saved.');
    onSaved(saved);
  }

  return (
    <section class="panel" id="settings" aria-labelledby="settings-title">
      <h2 id="settings-title">Settings</h2>
      <form
        data-form="show-settings"
        onSubmit={(event) => {
          event.preventDefault();
          void save();
        }}
      >
        <ShowFields form={form} onChange={setForm} idPrefix="settings" />
        {general && <SeatCountField value={totalSeats} onChange={setTotalSeats} field="total_seats" />}
        <div class="actions">
          <button type="submit" disabled={action.busy} data-action="save-settings">
            {action.busy ? 'Saving…' : 'Save changes'}
          </button>
          <button
            type="button"
            class="secondary"
            disabled={action.busy}
            onClick={() => {
              setForm(formOf(show));
              setTotalSeats(String(show.total_seats));
              action.setError(undefined);
              setDone(undefined);
            }}
          >
            Undo changes
          </button>
        </div>
        <Outcome error={action.error} done={done} />
      </form>
    </section>
  );
}

/**
 * The PATCH body: the fields that differ from the show as the form first showed it (times to
 * the minute, as the inputs hold them); an emptied optional field is null, which clears it.
 */
function changesOf(show: Show, form: ShowForm, totalSeats: string | undefined): ShowChanges | string {
  const was = formOf(show);
  const changes: ShowChanges = {};
  const title = form.title.trim();
  if (title === '') return 'The show needs a title.';
  if (title !== show.title) changes.title = title;
  const description = form.description.trim();
  if (description !== was.description) changes.description = description === '' ? null : description;
  if (form.start !== was.start) {
    const start = localInputToIso(form.start);
    if (start === undefined) return 'Choose when the show starts.';
    changes.start_time = start;
  }
  if (form.lateConfirm !== was.lateConfirm) changes.late_confirm = form.lateConfirm;
  if (form.maxPerCustomer !== was.maxPerCustomer)
    changes.max_seats_per_customer = form.maxPerCustomer === '' ? null : Number(form.maxPerCustomer);
  if (form.salesStart !== was.salesStart) changes.sales_start = localInputToIso(form.salesStart) ?? null;
  if (form.salesEnd !== was.salesEnd) changes.sales_end = localInputToIso(form.salesEnd) ?? null;
  if (totalSeats !== undefined && Number(totalSeats) !== show.total_seats) changes.total_seats = Number(totalSeats);
  return changes;
}
