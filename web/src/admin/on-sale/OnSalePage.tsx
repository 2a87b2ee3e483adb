import type { Show } from '@seat-hold/client';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { formatDateTime, plural } from '../../format.js';
import { useLiveSeatMap } from '../../seatmap/useLiveSeatMap.js';
import { BlocksPanel, useBlocks } from './BlocksPanel.js';
import { BookingsPanel } from './BookingsPanel.js';
import { GeneralHouseSeats, SeatedHouseSeats } from './HouseSeats.js';
import { LiveDot } from '../shared/LiveDot.js';
import { useAdmin } from '../shared/session.js';
import { SettingsPanel } from './SettingsPanel.js';
import { SalesState } from '../shared/SalesState.js';
import { SummaryPanel } from './SummaryPanel.js';
import { useSummary } from './useSummary.js';

export function OnSalePage({ id }: { id: string }) {
  const { api, fail } = useAdmin();
  const [show, setShow] = useState<Show>();
  const [error, setError] = useState<string>();

  useEffect(() => {
    setShow(undefined);
    setError(undefined);
    api.getShow(id).then(setShow, (problem: unknown) => setError(fail(problem)));
  }, [api, fail, id]);

  if (error)
    return (
      <section class="panel">
        <p class="alert" role="alert">
          {error}
        </p>
        <a href="/admin">All shows</a>
      </section>
    );
  if (show === undefined) return <p class="muted">Loading…</p>;
  return <OnSale key={show.id} show={show} onSaved={setShow} />;
}

/**
 * One show while it sells: the summary polled every second, the seat map kept live by the
 * show's stream (one connection; general admission needs none), house seats, comps,
 * bookings and settings.
 */
function OnSale({ show, onSaved }: { show: Show; onSaved: (show: Show) => void }) {
  const seated = show.seating === 'assigned';
  const map = useLiveSeatMap(seated ? show.id : undefined, seated);
  const summary = useSummary(show.id);
  const blocks = useBlocks(show.id);
  const [bookingsVersion, setBookingsVersion] = useState(0);
  const live = summary.fresh && (!seated || map.status === 'live');

  const { reload: reloadBlocks } = blocks;
  const blocked = summary.summary?.seats.blocked;
  // Blocks made, released or comped elsewhere (another admin, a comp from a block) show up here too.
  useEffect(() => {
    if (blocked !== undefined) void reloadBlocks();
  }, [blocked, reloadBlocks]);

  const onChanged = useCallback(() => {
    void reloadBlocks();
    setBookingsVersion((version) => version + 1);
  }, [reloadBlocks]);

  return (
    <article class="on-sale" data-show={show.id} data-seating={show.seating}>
      <header class="panel on-sale-header">
        <div class="admin-heading">
          <h1>{show.title}</h1>
          <LiveDot live={live} words />
        </div>
        <p class="muted">
          {formatDateTime(show.start_time)} · {seated ? 'Seat map' : 'General admission'} ·{' '}
          {plural(show.total_seats, 'seat')} · <SalesState show={show} />
        </p>
        <nav class="in-page" aria-label="On this page">
          <a href="#house-title">House seats</a>
          <a href="#blocks">Blocks</a>
          <a href="#bookings">Bookings</a>
          <a href="#settings">Settings</a>
          <a href={`/shows/${show.id}`} target="_blank" rel="noopener">
            Storefront page
          </a>
        </nav>
      </header>
      <SummaryPanel live={summary} />
      {seated ? (
        <>
          <SeatedHouseSeats show={show} model={map.model} onChanged={onChanged} />
          {map.error && (
            <p class="alert" role="alert">
              {map.error}
            </p>
          )}
        </>
      ) : (
        <GeneralHouseSeats show={show} blocks={blocks.blocks} onChanged={onChanged} />
      )}
      <BlocksPanel showId={show.id} blocks={blocks} onChanged={onChanged} />
      <BookingsPanel showId={show.id} version={bookingsVersion} />
      <SettingsPanel show={show} onSaved={onSaved} />
    </article>
  );
}
