import type { NewShow } from '@seat-hold/client';

export type SeatMapBody = NonNullable<NewShow['seat_map']>;

export interface DraftRow {
  key: number;
  label: string;
  seats: string;
  category: string;
}

export interface DraftSection {
  key: number;
  name: string;
  rows: DraftRow[];
}

const MAX_ROWS = 1000;
const MAX_SEATS_PER_ROW = 1000;

let nextKey = 1;
/** A key for a new section or row, stable while the builder lists them. */
export const newKey = () => nextKey++;

/**
 * Row labels from `from` to `to`: letters (A…Z, then AA, AB… like spreadsheet columns) or
 * numbers. Undefined when the two are not of one kind, or the range runs backwards or too long.
 */
export function labelRange(from: string, to: string): string[] | undefined {
  const a = from.trim().toUpperCase();
  const b = to.trim().toUpperCase();
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return range(Number(a), Number(b))?.map(String);
  if (/^[A-Z]+$/.test(a) && /^[A-Z]+$/.test(b)) return range(letterIndex(a), letterIndex(b))?.map(letters);
  return undefined;
}

function range(start: number, end: number): number[] | undefined {
  if (end < start || end - start >= MAX_ROWS) return undefined;
  return Array.from({ length: end - start + 1 }, (_, index) => start + index);
}

function letterIndex(text: string): number {
  let n = 0;
  for (const char of text) n = n * 26 + (char.charCodeAt(0) - 64);
  return n;
}

function letters(n: number): string {
  let text = '';
  for (let rest = n; rest > 0; rest = Math.floor((rest - 1) / 26))
    text = String.fromCharCode(65 + ((rest - 1) % 26)) + text;
  return text;
}

/** The API's rule for section names and row labels: no "-" (it separates a seat id's parts), not blank. */
function nameProblem(kind: string, value: string): string | undefined {
  if (value.trim() === '') return `Every ${kind} needs a name.`;
  if (value.includes('-')) return `${kind[0]?.toUpperCase()}${kind.slice(1)} "${value}": a name cannot contain "-".`;
  if (value !== value.trim())
    return `${kind[0]?.toUpperCase()}${kind.slice(1)} "${value}": no spaces at the start or end.`;
  return undefined;
}

/** The seat map to send, or the first thing wrong with the draft in words. */
export function toSeatMap(sections: DraftSection[]): { map: SeatMapBody } | { problem: string } {
  if (sections.length === 0) return { problem: 'Add at least one section.' };
  const names = new Set<string>();
  const out: SeatMapBody['sections'] = [];
  for (const section of sections) {
    const problem = nameProblem('section', section.name);
    if (problem) return { problem };
    if (names.has(section.name)) return { problem: `Two sections are called "${section.name}".` };
    names.add(section.name);
    if (section.rows.length === 0) return { problem: `Section "${section.name}" has no rows.` };
    const labels = new Set<string>();
    const rows: SeatMapBody['sections'][number]['rows'] = [];
    for (const row of section.rows) {
      const rowProblem = nameProblem('row', row.label);
      if (rowProblem) return { problem: `Section "${section.name}": ${rowProblem}` };
      if (labels.has(row.label)) return { problem: `Section "${section.name}" has two rows "${row.label}".` };
      labels.add(row.label);
      const seats = Number(row.seats);
      if (!Number.isInteger(seats) || seats < 1 || seats > MAX_SEATS_PER_ROW)
        return {
          problem: `Section "${section.name}", row ${row.label}: seats must be a whole number from 1 to ${MAX_SEATS_PER_ROW}.`,
        };
      const category = row.category.trim();
      rows.push(category === '' ? { label: row.label, seats } : { label: row.label, seats, category });
    }
    out.push({ name: section.name, rows });
  }
  return { map: { sections: out } };
}

/** Rows and seats in the draft, counting only rows with a valid seat number. */
export function draftTotals(sections: DraftSection[]): { rows: number; seats: number } {
  let rows = 0;
  let seats = 0;
  for (const section of sections)
    for (const row of section.rows) {
      rows += 1;
      const n = Number(row.seats);
      if (Number.isInteger(n) && n > 0) seats += n;
    }
  return { rows, seats };
}
