import type { SeatMapState, SeatsUpdate } from '@seat-hold/client';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import { useAvailability, type LiveStatus } from '../live.js';
import { describeError } from '../problems.js';
import { useLatestRequest } from '../useLatestRequest.js';
import { applySeats, toModel, type SeatMapModel } from './model.js';
import type { AvailabilityUpdate } from '@seat-hold/client';

export interface LiveSeatMap {
  /** Undefined until the map is read (and always, for a show without one). */
  model: SeatMapModel | undefined;
  availability: AvailabilityUpdate | undefined;
  status: LiveStatus;
  error: string | undefined;
  /** Read the map again (after this buyer's own change, for instance). */
  reload: () => Promise<void>;
}

/**
 * A show's availability, and for a seated show its seat map, kept up to date by the live
 * stream. Seat events that arrive while the map is being read are applied after it too: each
 * says a seat's state at the time it was sent, so applying them in order ends at the latest.
 */
export function useLiveSeatMap(
  showId: string | undefined,
  seated: boolean,
  readSeats: (id: string) => Promise<SeatMapState> = (id) => api.getSeats(id),
): LiveSeatMap {
  const [model, setModel] = useState<SeatMapModel>();
  const [error, setError] = useState<string>();
  // Seat events that arrive while the map is being read, applied to what the read returns.
  const early = useRef<SeatsUpdate['seats'][] | undefined>(undefined);
  // Reads may overlap (a reset during the first read): only the latest one's result is used.
  const start = useLatestRequest();

  const reload = useCallback(async () => {
    if (showId === undefined || !seated) return;
    const isLatest = start();
    const queued: SeatsUpdate['seats'][] = [];
    early.current = queued;
    try {
      let next = toModel(await readSeats(showId));
      if (!isLatest()) return;
      for (const seats of queued) next = applySeats(next, seats);
      setModel(next);
      setError(undefined);
    } catch (problem) {
      if (isLatest()) setError(describeError(problem));
    } finally {
      if (isLatest()) early.current = undefined;
    }
    // readSeats is the caller's choice of client: fixed for a page.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [showId, seated, start]);

  const { update, status } = useAvailability(showId, {
    onSeats: (event) => {
      early.current?.push(event.seats);
      setModel((current) => (current === undefined ? current : applySeats(current, event.seats)));
    },
    onReset: () => void reload(),
  });

  useEffect(() => {
    setModel(undefined);
    void reload();
  }, [reload]);

  return { model, availability: update, status, error, reload };
}
