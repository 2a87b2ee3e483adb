import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { allocateBestAvailable, type AllocatorRow, type BestAvailable } from '../../src/domain/seat-allocator.js';

interface SeatMap {
  rows: AllocatorRow[];
  free: Uint8Array;
  rowFree: number[];
}

interface RowSpec {
  seats: string; // '.' free, 'x' taken, left to right
  category?: string;
  section?: string;
}

/** Lays the rows out one after another from seat 1; seat 0 and the seat after the last row are free but in no row. */
function seatMap(...specs: (string | RowSpec)[]): SeatMap {
  const rows: AllocatorRow[] = [];
  const states: number[] = [1];
  const rowFree: number[] = [];
  for (const spec of specs) {
    const { seats, category = 'gold', section = 'stalls' } = typeof spec === 'string' ? { seats: spec } : spec;
    rows.push({ section, category, start: states.length, length: seats.length });
    for (const seat of seats) states.push(seat === '.' ? 1 : 0);
    rowFree.push([...seats].filter((seat) => seat === '.').length);
  }
  states.push(1);
  return { rows, free: Uint8Array.from(states), rowFree };
}

function allocate(map: SeatMap, request: BestAvailable): number[] | null {
  return allocateBestAvailable(map.rows, map.free, map.rowFree, request);
}

/** The result as row-relative positions of rows[row]. */
function inRow(result: number[] | null, map: SeatMap, row: number): number[] | null {
  const start = map.rows[row]?.start ?? NaN;
  return result && result.map((seat) => seat - start);
}

