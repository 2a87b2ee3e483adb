import type { NewShow } from '@seat-hold/client';
import { useId } from 'preact/hooks';

/** A ticket type as the form holds it: the price as typed, in the currency's major unit (45.00). */
export interface DraftType {
  key: number;
  code: string;
  name: string;
  price: string;
}

export interface TicketsDraft {
  currency: string;
  types: DraftType[];
}

let nextKey = 0;
export const newDraftType = (): DraftType => ({ key: nextKey++, code: '', name: '', price: '' });
/** No rows: the show sells one free type; no currency: the service's DEFAULT_CURRENCY. */
export const EMPTY_TICKETS: TicketsDraft = { currency: '', types: [] };

/** The currency's minor units per major unit (100 for EUR, 1 for JPY), as the browser knows it. */
function minorPerMajor(currency: string): number | undefined {
  try {
    const digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
    return 10 ** (digits ?? 2);
  } catch {
    return undefined;
  }
}

/** The show's currency and ticket types as the API takes them, or what to fix. */
export function ticketTypesBody(
  draft: TicketsDraft,
): { fields: Pick<NewShow, 'currency' | 'ticket_types'> } | { problem: string } {
  const currency = draft.currency.trim().toUpperCase();
  if (currency === '' && draft.types.length === 0) return { fields: {} };
  const unit = minorPerMajor(currency);
  if (!/^[A-Z]{3}$/.test(currency) || unit === undefined) {
    return { problem: 'Currency: a code such as EUR or USD (the prices are in it).' };
  }
  if (draft.types.length === 0) return { fields: { currency } };
  const types: NonNullable<NewShow['ticket_types']> = [];
  for (const [index, type] of draft.types.entries()) {
    const at = `Ticket type ${index + 1}`;
    const price = Math.round(Number(type.price.replace(',', '.')) * unit);
    if (!/^[a-z0-9][a-z0-9_-]{0,39}$/.test(type.code.trim()))
      return { problem: `${at}: a code of lowercase letters, digits, - or _.` };
    if (type.name.trim() === '') return { problem: `${at}: a name.` };
    if (type.price.trim() === '' || !Number.isFinite(price) || price < 0)
      return { problem: `${at}: a price, 0 or more.` };
    types.push({ code: type.code.trim(), name: type.name.trim(), price });
  }
  return { fields: { currency, ticket_types: types } };
}

/** The ticket types a new show sells, with their prices; none: one free type. */
export function TicketTypesEditor({ draft, onChange }: { draft: TicketsDraft; onChange: (d: TicketsDraft) => void }) {
  const id = useId();
  const change = (key: number, fields: Partial<DraftType>) =>
    onChange({ ...draft, types: draft.types.map((type) => (type.key === key ? { ...type, ...fields } : type)) });
  return (
    <fieldset class="ticket-types-editor" data-panel="ticket-types">
      <legend>Tickets</legend>
      <div class="field">
        <label for={`${id}-currency`}>Currency</label>
        <input
          id={`${id}-currency`}
          value={draft.currency}
          maxLength={3}
          size={4}
          placeholder="EUR"
          data-field="currency"
          onInput={(event) => onChange({ ...draft, currency: event.currentTarget.value })}
        />
      </div>
      {draft.types.length === 0 && <p class="muted small">One free ticket type, “Admission”, unless you add types.</p>}
      {draft.types.map((type, index) => (
        <div key={type.key} class="row ticket-type-row" data-type-row={index}>
          <input
            aria-label={`Ticket type ${index + 1} code`}
            placeholder="adult"
            value={type.code}
            data-field="type-code"
            onInput={(event) => change(type.key, { code: event.currentTarget.value })}
          />
          <input
            aria-label={`Ticket type ${index + 1} name`}
            placeholder="Adult"
            value={type.name}
            data-field="type-name"
            onInput={(event) => change(type.key, { name: event.currentTarget.value })}
          />
          <input
            aria-label={`Ticket type ${index + 1} price`}
            placeholder="45.00"
            inputMode="decimal"
            value={type.price}
            data-field="type-price"
            onInput={(event) => change(type.key, { price: event.currentTarget.value })}
          />
          <button
            type="button"
            class="secondary"
            onClick={() => onChange({ ...draft, types: draft.types.filter((other) => other.key !== type.key) })}
          >
            Remove
          </button>
        </div>
      ))}
      <button
        type="button"
        class="secondary"
        data-action="add-type"
        onClick={() => onChange({ ...draft, types: [...draft.types, newDraftType()] })}
      >
        Add a ticket type
      </button>
    </fieldset>
  );
}
