import type { ShowListItem } from '@seat-hold/client';
import { useCallback, useEffect } from 'preact/hooks';
import { formatDateTime } from '../../format.js';
import { useAvailability } from '../../live.js';
import { LiveDot } from '../shared/LiveDot.js';
import { SalesState } from '../shared/SalesState.js';
import { useAdmin } from '../shared/session.js';
import { usePaged } from '../shared/usePaged.js';

/**
 * A browser opens at most six connections to one origin and each live stream keeps one:
 * only the first shows get live numbers, the rest are read again every REFRESH_MS.
 */
const LIVE_SHOWS = 2;
const REFRESH_MS = 15_000;

export function ShowsPage() {
  const { api } = useAdmin();
  const read = useCallback(
    (cursor: string | undefined) =>
      api.listShows({ limit: 50, ...(cursor ? { cursor } : {}) }).then(({ shows, nextCursor }) => ({
        items: shows,
        nextCursor,
      })),
    [api],
  );
  const shows = usePaged(read);
  const { reload, hasMore } = shows;

  // Only while the list is one page: a refresh would drop the pages loaded after it.
  useEffect(() => {
    if (hasMore) return;
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload, hasMore]);

  return (
    <section aria-labelledby="shows-title">
      <div class="admin-heading">
        <h1 id="shows-title">Shows</h1>
        <a class="button" href="/admin/shows/new" data-action="new-show">
          New show
        </a>
      </div>
      {shows.error && (
        <p class="alert" role="alert">
          {shows.error}
        </p>
      )}
      {shows.items === undefined ? (
        !shows.error && <p class="muted">Loading shows…</p>
      ) : shows.items.length === 0 ? (
        <p class="panel">
          No shows yet. <a href="/admin/shows/new">Create the first one</a>.
        </p>
      ) : (
        <div class="panel table-scroll">
          <table data-list="shows">
            <caption class="visually-hidden">Shows, soonest first</caption>
            <thead>
              <tr>
                <th scope="col">Show</th>
                <th scope="col">Starts</th>
                <th scope="col">Seating</th>
                <th scope="col" class="num">
                  Available
                </th>
                <th scope="col">Sales</th>
              </tr>
            </thead>
            <tbody>
              {shows.items.map((show, index) => (
                <ShowRow key={show.id} show={show} live={index < LIVE_SHOWS} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {shows.hasMore && (
        <div class="actions">
          <button type="button" class="secondary" disabled={shows.loading} onClick={shows.loadMore}>
            {shows.loading ? 'Loading…' : 'Load more'}
          </button>
        </div>
      )}
    </section>
  );
}

function ShowRow({ show, live }: { show: ShowListItem; live: boolean }) {
  return (
    <tr data-show={show.id}>
      <th scope="row">
        <a href={`/admin/shows/${show.id}`} data-link="on-sale">
          {show.title}
        </a>
      </th>
      <td>{formatDateTime(show.start_time)}</td>
      <td>{show.seating === 'assigned' ? 'Seat map' : 'General admission'}</td>
      <td class="num">
        {live ? <LiveAvailable show={show} /> : <Available show={show} available={show.available_seats} />}
      </td>
      <td>
        <SalesState show={show} />
      </td>
    </tr>
  );
}

function LiveAvailable({ show }: { show: ShowListItem }) {
  const { update, status } = useAvailability(show.id);
  return <Available show={show} available={update?.available_seats ?? show.available_seats} status={status} />;
}

function Available({
  show,
  available,
  status,
}: {
  show: ShowListItem;
  available: number;
  status?: 'connecting' | 'live' | 'reconnecting';
}) {
  return (
    <span class="available" data-available={available}>
      {status !== undefined && <LiveDot live={status === 'live'} />}
      {available.toLocaleString()} / {show.total_seats.toLocaleString()}
    </span>
  );
}