describe('allocateBestAvailable: examples', () => {
  it('rule 2, centre first: an empty row of 10 gives seats 4 and 5', () => {
    const map = seatMap('..........');
    expect(inRow(allocate(map, { count: 2 }), map, 0)).toEqual([4, 5]);
  });

  it('rule 1, best row first: the first row that fits wins', () => {
    const map = seatMap('xxxxxxxxxx', '..........', '..........');
    expect(inRow(allocate(map, { count: 2 }), map, 1)).toEqual([4, 5]);
  });

  it('rule 1: rows of another category or section are skipped', () => {
    const map = seatMap(
      { seats: '.....', category: 'gold', section: 'stalls' },
      { seats: '.....', category: 'silver', section: 'stalls' },
      { seats: '.....', category: 'silver', section: 'circle' },
    );
    expect(inRow(allocate(map, { count: 3, category: 'silver' }), map, 1)).toEqual([1, 2, 3]);
    expect(inRow(allocate(map, { count: 3, section: 'circle' }), map, 2)).toEqual([1, 2, 3]);
    expect(inRow(allocate(map, { count: 3, category: 'silver', section: 'circle' }), map, 2)).toEqual([1, 2, 3]);
    expect(allocate(map, { count: 3, category: 'gold', section: 'circle' })).toBeNull();
  });

  it('rule 2: on odd and even rows and counts, centre ties go to the left', () => {
    const cases = [
      { length: 10, count: 1, start: 4 },
      { length: 9, count: 1, start: 4 },
      { length: 10, count: 2, start: 4 },
      { length: 9, count: 2, start: 3 },
      { length: 10, count: 3, start: 3 },
      { length: 9, count: 3, start: 3 },
    ];
    for (const { length, count, start } of cases) {
      const map = seatMap('.'.repeat(length));
      expect(inRow(allocate(map, { count }), map, 0), `${count} of ${length}`).toEqual(
        Array.from({ length: count }, (_, k) => start + k),
      );
    }
    // Two blocks equally far from the centre, in different free runs.
    const map = seatMap('...xxxx...');
    expect(inRow(allocate(map, { count: 2 }), map, 0)).toEqual([1, 2]);
  });

  it('rule 3, no orphan: passes over the centre block when it would leave one seat between taken seats', () => {
    // Seats 4-5 would leave seat 3 alone between taken seats 2 and 4.
    const map = seatMap('..x.......');
    expect(inRow(allocate(map, { count: 2 }), map, 0)).toEqual([3, 4]);
  });

  it('rule 3: a seat that was already alone is not the block’s fault', () => {
    // Seat 1 is alone before and after; seats 3-4 create no new lone seat, so row 0 still wins.
    const map = seatMap('x.x.......', '..........');
    expect(inRow(allocate(map, { count: 2 }), map, 0)).toEqual([3, 4]);
  });

  it('rule 3: a later row with an orphan-free block beats an earlier row whose blocks all orphan', () => {
    const map = seatMap('x...x', '.....');
    expect(inRow(allocate(map, { count: 2 }), map, 1)).toEqual([1, 2]);
  });

  it('rule 3 fallback: takes an orphaning block, from the best row that has one, when nothing else fits', () => {
    const map = seatMap('xxxxx', 'x...x', 'x...x');
    expect(inRow(allocate(map, { count: 2 }), map, 1)).toEqual([1, 2]);
  });

  it('rule 3: a single seat at the end of a row is not an orphan', () => {
    const empty = seatMap('....');
    expect(inRow(allocate(empty, { count: 2 }), empty, 0)).toEqual([1, 2]);
    const wall = seatMap('...x');
    expect(inRow(allocate(wall, { count: 2 }), wall, 0)).toEqual([1, 2]);
  });

  it('rule 4, allowSplit: takes the best seats across rows when no row has a block, null when too few', () => {
    const map = seatMap(
      { seats: '.x.x.' },
      { seats: 'x.x.x' },
      { seats: '.....', category: 'silver' }, // has blocks, but is not a candidate
    );
    const [first, second] = map.rows.map((row) => row.start);
    // Row 0 centre first, then its left and right ends; then row 1 nearest its centre, left first.
    expect(allocate(map, { count: 2, category: 'gold', allowSplit: true })).toEqual([first! + 0, first! + 2]);
    expect(allocate(map, { count: 4, category: 'gold', allowSplit: true })).toEqual([
      first! + 0,
      first! + 2,
      first! + 4,
      second! + 1,
    ]);
    expect(allocate(map, { count: 5, category: 'gold', allowSplit: true })).toHaveLength(5);
    expect(allocate(map, { count: 6, category: 'gold', allowSplit: true })).toBeNull();
  });

  it('rule 4: without allowSplit, null when no candidate row has a block', () => {
    const map = seatMap('.x.x.', 'x.x.x');
    expect(allocate(map, { count: 2 })).toBeNull();
    expect(allocate(map, { count: 2, allowSplit: false })).toBeNull();
  });

  it('rule 4: a count larger than any row gives null without allowSplit, seats across rows with it', () => {
    const map = seatMap('....', '....');
    expect(allocate(map, { count: 5 })).toBeNull();
    const [first, second] = map.rows.map((row) => row.start);
    expect(allocate(map, { count: 5, allowSplit: true })).toEqual([
      first!,
      first! + 1,
      first! + 2,
      first! + 3,
      second! + 1,
    ]);
  });

  it('rule 5: a row whose rowFree is below count is skipped unscanned (callers keep rowFree true)', () => {
    const map = seatMap('..........', '..........');
    map.rowFree[0] = 1;
    expect(inRow(allocate(map, { count: 2 }), map, 1)).toEqual([4, 5]);
  });

  it('rule 5: an overstated rowFree is not trusted: the row with enough free seats is found', () => {
    const map = seatMap('xxxxxxxxxx', '..........');
    map.rowFree[0] = 10;
    expect(inRow(allocate(map, { count: 2 }), map, 1)).toEqual([4, 5]);
    expect(inRow(allocate(map, { count: 2, allowSplit: true }), map, 1)).toEqual([4, 5]);
  });

  it('rule 5: finds the one free block of a 100,000-seat map', () => {
    const specs = Array.from({ length: 100 }, (_, i) =>
      i === 97 ? 'x'.repeat(500) + '.'.repeat(500) : 'x.'.repeat(500),
    );
    const map = seatMap(...specs);
    expect(inRow(allocate(map, { count: 6 }), map, 97)).toEqual([500, 501, 502, 503, 504, 505]);
    expect(allocate(map, { count: 1000 })).toBeNull();
  });

  it('rejects a count outside 1..1000', () => {
    const map = seatMap('..........');
    for (const count of [0, -1, 1.5, 1001, NaN]) {
      expect(() => allocate(map, { count })).toThrow(RangeError);
    }
  });
});

// ---- Brute-force reference: enumerates every block of every candidate row. ----

interface RefBlock {
  row: number;
  start: number; // row-relative
  distance: number; // doubled distance of the block's centre from the row's centre
  orphan: boolean;
}

function isCandidate(row: AllocatorRow, request: BestAvailable): boolean {
  return (
    (request.category === undefined || row.category === request.category) &&
    (request.section === undefined || row.section === request.section)
  );
}

/** Free seats of the row with taken seats on both sides, as row-relative positions. */
function lonelySeats(length: number, isFree: (j: number) => boolean): Set<number> {
  const lonely = new Set<number>();
  for (let j = 1; j < length - 1; j++) {
    if (isFree(j) && !isFree(j - 1) && !isFree(j + 1)) lonely.add(j);
  }
  return lonely;
}

