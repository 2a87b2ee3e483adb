import { Type, type Static } from 'typebox';
import { AppError } from '../errors.js';
import type { AllocatorRow } from './seat-allocator.js';

/** Most seats a show has, with or without a map. */
export const MAX_SHOW_SEATS = 100_000;

// Short printable text. Section names and row labels make up seat ids (Stalls-A-12), so they
// cannot contain the separator; no control characters, no lone surrogates, not blank.
const namePart = (description: string, maxLength: number) =>
  Type.String({
    minLength: 1,
    maxLength,
    pattern:
      '^[^\\s\\-\\u0000-\\u001f\\u007f-\\u009f\\uD800-\\uDFFF]([^\\-\\u0000-\\u001f\\u007f-\\u009f\\uD800-\\uDFFF]*[^\\s\\-\\u0000-\\u001f\\u007f-\\u009f\\uD800-\\uDFFF])?$',
    description,
  });

export const Category = Type.String({
  minLength: 1,
  maxLength: 40,
  pattern:
    '^[^\\s\\u0000-\\u001f\\u007f-\\u009f\\uD800-\\uDFFF]([^\\u0000-\\u001f\\u007f-\\u009f\\uD800-\\uDFFF]*[^\\s\\u0000-\\u001f\\u007f-\\u009f\\uD800-\\uDFFF])?$',
  description: 'A free label: price tier, accessibility…',
});

export const SeatMapRowInput = Type.Object(
  {
    label: namePart('Row label, unique in its section; no "-"', 10),
    seats: Type.Integer({ minimum: 1, maximum: 1000, description: 'Seats numbered 1..seats, left to right' }),
    category: Type.Optional({ ...Category, default: 'standard' }),
  },
  { additionalProperties: false },
);

/** What an admin sends: sections, each with its rows listed best first. */
export const SeatMapInput = Type.Object(
  {
    sections: Type.Array(
      Type.Object(
        {
          name: namePart('Section name, unique in the map; no "-"', 40),
          rows: Type.Array(SeatMapRowInput, { minItems: 1, maxItems: 1000 }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 100 },
    ),
  },
  {
    additionalProperties: false,
    description: 'Assigned seating. Rows are listed best first; a seat id is <section>-<row>-<number>.',
    examples: [
      {
        sections: [
          {
            name: 'Stalls',
            rows: [
              { label: 'A', seats: 20, category: 'premium' },
              { label: 'B', seats: 22 },
            ],
          },
        ],
      },
    ],
  },
);
export type SeatMapInput = Static<typeof SeatMapInput>;

/** A map as stored and shown: every row has its category. */
export interface SeatMap {
  sections: { name: string; rows: { label: string; seats: number; category: string }[] }[];
}

export interface PlanRow extends AllocatorRow {
  label: string;
}

/**
 * A seat map with its seats numbered: seat numbers run from 0 through the map (sections, then
 * rows, then seats left to right), which is how the database stores them, and ids are
 * `<section>-<row>-<number>`.
 */
export class SeatPlan {
  readonly rows: PlanRow[] = [];
  /** Categories in order of first appearance; a category's number in the database is its index + 1. */
  readonly categories: string[] = [];
  readonly total: number;
  private readonly rowByKey = new Map<string, PlanRow>();
  /** Row index of each seat number. */
  private readonly rowOfSeat: Int32Array;

  /** @param mapVersion shows.seat_map_version of the map: seats are renumbered when it moves. */
  constructor(
    readonly map: SeatMap,
    readonly mapVersion = 0,
  ) {
    let start = 0;
    for (const section of map.sections) {
      for (const row of section.rows) {
        const planRow = { section: section.name, label: row.label, category: row.category, start, length: row.seats };
        this.rows.push(planRow);
        this.rowByKey.set(`${section.name}\u0000${row.label}`, planRow);
        if (!this.categories.includes(row.category)) this.categories.push(row.category);
        start += row.seats;
      }
    }
    this.total = start;
    this.rowOfSeat = new Int32Array(start);
    this.rows.forEach((row, index) => this.rowOfSeat.fill(index, row.start, row.start + row.length));
  }

  /**
   * Checks what the schema cannot (unique names, the seat total) and fills in the default
   * category; 400 validation_failed with the path of the offender.
   */
  static fromInput(input: SeatMapInput): SeatPlan {
    const names = new Set<string>();
    let total = 0;
    input.sections.forEach((section, s) => {
      if (names.has(section.name)) invalid(`/seat_map/sections/${s}/name`, `repeats section name "${section.name}"`);
      names.add(section.name);
      const labels = new Set<string>();
      section.rows.forEach((row, r) => {
        if (labels.has(row.label)) {
          invalid(`/seat_map/sections/${s}/rows/${r}/label`, `repeats row label "${row.label}" in its section`);
        }
        labels.add(row.label);
        total += row.seats;
      });
    });
    if (total > MAX_SHOW_SEATS) invalid('/seat_map', `has ${total} seats; a show has at most ${MAX_SHOW_SEATS}`);
    return new SeatPlan({
      sections: input.sections.map((section) => ({
        name: section.name,
        rows: section.rows.map((row) => ({ label: row.label, seats: row.seats, category: row.category ?? 'standard' })),
      })),
    });
  }

  rowIndexOf(seatNo: number): number {
    return this.rowOfSeat[seatNo]!;
  }

  seatId(seatNo: number): string {
    const row = this.rows[this.rowOfSeat[seatNo]!]!;
    return `${row.section}-${row.label}-${seatNo - row.start + 1}`;
  }

  /** The seat number of an id exactly as seatId writes it, or undefined. */
  seatNo(seatId: string): number | undefined {
    const parts = seatId.split('-');
    if (parts.length !== 3) return undefined;
    const [section, label, number] = parts as [string, string, string];
    if (!/^[1-9]\d{0,3}$/.test(number)) return undefined;
    const row = this.rowByKey.get(`${section}\u0000${label}`);
    const n = Number(number);
    return row && n <= row.length ? row.start + n - 1 : undefined;
  }

  /** The seat numbers of the ids asked for, in that order, or the ids that are not in the map. */
  resolve(seatIds: readonly string[]): { seatNos: number[]; unknown?: undefined } | { unknown: string[] } {
    const unknown: string[] = [];
    const seatNos = seatIds.map((id) => this.seatNo(id) ?? (unknown.push(id), -1));
    return unknown.length > 0 ? { unknown } : { seatNos };
  }

  /** The seat numbers of the ids asked for, in that order; 400 naming those that are not in the map. */
  seatNos(seatIds: readonly string[]): number[] {
    const resolved = this.resolve(seatIds);
    if (resolved.unknown) throw unknownSeats(resolved.unknown);
    return resolved.seatNos;
  }
}

/** 400 naming seats that are not in the map. */
export function unknownSeats(unknown: string[]): AppError {
  return new AppError('validation_failed', `Not seats of this show: ${unknown.slice(0, 20).join(', ')}`, {
    errors: [{ path: 'body/seat_ids', message: `names seats not in the map: ${unknown.slice(0, 20).join(', ')}` }],
    unknown_seat_ids: unknown,
  });
}

function invalid(path: string, message: string): never {
  throw new AppError('validation_failed', `${path} ${message}`, { errors: [{ path: `body${path}`, message }] });
}
