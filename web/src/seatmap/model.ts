import type { SeatMapState, SeatState, SeatsUpdate } from '@seat-hold/client';

/** One row of a seat map: its seats' states as the API writes them, one character each. */
export interface RowModel {
  /** `Section-Row`, the prefix of its seats' ids. */
  key: string;
  section: string;
  label: string;
  category: string;
  seats: number;
  status: string;
}

export interface SectionModel {
  name: string;
  rows: RowModel[];
  /** Seats in its longest row. */
  width: number;
}

/** A seat map with every seat's state; changed rows are new objects, unchanged ones are kept. */
export interface SeatMapModel {
  version: string;
  sections: SectionModel[];
  categories: string[];
  seatCount: number;
}

export interface SeatRef {
  id: string;
  section: string;
  row: string;
  number: number;
}

export const STATE_WORDS: Record<SeatState, string> = { F: 'free', H: 'held', S: 'sold', B: 'blocked' };

export function seatId(row: RowModel, number: number): string {
  return `${row.key}-${number}`;
}

/** Section and row names never contain "-" (the API refuses them), so an id splits in three. */
export function parseSeatId(id: string): SeatRef | undefined {
  const parts = id.split('-');
  if (parts.length !== 3) return undefined;
  const [section, row, number] = parts as [string, string, string];
  const n = Number(number);
  return Number.isInteger(n) && n > 0 ? { id, section, row, number: n } : undefined;
}

export function toModel(map: SeatMapState): SeatMapModel {
  const categories = new Set<string>();
  let seatCount = 0;
  const sections = map.sections.map((section) => {
    const rows = section.rows.map((row) => {
      categories.add(row.category);
      seatCount += row.seats;
      return {
        key: `${section.name}-${row.label}`,
        section: section.name,
        label: row.label,
        category: row.category,
        seats: row.seats,
        status: row.status,
      };
    });
    return { name: section.name, rows, width: Math.max(1, ...rows.map((row) => row.seats)) };
  });
  return { version: map.version, sections, categories: [...categories], seatCount };
}

/** The model with the seats of a `seats` event set to their new states. */
export function applySeats(model: SeatMapModel, seats: SeatsUpdate['seats']): SeatMapModel {
  const changes = new Map<string, [number, SeatState][]>();
  for (const [id, state] of Object.entries(seats)) {
    const seat = parseSeatId(id);
    if (seat === undefined) continue;
    const key = `${seat.section}-${seat.row}`;
    const list = changes.get(key) ?? [];
    list.push([seat.number, state]);
    changes.set(key, list);
  }
  if (changes.size === 0) return model;
  const sections = model.sections.map((section) => {
    if (!section.rows.some((row) => changes.has(row.key))) return section;
    const rows = section.rows.map((row) => {
      const rowChanges = changes.get(row.key);
      if (rowChanges === undefined) return row;
      const status = row.status.split('');
      for (const [number, state] of rowChanges) if (number <= row.seats) status[number - 1] = state;
      return { ...row, status: status.join('') };
    });
    return { ...section, rows };
  });
  return { ...model, sections };
}

/** The state of one seat, or undefined when the map has no such seat. */
export function seatState(model: SeatMapModel, id: string): SeatState | undefined {
  const seat = parseSeatId(id);
  if (seat === undefined) return undefined;
  const row = model.sections
    .find((section) => section.name === seat.section)
    ?.rows.find((candidate) => candidate.label === seat.row);
  return row === undefined ? undefined : (row.status[seat.number - 1] as SeatState | undefined);
}

/** Seat counts by state, overall. */
export function countStates(model: SeatMapModel): Record<SeatState, number> {
  const counts: Record<SeatState, number> = { F: 0, H: 0, S: 0, B: 0 };
  for (const section of model.sections)
    for (const row of section.rows) for (const state of row.status) counts[state as SeatState] += 1;
  return counts;
}