function leavesOrphan(row: AllocatorRow, free: Uint8Array, start: number, count: number): boolean {
  const before = (j: number) => free[row.start + j] === 1;
  const after = (j: number) => before(j) && (j < start || j >= start + count);
  const old = lonelySeats(row.length, before);
  return [...lonelySeats(row.length, after)].some((j) => !old.has(j));
}

function referenceBlocks(map: SeatMap, request: BestAvailable): RefBlock[] {
  const blocks: RefBlock[] = [];
  map.rows.forEach((row, index) => {
    if (!isCandidate(row, request)) return;
    for (let start = 0; start + request.count <= row.length; start++) {
      let allFree = true;
      for (let k = 0; k < request.count; k++) allFree &&= map.free[row.start + start + k] === 1;
      if (!allFree) continue;
      blocks.push({
        row: index,
        start,
        distance: Math.abs(2 * start + request.count - row.length),
        orphan: leavesOrphan(row, map.free, start, request.count),
      });
    }
  });
  return blocks;
}

/** Free seats of the candidate rows in the split order: best row, nearest its centre, leftmost. */
function referenceSplitOrder(map: SeatMap, request: BestAvailable): number[] {
  const seats: { row: number; distance: number; seat: number }[] = [];
  map.rows.forEach((row, index) => {
    if (!isCandidate(row, request)) return;
    for (let j = 0; j < row.length; j++) {
      if (map.free[row.start + j] === 1) {
        seats.push({ row: index, distance: Math.abs(2 * j - (row.length - 1)), seat: row.start + j });
      }
    }
  });
  seats.sort((a, b) => a.row - b.row || a.distance - b.distance || a.seat - b.seat);
  return seats.map((s) => s.seat);
}

function nearerOrLeft(a: RefBlock, b: RefBlock): boolean {
  return a.distance < b.distance || (a.distance === b.distance && a.start < b.start);
}

function reference(map: SeatMap, request: BestAvailable): number[] | null {
  const blocks = referenceBlocks(map, request);
  const clean = blocks.filter((b) => !b.orphan);
  const pool = clean.length > 0 ? clean : blocks;
  const bestRow = pool[0]?.row;
  if (bestRow !== undefined) {
    const chosen = pool.filter((b) => b.row === bestRow).reduce((best, b) => (nearerOrLeft(b, best) ? b : best));
    const start = map.rows[bestRow]!.start + chosen.start;
    return Array.from({ length: request.count }, (_, k) => start + k);
  }
  if (!request.allowSplit) return null;
  const order = referenceSplitOrder(map, request);
  return order.length >= request.count ? order.slice(0, request.count).sort((a, b) => a - b) : null;
}

// ---- Random maps ----

const CATEGORIES = ['gold', 'silver'] as const;
const SECTIONS = ['stalls', 'circle'] as const;

const rowArb = fc.integer({ min: 1, max: 4 }).chain((takenWeight) =>
  fc.record({
    category: fc.constantFrom(...CATEGORIES),
    section: fc.constantFrom(...SECTIONS),
    gap: fc.integer({ min: 0, max: 2 }),
    // Any value but 1 is taken.
    seats: fc.array(
      fc.oneof({ arbitrary: fc.constant(1), weight: 4 }, { arbitrary: fc.constantFrom(0, 2), weight: takenWeight }),
      { minLength: 1, maxLength: 40 },
    ),
  }),
);

const scenarioArb = fc
  .record({
    rows: fc.array(rowArb, { minLength: 1, maxLength: 20 }),
    request: fc.record(
      {
        count: fc.integer({ min: 1, max: 6 }),
        category: fc.constantFrom(...CATEGORIES),
        section: fc.constantFrom(...SECTIONS),
        allowSplit: fc.boolean(),
      },
      { requiredKeys: ['count'] },
    ),
  })
  .map(({ rows: specs, request }) => {
    const rows: AllocatorRow[] = [];
    const states: number[] = [];
    const rowFree: number[] = [];
    for (const { category, section, gap, seats } of specs) {
      // Free seats outside every row must never be handed out.
      for (let g = 0; g < gap; g++) states.push(1);
      rows.push({ section, category, start: states.length, length: seats.length });
      states.push(...seats);
      rowFree.push(seats.filter((s) => s === 1).length);
    }
    states.push(1);
    const map: SeatMap = { rows, free: Uint8Array.from(states), rowFree };
    return { map, request };
  });

