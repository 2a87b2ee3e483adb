import type { Show } from '@seat-hold/client';
import { isoToLocalInput, LOCAL_ZONE } from './time.js';

export type LateConfirm = Show['late_confirm'];

/** A show's settings as the form holds them: text, as typed. */
export interface ShowForm {
  title: string;
  description: string;
  start: string;
  lateConfirm: LateConfirm;
  maxPerCustomer: string;
  salesStart: string;
  salesEnd: string;
}

export const EMPTY_FORM: ShowForm = {
  title: '',
  description: '',
  start: '',
  lateConfirm: 'refuse',
  maxPerCustomer: '',
  salesStart: '',
  salesEnd: '',
};

export function formOf(show: Show): ShowForm {
  return {
    title: show.title,
    description: show.description ?? '',
    start: isoToLocalInput(show.start_time),
    lateConfirm: show.late_confirm,
    maxPerCustomer: show.max_seats_per_customer === null ? '' : String(show.max_seats_per_customer),
    salesStart: isoToLocalInput(show.sales_start),
    salesEnd: isoToLocalInput(show.sales_end),
  };
}

/** The fields shared by "create" and "edit": title, description, times, checkout settings. */
export function ShowFields({
  form,
  onChange,
  idPrefix,
}: {
  form: ShowForm;
  onChange: (form: ShowForm) => void;
  idPrefix: string;
}) {
  const set =
    <K extends keyof ShowForm>(field: K) =>
    (value: ShowForm[K]) =>
      onChange({ ...form, [field]: value });
  return (
    <>
      <div class="form-grid">
        <label class="wide">
          Title
          <input
            required
            maxLength={200}
            value={form.title}
            onInput={(event) => set('title')(event.currentTarget.value)}
            data-field="title"
          />
        </label>
        <label class="wide">
          <span>
            Description <span class="muted">(optional)</span>
          </span>
          <textarea
            rows={2}
            maxLength={2000}
            value={form.description}
            onInput={(event) => set('description')(event.currentTarget.value)}
            data-field="description"
          />
        </label>
        <label>
          Starts
          <input
            type="datetime-local"
            required
            value={form.start}
            onInput={(event) => set('start')(event.currentTarget.value)}
            aria-describedby={`${idPrefix}-zone`}
            data-field="start_time"
          />
        </label>
        <label>
          <span>
            Sales open <span class="muted">(optional)</span>
          </span>
          <input
            type="datetime-local"
            value={form.salesStart}
            onInput={(event) => set('salesStart')(event.currentTarget.value)}
            aria-describedby={`${idPrefix}-zone`}
            data-field="sales_start"
          />
        </label>
        <label>
          <span>
            Sales close <span class="muted">(optional)</span>
          </span>
          <input
            type="datetime-local"
            value={form.salesEnd}
            onInput={(event) => set('salesEnd')(event.currentTarget.value)}
            aria-describedby={`${idPrefix}-zone`}
            data-field="sales_end"
          />
        </label>
        <label>
          <span>
            Most seats per customer <span class="muted">(optional)</span>
          </span>
          <input
            type="number"
            min={1}
            max={100000}
            inputMode="numeric"
            value={form.maxPerCustomer}
            onInput={(event) => set('maxPerCustomer')(event.currentTarget.value)}
            data-field="max_seats_per_customer"
          />
        </label>
        <label class="wide">
          Payment after the hold ran out
          <select
            value={form.lateConfirm}
            onChange={(event) => set('lateConfirm')(event.currentTarget.value as LateConfirm)}
            data-field="late_confirm"
          >
            <option value="refuse">Refuse it (the seats went back on sale)</option>
            <option value="reclaim">Take it if the same seats are still free</option>
          </select>
        </label>
      </div>
      <p id={`${idPrefix}-zone`} class="muted small">
        Times are in your time zone ({LOCAL_ZONE}).
      </p>
    </>
  );
}
