import type { ShowListItem } from '@seat-hold/client';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { formatDateTime, plural } from '../format.js';
import { useAvailability } from '../live.js';
import { describeError } from '../problems.js';
import { useLatestRequest } from '../useLatestRequest.js';

/**
 * Browsers open at most six connections to one origin over HTTP/1.1 and each stream keeps
 * one: the first shows get live numbers, the rest are read again every REFRESH_MS.
 */
const LIVE_SHOWS = 4;
const REFRESH_MS = 15_000;

export function ShowList() {
  const [shows, setShows] = useState<ShowListItem[]>();
  const [error, setError] = useState<string>();
  // One run of the effect for the page's life: its reads' answers are unused once it unmounts.
  const start = useLatestRequest();

  useEffect(() => {
    const isLatest = start();
    const read = () =>
      api.listShows({ limit: 50 }).then(
        ({ shows: page }) => {
          if (!isLatest()) return;
          setShows(page);
          setError(undefined);
        },
        (problem: unknown) => isLatest() && setError(describeError(problem)),
      );
    void read();
    const timer = setInterval(() => void read(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [start]);

  return (
    <section>
      <h1>Shows</h1>
      {error && (
        <p class="alert" role="alert">
          {error}
        </p>
      )}
      {shows === undefined && !error && <p class="muted">Loading shows…</p>}
      {shows?.length === 0 && (
        <p class="panel">
          No shows on sale yet. An admin creates them in the <a href="/admin">box office</a>.
        </p>
      )}
      <ul class="show-list">
        {shows?.map((show, index) => (
          <li key={show.id}>
            <ShowCard show={show} live={index < LIVE_SHOWS} />
          </li>
        ))}
      </ul>
    </section>
  );
}

function ShowCard({ show, live }: { show: ShowListItem; live: boolean }) {
  return (
    <a class="show-card panel" href={`/shows/${show.id}`} data-show={show.id}>
      <h2>{show.title}</h2>
      <p class="muted">
        {formatDateTime(show.start_time)} · {show.seating === 'assigned' ? 'Reserved seating' : 'General admission'}
      </p>
      {live ? <LiveCount show={show} /> : <Count available={show.available_seats} live={false} />}
    </a>
  );
}

function LiveCount({ show }: { show: ShowListItem }) {
  const { update, status } = useAvailability(show.id);
  return <Count available={update?.available_seats ?? show.available_seats} live={status === 'live'} />;
}

export function Count({ available, live }: { available: number; live: boolean }) {
  return (
    <p class={`availability ${available === 0 ? 'sold-out' : ''}`} data-available={available}>
      <span class={`live-dot ${live ? 'live' : ''}`} title={live ? 'Live' : 'Not live'} />
      {available === 0 ? 'Sold out' : `${plural(available, 'seat')} left`}
    </p>
  );
}