/** Runs the allocator and checks that it left its inputs alone. */
function run(map: SeatMap, request: BestAvailable): number[] | null {
  const before = {
    rows: structuredClone(map.rows),
    free: Uint8Array.from(map.free),
    rowFree: [...map.rowFree],
    request: { ...request },
  };
  const result = allocateBestAvailable(map.rows, map.free, map.rowFree, request);
  expect({ rows: map.rows, free: map.free, rowFree: map.rowFree, request }).toEqual(before);
  return result;
}

function rowIndexOf(map: SeatMap, seat: number): number {
  return map.rows.findIndex((row) => seat >= row.start && seat < row.start + row.length);
}

/** The result as a block of the reference, when it is `count` adjacent seats in one row. */
function asBlock(map: SeatMap, request: BestAvailable, result: number[]): RefBlock | undefined {
  const first = result[0]!;
  const row = rowIndexOf(map, first);
  const isBlock = result.every((seat, k) => seat === first + k && rowIndexOf(map, seat) === row);
  if (!isBlock) return undefined;
  const { start, length } = map.rows[row]!;
  return {
    row,
    start: first - start,
    distance: Math.abs(2 * (first - start) + request.count - length),
    orphan: leavesOrphan(map.rows[row]!, map.free, first - start, request.count),
  };
}

const RUNS = { numRuns: 500 };

describe('allocateBestAvailable: properties', () => {
  it('(a) returns exactly count distinct free seats of candidate rows, ascending, and mutates nothing', () => {
    fc.assert(
      fc.property(scenarioArb, ({ map, request }) => {
        const result = run(map, request);
        if (result === null) return;
        expect(result).toHaveLength(request.count);
        for (let k = 1; k < result.length; k++) expect(result[k]!).toBeGreaterThan(result[k - 1]!);
        for (const seat of result) {
          expect(map.free[seat]).toBe(1);
          const row = map.rows[rowIndexOf(map, seat)];
          expect(row && isCandidate(row, request)).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('(b) without split, or whenever some block exists, the result is count adjacent seats in one row', () => {
    fc.assert(
      fc.property(scenarioArb, ({ map, request }) => {
        const result = run(map, request);
        if (result === null) return;
        if (!request.allowSplit || referenceBlocks(map, request).length > 0) {
          expect(asBlock(map, request, result)).toBeDefined();
        }
      }),
      RUNS,
    );
  });

  it('(c) completeness: a result whenever a candidate row has a block, or, with allowSplit, enough free seats', () => {
    fc.assert(
      fc.property(scenarioArb, ({ map, request }) => {
        const result = run(map, request);
        const hasBlock = referenceBlocks(map, request).length > 0;
        const enoughSeats = referenceSplitOrder(map, request).length >= request.count;
        expect(result !== null).toBe(hasBlock || (!!request.allowSplit && enoughSeats));
      }),
      RUNS,
    );
  });

  it('(d) no orphan: an orphaning result means no candidate row has an orphan-free block', () => {
    fc.assert(
      fc.property(scenarioArb, ({ map, request }) => {
        const blocks = referenceBlocks(map, request);
        const result = run(map, request);
        if (result === null || blocks.length === 0) return;
        if (asBlock(map, request, result)!.orphan) expect(blocks.filter((b) => !b.orphan)).toEqual([]);
      }),
      RUNS,
    );
  });

  it('(e) best row: no better candidate row has a block of the chosen orphan class (or an orphan-free one)', () => {
    fc.assert(
      fc.property(scenarioArb, ({ map, request }) => {
        const blocks = referenceBlocks(map, request);
        const result = run(map, request);
        if (result === null || blocks.length === 0) return;
        const chosen = asBlock(map, request, result)!;
        const better = blocks.filter((b) => b.row < chosen.row);
        // An orphan-free choice beats orphaning blocks of better rows; an orphaning one beats none.
        expect(better.filter((b) => !b.orphan || chosen.orphan)).toEqual([]);
      }),
      RUNS,
    );
  });

  it('(f) within the chosen row, no block of the same orphan class is nearer the centre, or as near and further left', () => {
    fc.assert(
      fc.property(scenarioArb, ({ map, request }) => {
        const blocks = referenceBlocks(map, request);
        const result = run(map, request);
        if (result === null || blocks.length === 0) return;
        const chosen = asBlock(map, request, result)!;
        const rivals = blocks.filter((b) => b.row === chosen.row && b.orphan === chosen.orphan);
        expect(rivals.filter((b) => nearerOrLeft(b, chosen))).toEqual([]);
      }),
      RUNS,
    );
  });

  it('agrees with the brute-force reference, split order included', () => {
    fc.assert(
      fc.property(scenarioArb, ({ map, request }) => {
        expect(run(map, request)).toEqual(reference(map, request));
      }),
      { numRuns: 2000 },
    );
  });
});
