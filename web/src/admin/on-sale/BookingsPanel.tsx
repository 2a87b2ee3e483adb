import type { Booking, ShowBookingsQuery } from '@seat-hold/client';
import { useCallback, useState } from 'preact/hooks';
import { formatDateTime } from '../../format.js';
import { InputProblem, useAdmin } from '../shared/session.js';
import { usePaged, type Page } from '../shared/usePaged.js';

type Status = NonNullable<ShowBookingsQuery['status']>;
const STATUSES: Record<Status, string> = {
  PENDING: 'Holding',
  CONFIRMED: 'Confirmed',
  EXPIRED: 'Expired',
  CANCELLED: 'Cancelled',
};

interface Filters {
  status: Status | '';
  customer: string;
  bookingId: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const NO_FILTERS: Filters = { status: '', customer: '', bookingId: '' };
const PAGE = 50;

/** The show's bookings, filtered, a page at a time; `version` changes when one was added here. */
export function BookingsPanel({ showId, version }: { showId: string; version: number }) {
  const { api } = useAdmin();
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [applied, setApplied] = useState<Filters>(NO_FILTERS);

  const read = useCallback(
    async (cursor: string | undefined): Promise<Page<Booking>> => {
      // A new version means a booking was made here: the same filters are read again.
      void version;
      const id = applied.bookingId.trim().toLowerCase();
      // One booking by its id: the list has no id filter, but the admin key reads any booking.
      if (id !== '') {
        if (!UUID.test(id))
          throw new InputProblem('A booking number has 36 characters, like 0190a5c2-7d1e-7c3b-9a4f-2b8e6d1c0f3a.');
        const booking = await api.getBooking(id);
        return { items: booking.show_id === showId ? [booking] : [], nextCursor: undefined };
      }
      const customer = applied.customer.trim();
      const { bookings, nextCursor } = await api.listShowBookings(showId, {
        limit: PAGE,
        ...(applied.status ? { status: applied.status } : {}),
        ...(customer ? { customer_ref: customer } : {}),
        ...(cursor ? { cursor } : {}),
      });
      return { items: bookings, nextCursor };
    },
    [api, showId, applied, version],
  );
  const bookings = usePaged(read);
  const filtered = applied.status !== '' || applied.customer.trim() !== '' || applied.bookingId.trim() !== '';

  return (
    <section class="panel" id="bookings" aria-labelledby="bookings-title">
      <h2 id="bookings-title">Bookings</h2>
      <form
        class="row filters"
        data-form="booking-filters"
        onSubmit={(event) => {
          event.preventDefault();
          setApplied({ ...draft });
        }}
      >
        <label>
          Status
          <select
            value={draft.status}
            onChange={(event) => setDraft({ ...draft, status: event.currentTarget.value as Status | '' })}
            data-field="booking-status"
          >
            <option value="">Any</option>
            {Object.entries(STATUSES).map(([value, words]) => (
              <option key={value} value={value}>
                {words}
              </option>
            ))}
          </select>
        </label>
        <label>
          Customer reference
          <input
            maxLength={128}
            value={draft.customer}
            onInput={(event) => setDraft({ ...draft, customer: event.currentTarget.value })}
            data-field="booking-customer"
          />
        </label>
        <label>
          Booking number
          <input
            spellcheck={false}
            value={draft.bookingId}
            onInput={(event) => setDraft({ ...draft, bookingId: event.currentTarget.value })}
            data-field="booking-id"
          />
        </label>
        <button type="submit" class="secondary" data-action="filter-bookings">
          Show
        </button>
        {filtered && (
          <button
            type="button"
            class="secondary"
            onClick={() => {
              setDraft(NO_FILTERS);
              setApplied(NO_FILTERS);
            }}
          >
            All bookings
          </button>
        )}
      </form>
      {applied.bookingId.trim() !== '' && (
        <p class="muted small">A booking number finds that one booking; the other filters then do not apply.</p>
      )}
      {bookings.error && (
        <p class="alert" role="alert">
          {bookings.error}
        </p>
      )}
      {bookings.items === undefined ? (
        !bookings.error && <p class="muted">Loading bookings…</p>
      ) : bookings.items.length === 0 ? (
        <p class="muted" data-list="bookings">
          {filtered ? 'No bookings match.' : 'No bookings yet.'}
        </p>
      ) : (
        <div class="table-scroll">
          <table data-list="bookings">
            <caption class="visually-hidden">Bookings, in the order they were made</caption>
            <thead>
              <tr>
                <th scope="col">Booking</th>
                <th scope="col">Status</th>
                <th scope="col">Seats</th>
                <th scope="col">Customer</th>
                <th scope="col">Made</th>
                <th scope="col">Hold ends</th>
              </tr>
            </thead>
            <tbody>
              {bookings.items.map((booking) => (
                <BookingRow key={booking.id} booking={booking} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div class="actions">
        {bookings.hasMore && (
          <button
            type="button"
            class="secondary"
            disabled={bookings.loading}
            onClick={bookings.loadMore}
            data-action="more-bookings"
          >
            {bookings.loading ? 'Loading…' : 'Load more'}
          </button>
        )}
        <button type="button" class="secondary" disabled={bookings.loading} onClick={bookings.reload}>
          Refresh
        </button>
      </div>
    </section>
  );
}

function BookingRow({ booking }: { booking: Booking }) {
  return (
    <tr data-booking={booking.id} data-status={booking.status}>
      <td>
        <code class="id">{booking.id}</code>
        {booking.comp && <span class="pill pill-muted">comp</span>}
        {booking.late && <span class="pill pill-muted">paid late</span>}
      </td>
      <td>
        <span class={`pill status-${booking.status.toLowerCase()}`}>{STATUSES[booking.status]}</span>
      </td>
      <td class="seat-list">{booking.seat_ids?.join(', ') ?? booking.seats.toLocaleString()}</td>
      <td>{booking.customer_ref ?? <span class="muted">–</span>}</td>
      <td>{formatDateTime(booking.created_at)}</td>
      <td>{booking.status === 'PENDING' ? formatDateTime(booking.expires_at) : <span class="muted">–</span>}</td>
    </tr>
  );
}
