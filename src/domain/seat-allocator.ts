/** One row of a seat map. Rows are given best first; a row's seats are the seat numbers start .. start + length - 1, left to right. */
export interface AllocatorRow {
  section: string;
  category: string;
  start: number;
  length: number;
}

export interface BestAvailable {
  count: number; // 1..1000
  category?: string | undefined; // only rows of this category
  categories?: readonly string[] | undefined; // only rows of these categories (where the ticket types asked for are sold)
  section?: string | undefined; // only rows of this section
  allowSplit?: boolean | undefined;
}

const MAX_COUNT = 1000;

/** The best blocks of one row, as row-relative start positions (-1: none). */
interface RowBest {
  clean: number;
  any: number;
}

/**
 * Picks `request.count` best available seats.
 *
 * `free[seatNo] === 1` when the seat is free; any other value is taken.
 * `rowFree[i]` is the number of free seats in rows[i] (callers keep it up to date; the allocator uses it to skip rows without enough free seats, it must not trust it beyond that).
 * Returns the chosen seat numbers in ascending order, or null when the request cannot be met. Never mutates its inputs.
 *
 * Rules:
 * 1. Candidates are the rows matching `category`, `categories` and `section` (when given), considered best first
 *    (array order). A row with `rowFree[i] < count` is skipped unscanned: that is what keeps an
 *    on-sale of a 100,000-seat map cheap, so an understated `rowFree` hides the row's seats.
 * 2. A block is `count` adjacent free seats in one row. A row's best block is the one whose centre
 *    is nearest the row's centre; ties go to the leftmost.
 * 3. A block leaves an orphan when the free run it sits in keeps exactly one seat on a side and
 *    that seat has a taken seat beyond it: a single seat between taken seats is hard to sell,
 *    while one at the row's end (by the aisle or wall) is not, and a seat that was already
 *    alone is not the block's fault. The first candidate row with an orphan-free block wins,
 *    with its best orphan-free block; only when no candidate row has one does the first row
 *    with any block win, with its best block: seating a party together beats refusing it to spare
 *    one lone seat.
 * 4. When no candidate row has a block: with `allowSplit`, free seats of the candidate rows are
 *    taken best row first and, within a row, nearest its centre first (ties: left first), until
 *    `count` are taken (null when there are fewer; rows whose `rowFree` is 0 are skipped); without
 *    `allowSplit`, null.
 *
 * Cost: one O(length) pass per scanned row, stopping at the first row with an orphan-free block,
 * allocating nothing but the result and one scratch object (the split fallback may visit every
 * candidate row).
 *
 * @throws RangeError when `count` is not an integer in 1..1000.
 */
export function allocateBestAvailable(
  rows: readonly AllocatorRow[],
  free: Uint8Array,
  rowFree: ArrayLike<number>,
  request: BestAvailable,
): number[] | null {
  const { count } = request;
  if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) {
    throw new RangeError(`count must be an integer in 1..${MAX_COUNT}, got ${count}`);
  }
  const best: RowBest = { clean: -1, any: -1 };
  let fallbackRow: AllocatorRow | undefined;
  let fallbackStart = -1;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (row === undefined || (rowFree[i] ?? 0) < count || !isCandidate(row, request)) continue;
    scanRow(free, row, count, best);
    if (best.clean >= 0) return block(row, best.clean, count);
    if (fallbackRow === undefined && best.any >= 0) {
      fallbackRow = row;
      fallbackStart = best.any;
    }
  }
  if (fallbackRow !== undefined) return block(fallbackRow, fallbackStart, count);
  return request.allowSplit ? takeSplit(rows, free, rowFree, request) : null;
}

/** Whether a request may take seats in the row: its category and section, as the request limits them. */
export function isCandidate(
  row: Pick<AllocatorRow, 'category' | 'section'> & { length?: number },
  { category, categories, section }: Pick<BestAvailable, 'category' | 'categories' | 'section'>,
): boolean {
  return (
    row.length !== 0 &&
    (category === undefined || row.category === category) &&
    (categories === undefined || categories.includes(row.category)) &&
    (section === undefined || row.section === section)
  );
}

function block(row: AllocatorRow, relativeStart: number, count: number): number[] {
  const seats = new Array<number>(count);
  const first = row.start + relativeStart;
  for (let k = 0; k < count; k++) seats[k] = first + k;
  return seats;
}

/** Finds the row's best block and best orphan-free block in one pass over its seats. */
function scanRow(free: Uint8Array, row: AllocatorRow, count: number, out: RowBest): void {
  const { start, length } = row;
  out.clean = -1;
  out.any = -1;
  // Distances are doubled (|2s + count - length| for a block at s) to stay in integers.
  let cleanDistance = Infinity;
  let anyDistance = Infinity;
  // The start whose centre is nearest the row's, rounded down.
  const ideal = Math.floor((length - count) / 2);
  let runStart = -1;
  for (let j = 0; j <= length; j++) {
    if (j < length && free[start + j] === 1) {
      if (runStart < 0) runStart = j;
      continue;
    }
    if (runStart >= 0 && j - runStart >= count) {
      // Free run [runStart, j): its blocks start at lo..hi. Only the starts lo + 1 and hi - 1 can
      // orphan, so the nearest orphan-free start is among the three starts nearest the centre,
      // which lie within near - 2 .. near + 2. Checking just those keeps a long run O(1).
      const lo = runStart;
      const hi = j - count;
      const near = Math.min(Math.max(ideal, lo), hi);
      const last = Math.min(hi, near + 2);
      // Runs and starts go left to right, so keeping only strictly nearer blocks breaks ties leftwards.
      for (let s = Math.max(lo, near - 2); s <= last; s++) {
        const distance = Math.abs(2 * s + count - length);
        if (distance < anyDistance) {
          anyDistance = distance;
          out.any = s;
        }
        if (distance < cleanDistance) {
          const leftOrphan = s - lo === 1 && lo > 0;
          const rightOrphan = hi - s === 1 && j < length;
          if (!leftOrphan && !rightOrphan) {
            cleanDistance = distance;
            out.clean = s;
          }
        }
      }
    }
    runStart = -1;
  }
}

/** Takes free seats best row first, nearest the row's centre first (left first on ties). */
function takeSplit(
  rows: readonly AllocatorRow[],
  free: Uint8Array,
  rowFree: ArrayLike<number>,
  request: BestAvailable,
): number[] | null {
  const { count } = request;
  const seats: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (row === undefined || (rowFree[i] ?? 0) < 1 || !isCandidate(row, request)) continue;
    const { start, length } = row;
    // l and r walk outwards from the centre, always equally far from it.
    let l = Math.floor((length - 1) / 2);
    let r = length - 1 - l;
    if (l === r) {
      if (free[start + l] === 1 && seats.push(start + l) === count) break;
      l--;
      r++;
    }
    for (; l >= 0; l--, r++) {
      if (free[start + l] === 1 && seats.push(start + l) === count) break;
      if (free[start + r] === 1 && seats.push(start + r) === count) break;
    }
    if (seats.length === count) break;
  }
  return seats.length === count ? seats.sort((a, b) => a - b) : null;
}
