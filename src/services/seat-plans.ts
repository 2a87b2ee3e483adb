import { SeatPlan } from '../domain/seat-map.js';
import type { ShowRepository } from '../repositories/show.repository.js';

/** Most shows whose seating this process remembers; the first read are forgotten first (reading one again is one query). */
const MAX_REMEMBERED = 2_000;

/**
 * Each show's seating, read once: null for general admission, or its seat plan (the map with
 * its seats numbered). A show's seating never changes kind, so a hold on a show already seen
 * costs no query to know how it is sold. A seat map can change (PATCH): a process that still
 * has the old one learns it from the map version the statements check, and forgets it.
 */
export class SeatPlans {
  private readonly plans = new Map<string, SeatPlan | null>();
  /** Reads in flight: the first holds of an on-sale arrive together and share one. */
  private readonly reading = new Map<string, Promise<SeatPlan | null | undefined>>();

  constructor(private readonly shows: ShowRepository) {}

  /** The show's plan if it was read already (null: general admission); undefined if not. */
  known(showId: string): SeatPlan | null | undefined {
    return this.plans.get(showId);
  }

  /** The show's plan, null for general admission, undefined when there is no such show. */
  get(showId: string): Promise<SeatPlan | null | undefined> {
    const known = this.plans.get(showId);
    if (known !== undefined) return Promise.resolve(known);
    let read = this.reading.get(showId);
    if (!read) {
      read = this.read(showId).finally(() => this.reading.delete(showId));
      this.reading.set(showId, read);
    }
    return read;
  }

  private async read(showId: string): Promise<SeatPlan | null | undefined> {
    const seating = await this.shows.seating(showId);
    if (seating === undefined) return undefined;
    const plan = seating.map === null ? null : new SeatPlan(seating.map, seating.mapVersion);
    this.plans.set(showId, plan);
    if (this.plans.size > MAX_REMEMBERED) this.plans.delete(this.plans.keys().next().value!);
    return plan;
  }

  /** The show's map changed: read it again next time. */
  forget(showId: string): void {
    this.plans.delete(showId);
  }
}
