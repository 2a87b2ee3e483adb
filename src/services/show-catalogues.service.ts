import type { Catalogue } from '../domain/ticket-types.js';
import type { ShowRepository } from '../repositories/show.repository.js';

/** Most shows whose ticket types this process remembers; the first read are forgotten first. */
const MAX_REMEMBERED = 2_000;

/**
 * Each show's ticket types as this process last read them, at a version of them: what its holds
 * are priced with, without a query per hold. A hold statement carries the version it was priced
 * at, and the database refuses the whole group when the types changed since (`types_changed`): the
 * lane reads them again (`reload`) and prices again. So a price is never taken from a stale list.
 */
export class ShowCatalogues {
  private readonly catalogues = new Map<string, Catalogue>();
  /** Reads in flight: the first holds of an on-sale arrive together and share one. */
  private readonly reading = new Map<string, Promise<Catalogue | undefined>>();
  /** Moves with each forget: a read begun before it is not remembered (it may be of the old types). */
  private generation = 0;

  constructor(private readonly shows: ShowRepository) {}

  /** The show's catalogue as remembered, or read; undefined when there is no such show. */
  get(showId: string): Promise<Catalogue | undefined> {
    const known = this.catalogues.get(showId);
    return known ? Promise.resolve(known) : this.reload(showId);
  }

  /** The show's catalogue read again (one read at a time per show), and remembered. */
  reload(showId: string): Promise<Catalogue | undefined> {
    let read = this.reading.get(showId);
    if (!read) {
      const generation = this.generation;
      read = this.shows
        .catalogue(showId)
        .then((catalogue) => {
          this.catalogues.delete(showId); // most recently read last
          if (catalogue && generation === this.generation) this.catalogues.set(showId, catalogue);
          if (this.catalogues.size > MAX_REMEMBERED) this.catalogues.delete(this.catalogues.keys().next().value!);
          return catalogue;
        })
        .finally(() => this.reading.delete(showId));
      this.reading.set(showId, read);
    }
    return read;
  }

  /** The show's types changed in this process: read them again next time. */
  forget(showId: string): void {
    this.catalogues.delete(showId);
    this.reading.delete(showId);
    this.generation++;
  }
}
