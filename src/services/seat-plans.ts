import { SeatPlan } from '../domain/seat-map.js';
import type { ShowRepository } from '../repositories/show.repository.js';

/** Most shows whose seating this process remembers; the first read are forgotten first (reading one again is one query). */
const MAX_REMEMBERED = 2_000;

/**
 * Each show's seating, read once: null for general admission, or its seat plan (the map with
 * its seats numbered). A show's seating never changes kind, so a hold on a show already seen
 * costs no query to know how it is sold.
 */
export class SeatPlans {
  private readonly plans = new Map<string, SeatPlan | null>();

  constructor(private readonly shows: ShowRepository) {}

  /** The show's plan if it was read already (null: general admission); undefined if not. */
  known(showId: string): SeatPlan | null | undefined {
    return this.plans.get(showId);
  }

  /** The show's plan, null for general admission, undefined when there is no such show. */
  async get(showId: string): Promise<SeatPlan | null | undefined> {
    const known = this.plans.get(showId);
    if (known !== undefined) return known;
    const map = await this.shows.seatMap(showId);
    if (map === undefined) return undefined;
    const plan = map === null ? null : new SeatPlan(map);
    this.plans.set(showId, plan);
    if (this.plans.size > MAX_REMEMBERED) this.plans.delete(this.plans.keys().next().value!);
    return plan;
  }
}
