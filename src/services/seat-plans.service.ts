import type { PoolClient } from '../adapters/postgres/pool.js';
import { SeatPlan } from '../domain/seat-map.js';
import type { ShowRepository } from '../repositories/show.repository.js';

/** Most shows whose seating this process remembers; the first read are forgotten first (reading one again is one query). */
const MAX_REMEMBERED = 2_000;

/**
 * Each show's seating, read once: null for general admission, or its seat plan (the map with its
 * seats numbered, at a seat_map_version). A show's seating never changes kind, so a hold on a show
 * already seen costs no query to know how it is sold.
 *
 * A seat map can change (PATCH, through any process), renumbering every seat: a plan remembered
 * here may be out of date. So a seat number is only ever used against the show's locked row: a
 * statement that takes seat numbers carries the map version they were numbered on and is refused
 * on another (core.hold_seats: map_changed), and code that numbers seats inside a transaction
 * holding the show's lock takes the plan of the version it locked (`underLock`).
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

  /** The show's plan as remembered, or read; null for general admission, undefined when there is no such show. */
  get(showId: string): Promise<SeatPlan | null | undefined> {
    const known = this.plans.get(showId);
    if (known !== undefined) return Promise.resolve(known);
    let read = this.reading.get(showId);
    if (!read) {
      read = this.read(showId, this.shows.seating(showId)).finally(() => this.reading.delete(showId));
      this.reading.set(showId, read);
    }
    return read;
  }

  /**
   * The show's plan as the database has it now: read again, and remembered (the same object as
   * before when its map has not changed, so that what is kept against it stays valid).
   */
  reload(showId: string): Promise<SeatPlan | null | undefined> {
    return this.read(showId, this.shows.seating(showId));
  }

  /**
   * The plan of the map version `mapVersion`, which the caller read from the show's locked row in
   * the transaction of `client`: seat ids numbered with it name the seats as they are under that
   * lock. Read in that transaction when the remembered plan is of another version.
   */
  async underLock(client: PoolClient, showId: string, mapVersion: number): Promise<SeatPlan | null> {
    const known = this.plans.get(showId);
    if (known === null || (known && known.mapVersion === mapVersion)) return known;
    const plan = await this.read(showId, this.shows.seating(showId, client));
    if (plan === undefined || (plan !== null && plan.mapVersion !== mapVersion)) {
      throw new Error(`show ${showId} changed under its lock`);
    }
    return plan;
  }

  /** The show's map changed: read it again next time. */
  forget(showId: string): void {
    this.plans.delete(showId);
  }

  private async read(
    showId: string,
    seating: ReturnType<ShowRepository['seating']>,
  ): Promise<SeatPlan | null | undefined> {
    const read = await seating;
    if (read === undefined) return undefined;
    const known = this.plans.get(showId);
    const plan =
      read.map === null
        ? null
        : known && known.mapVersion === read.mapVersion
          ? known
          : new SeatPlan(read.map, read.mapVersion);
    this.plans.delete(showId); // most recently read last
    this.plans.set(showId, plan);
    if (this.plans.size > MAX_REMEMBERED) this.plans.delete(this.plans.keys().next().value!);
    return plan;
  }
}
