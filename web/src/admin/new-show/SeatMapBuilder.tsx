import { useState } from 'preact/hooks';
import { plural } from '../../format.js';
import { draftTotals, labelRange, newKey, type DraftRow, type DraftSection } from './seatMapDraft.js';

/**
 * Sections of rows, each row a label, a number of seats and a category. Rows are listed
 * best first, as the API's "best available" takes them in that order.
 */
export function SeatMapBuilder({
  sections,
  onChange,
}: {
  sections: DraftSection[];
  onChange: (sections: DraftSection[]) => void;
}) {
  const totals = draftTotals(sections);
  const replace = (key: number, next: DraftSection) =>
    onChange(sections.map((section) => (section.key === key ? next : section)));

  return (
    <div class="builder" data-builder="seat-map">
      {sections.map((section, index) => (
        <SectionEditor
          key={section.key}
          section={section}
          number={index + 1}
          onChange={(next) => replace(section.key, next)}
          onRemove={
            sections.length > 1 ? () => onChange(sections.filter((other) => other.key !== section.key)) : undefined
          }
        />
      ))}
      <div class="row builder-footer">
        <button
          type="button"
          class="secondary"
          data-action="add-section"
          onClick={() => onChange([...sections, { key: newKey(), name: '', rows: [] }])}
        >
          Add section
        </button>
        <p class="muted builder-totals" aria-live="polite" data-seat-total={totals.seats}>
          {plural(sections.length, 'section')}, {plural(totals.rows, 'row')}, {plural(totals.seats, 'seat')}
        </p>
      </div>
    </div>
  );
}

function SectionEditor({
  section,
  number,
  onChange,
  onRemove,
}: {
  section: DraftSection;
  number: number;
  onChange: (section: DraftSection) => void;
  onRemove: (() => void) | undefined;
}) {
  const setRow = (key: number, row: DraftRow) =>
    onChange({ ...section, rows: section.rows.map((other) => (other.key === key ? row : other)) });
  const title = section.name.trim() || `Section ${number}`;

  return (
    <fieldset class="builder-section" data-section-index={number - 1}>
      <legend>{title}</legend>
      <div class="row">
        <label>
          Section name
          <input
            required
            maxLength={40}
            value={section.name}
            placeholder="Stalls"
            onInput={(event) => onChange({ ...section, name: event.currentTarget.value })}
            data-field="section-name"
          />
        </label>
        {onRemove && (
          <button type="button" class="danger" onClick={onRemove} aria-label={`Remove section ${title}`}>
            Remove section
          </button>
        )}
      </div>
      <QuickFill section={section} onChange={onChange} />
      {section.rows.length > 0 && (
        <div class="table-scroll builder-rows">
          <table>
            <caption class="visually-hidden">Rows of {title}, best first</caption>
            <thead>
              <tr>
                <th scope="col">Row</th>
                <th scope="col">Seats</th>
                <th scope="col">Category</th>
                <th scope="col">
                  <span class="visually-hidden">Remove</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {section.rows.map((row) => (
                <tr key={row.key}>
                  <td>
                    <input
                      class="input-short"
                      aria-label={`Row label (${title})`}
                      required
                      maxLength={10}
                      value={row.label}
                      onInput={(event) => setRow(row.key, { ...row, label: event.currentTarget.value })}
                      data-field="row-label"
                    />
                  </td>
                  <td>
                    <input
                      class="input-short"
                      type="number"
                      min={1}
                      max={1000}
                      inputMode="numeric"
                      aria-label={`Seats in row ${row.label || '(unnamed)'}`}
                      required
                      value={row.seats}
                      onInput={(event) => setRow(row.key, { ...row, seats: event.currentTarget.value })}
                      data-field="row-seats"
                    />
                  </td>
                  <td>
                    <input
                      aria-label={`Category of row ${row.label || '(unnamed)'}`}
                      maxLength={40}
                      placeholder="standard"
                      value={row.category}
                      onInput={(event) => setRow(row.key, { ...row, category: event.currentTarget.value })}
                      data-field="row-category"
                    />
                  </td>
                  <td>
                    <button
                      type="button"
                      class="secondary compact"
                      aria-label={`Remove row ${row.label || '(unnamed)'}`}
                      onClick={() =>
                        onChange({ ...section, rows: section.rows.filter((other) => other.key !== row.key) })
                      }
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div class="actions">
        <button
          type="button"
          class="secondary"
          data-action="add-row"
          onClick={() =>
            onChange({
              ...section,
              rows: [
                ...section.rows,
                {
                  key: newKey(),
                  label: '',
                  seats: section.rows.at(-1)?.seats ?? '20',
                  category: section.rows.at(-1)?.category ?? '',
                },
              ],
            })
          }
        >
          Add row
        </button>
        {section.rows.length > 0 && (
          <button type="button" class="secondary" onClick={() => onChange({ ...section, rows: [] })}>
            Clear rows
          </button>
        )}
      </div>
    </fieldset>
  );
}

/** "Rows A to T, 50 seats each": many rows at once, appended after the section's rows. */
function QuickFill({ section, onChange }: { section: DraftSection; onChange: (section: DraftSection) => void }) {
  const [from, setFrom] = useState('A');
  const [to, setTo] = useState('J');
  const [seats, setSeats] = useState('20');
  const [category, setCategory] = useState('');
  const [problem, setProblem] = useState<string>();

  function fill() {
    const labels = labelRange(from, to);
    if (labels === undefined)
      return setProblem('Rows run from a first to a last label of one kind: letters (A to T) or numbers (1 to 20).');
    const n = Number(seats);
    if (!Number.isInteger(n) || n < 1 || n > 1000) return setProblem('Seats per row: a whole number from 1 to 1000.');
    const taken = new Set(section.rows.map((row) => row.label));
    const clash = labels.find((label) => taken.has(label));
    if (clash !== undefined) return setProblem(`This section already has a row ${clash}.`);
    setProblem(undefined);
    onChange({
      ...section,
      rows: [
        ...section.rows,
        ...labels.map((label) => ({ key: newKey(), label, seats: String(n), category: category.trim() })),
      ],
    });
  }

  return (
    <div class="quick-fill" role="group" aria-label="Add many rows at once" data-quick-fill>
      <div class="row">
        <label>
          First row
          <input
            class="input-short"
            value={from}
            onInput={(event) => setFrom(event.currentTarget.value)}
            data-field="fill-from"
          />
        </label>
        <label>
          Last row
          <input
            class="input-short"
            value={to}
            onInput={(event) => setTo(event.currentTarget.value)}
            data-field="fill-to"
          />
        </label>
        <label>
          Seats per row
          <input
            class="input-short"
            type="number"
            min={1}
            max={1000}
            inputMode="numeric"
            value={seats}
            onInput={(event) => setSeats(event.currentTarget.value)}
            data-field="fill-seats"
          />
        </label>
        <label>
          Category
          <input
            value={category}
            placeholder="standard"
            maxLength={40}
            onInput={(event) => setCategory(event.currentTarget.value)}
            data-field="fill-category"
          />
        </label>
        <button type="button" class="secondary" onClick={fill} data-action="quick-fill">
          Add rows
        </button>
      </div>
      {problem && (
        <p class="alert" role="alert">
          {problem}
        </p>
      )}
    </div>
  );
}
