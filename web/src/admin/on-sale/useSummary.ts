import type { ShowSummary } from '@seat-hold/client';
import { useEffect, useRef, useState } from 'preact/hooks';
import { problemCode } from '../../problems.js';
import { useLatestRequest } from '../../useLatestRequest.js';
import { useAdmin } from '../shared/session.js';

const POLL_MS = 1_000;
/** After "too many requests", wait this long before asking again. */
const BACKOFF_MS = 5_000;
/** Holds per second are measured over about this long, so one busy poll does not make it jump. */
const RATE_WINDOW_MS = 5_000;

interface Sample {
  at: number;
  bookings: number;
}

export interface LiveSummary {
  summary: ShowSummary | undefined;
  /** New bookings (holds) per second, undefined until two summaries apart in time were read. */
  holdsPerSecond: number | undefined;
  error: string | undefined;
  /** The last poll answered. */
  fresh: boolean;
}

/** Every booking ever made on the show except comps, which are issued, not held. */
function heldEver(summary: ShowSummary): number {
  const { pending, confirmed, expired, cancelled, comps } = summary.bookings;
  return pending + confirmed + expired + cancelled - comps;
}

/**
 * The show's summary, read about once a second while the page is open and visible (one
 * request at a time: a slow answer delays the next poll rather than piling them up).
 * Holds per second come from the change in bookings between snapshots, over the database's
 * own times (`at`), so network delays do not skew it.
 */
export function useSummary(showId: string): LiveSummary {
  const { api, fail } = useAdmin();
  const [summary, setSummary] = useState<ShowSummary>();
  const [holdsPerSecond, setHoldsPerSecond] = useState<number>();
  const [error, setError] = useState<string>();
  const [fresh, setFresh] = useState(false);
  const samples = useRef<Sample[]>([]);
  // Each run of the effect polls one show: another show, or unmounting, stops it.
  const start = useLatestRequest();

  useEffect(() => {
    const isLatest = start();
    let timer: ReturnType<typeof setTimeout> | undefined;
    samples.current = [];
    setSummary(undefined);
    setHoldsPerSecond(undefined);

    async function poll() {
      let delay = POLL_MS;
      if (!document.hidden) {
        try {
          const next = await api.getSummary(showId);
          if (!isLatest()) return;
          setSummary(next);
          setError(undefined);
          setFresh(true);
          setHoldsPerSecond(measure(samples.current, { at: Date.parse(next.at), bookings: heldEver(next) }));
        } catch (problem) {
          if (!isLatest()) return;
          setError(fail(problem));
          setFresh(false);
          if (problemCode(problem) === 'rate_limited') delay = BACKOFF_MS;
        }
      }
      if (isLatest()) timer = setTimeout(() => void poll(), delay);
    }
    void poll();
    return () => clearTimeout(timer);
  }, [api, fail, showId, start]);

  return { summary, holdsPerSecond, error, fresh };
}

/** Adds the sample (when newer than the last) and answers the rate over the last RATE_WINDOW_MS. */
function measure(samples: Sample[], sample: Sample): number | undefined {
  const latest = samples.at(-1);
  if (latest === undefined || sample.at > latest.at) samples.push(sample);
  const last = samples.at(-1);
  while (samples.length > 2 && last !== undefined && (samples[1]?.at ?? 0) <= last.at - RATE_WINDOW_MS) samples.shift();
  const first = samples[0];
  if (first === undefined || last === undefined || first === last) return undefined;
  return Math.max(0, (last.bookings - first.bookings) / ((last.at - first.at) / 1000));
}
