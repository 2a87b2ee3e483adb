import type { AvailabilityUpdate, SeatsUpdate } from '@seat-hold/client';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from './api.js';

/** After a stream is refused, try again this much later. */
const RETRY_MS = 5_000;

export interface LiveHandlers {
  /** Seats whose state changed (seated shows), before the availability they belong to. */
  onSeats?: (update: SeatsUpdate) => void;
  /** The stream could not follow on from what the page read: read the seat map again. */
  onReset?: () => void;
}

export type LiveStatus = 'connecting' | 'live' | 'reconnecting';

/**
 * The show's live availability over Server-Sent Events. EventSource reconnects by itself
 * and sends Last-Event-ID, so the server replays what was missed (or says reset).
 */
export function useAvailability(
  showId: string | undefined,
  handlers: LiveHandlers = {},
): { update: AvailabilityUpdate | undefined; status: LiveStatus } {
  const [update, setUpdate] = useState<AvailabilityUpdate>();
  const [status, setStatus] = useState<LiveStatus>('connecting');
  // The latest handlers, without reopening the stream when a render passes new closures.
  const current = useRef(handlers);
  current.current = handlers;

  useEffect(() => {
    if (showId === undefined) return;
    const id = showId;
    setUpdate(undefined);
    setStatus('connecting');
    let source: EventSource | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let lastEventId: string | undefined;

    function open() {
      const stream = new EventSource(api.availabilityStreamUrl(id, lastEventId));
      source = stream;
      stream.addEventListener('open', () => setStatus('live'));
      stream.addEventListener('error', () => {
        setStatus('reconnecting');
        // A refused stream (429, 503 too_many_streams) is not retried by EventSource itself.
        if (stream.readyState === EventSource.CLOSED) retry = setTimeout(open, RETRY_MS);
      });
      stream.addEventListener('seats', (event: MessageEvent<string>) => {
        current.current.onSeats?.(JSON.parse(event.data) as SeatsUpdate);
      });
      stream.addEventListener('availability', (event: MessageEvent<string>) => {
        const data = JSON.parse(event.data) as AvailabilityUpdate;
        if (event.lastEventId) lastEventId = event.lastEventId;
        if (data.reset) current.current.onReset?.();
        setUpdate(data);
        setStatus('live');
      });
    }
    open();
    return () => {
      clearTimeout(retry);
      source?.close();
    };
  }, [showId]);

  return { update, status };
}
