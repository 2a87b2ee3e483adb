import { isCandidate, type BestAvailable } from '../../domain/seat-allocator.js';
import type { SeatPlan } from '../../domain/seat-map.js';
import type { SeatStates } from '../../repositories/show.repository.js';

const FREE = 0x46; // 'F'

/**
 * The seat states of one seated show as this process knows them, at `version` of the show's
 * seats: what best-available chooses from without reading the show's seats on every hold.
 * The database has the last word: a hold group written against an older version is refused
 * whole (`stale`), and this catches up with the seats changed since.
 */
export class ShowSeats {
  /** 1 where the seat is free. */
  readonly free: Uint8Array;
  /** Free seats per row of the plan. */
  readonly rowFree: Int32Array;
  /**
   * The longest run of adjacent free seats per row, for the rows not in `changedRows`: a row
   * whose free seats are all apart (a pair taken from the centre of an even row leaves its two
   * ends) must not be scanned by every later request for two together.
   */
  private readonly rowRun: Int32Array;
  private readonly changedRows = new Set<number>();
  version = '';
  /** Something this process did changed seats without telling this: catch up before choosing. */
  needsRefresh = true;
  /**
   * The holds this process granted, by booking id, with their deadlines (Date ms) and seats: once
   * a deadline passes, its seats are free for the next choice, before the database has
   * reclaimed them (hold_seats reclaims overdue holds before it claims seats). `due` lists them
   * in deadline order (holds are granted, and mostly extended, to now + TTL, so appending keeps it
   * nearly ordered; an entry that comes out of order is only released late).
   */
  private readonly holds = new Map<string, { until: number; seatNos: readonly number[] }>();
  private due: { until: number; id: string }[] = [];
  private dueHead = 0;

  constructor(readonly plan: SeatPlan) {
    this.free = new Uint8Array(plan.total);
    this.rowFree = new Int32Array(plan.rows.length);
    this.rowRun = new Int32Array(plan.rows.length);
  }

  /** The longest run of adjacent free seats of each row, brought up to date. */
  longestRuns(): Int32Array {
    for (const index of this.changedRows) {
      const { start, length } = this.plan.rows[index]!;
      let longest = 0;
      let run = 0;
      for (let seatNo = start; seatNo < start + length; seatNo++) {
        run = this.free[seatNo] === 1 ? run + 1 : 0;
        if (run > longest) longest = run;
      }
      this.rowRun[index] = longest;
    }
    this.changedRows.clear();
    return this.rowRun;
  }

  /** Applies what the database read: every seat (seatNos null) or the seats changed since `version`. */
  apply({ version, seatNos, states }: SeatStates): void {
    if (seatNos === null) {
      this.free.fill(0);
      this.rowFree.fill(0);
      for (let seatNo = 0; seatNo < states.length; seatNo++) {
        if (states.charCodeAt(seatNo) === FREE) this.set(seatNo, true);
      }
    } else {
      seatNos.forEach((seatNo, index) => this.set(seatNo, states.charCodeAt(index) === FREE));
    }
    this.version = version;
    this.needsRefresh = false;
  }

  /** Forgets the seat states: the next choice reads every seat again. */
  reset(): void {
    this.version = '';
    this.needsRefresh = true;
  }

  /** A hold this process granted or extended: its seats are free again once `until` has passed. */
  holdUntil(bookingId: string, until: number, seatNos?: readonly number[]): void {
    const known = this.holds.get(bookingId);
    if (!known && !seatNos) return;
    this.holds.set(bookingId, { until, seatNos: seatNos ?? known!.seatNos });
    this.due.push({ until, id: bookingId });
  }

  /** The booking left PENDING (confirmed, cancelled, expired): its deadline no longer frees anything. */
  forget(bookingId: string): void {
    this.holds.delete(bookingId);
  }

  /** Frees the seats of the holds this process granted whose deadline has passed by `now`. */
  releaseOverdue(now: number): void {
    while (this.dueHead < this.due.length && this.due[this.dueHead]!.until <= now) {
      const { id, until } = this.due[this.dueHead++]!;
      const hold = this.holds.get(id);
      if (hold?.until !== until) continue; // extended or ended since: a later entry stands for it
      this.holds.delete(id);
      this.release(hold.seatNos);
    }
    if (this.dueHead > 1024 && this.dueHead * 2 > this.due.length) {
      this.due = this.due.slice(this.dueHead);
      this.dueHead = 0;
    }
  }

  isFree(seatNo: number): boolean {
    return this.free[seatNo] === 1;
  }

  take(seatNos: readonly number[]): void {
    for (const seatNo of seatNos) this.set(seatNo, false);
  }

  release(seatNos: readonly number[]): void {
    for (const seatNo of seatNos) this.set(seatNo, true);
  }

  /** Free seats in the rows a request may take from. */
  freeIn(request: Pick<BestAvailable, 'category' | 'categories' | 'section'>): number {
    let count = 0;
    this.plan.rows.forEach((row, index) => {
      if (isCandidate(row, request)) count += this.rowFree[index]!;
    });
    return count;
  }

  private set(seatNo: number, free: boolean): void {
    const was = this.free[seatNo] === 1;
    if (was === free) return;
    this.free[seatNo] = free ? 1 : 0;
    const row = this.plan.rowIndexOf(seatNo);
    this.rowFree[row]! += free ? 1 : -1;
    this.changedRows.add(row);
  }
}
