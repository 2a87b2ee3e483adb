import type { ShowSummary } from '@seat-hold/client';
import { formatDateTime, formatMoney } from '../../format.js';
import type { LiveSummary } from './useSummary.js';

type SeatCounts = ShowSummary['seats'];
const STATES: [key: keyof SeatCounts, words: string][] = [
  ['free', 'Free'],
  ['held', 'Held'],
  ['sold', 'Sold'],
  ['blocked', 'Blocked'],
  ['total', 'Total'],
];

/** Seats by state overall and per category, bookings by status, sales by ticket type, and the rate of new holds. */
export function SummaryPanel({ live }: { live: LiveSummary }) {
  const { summary, holdsPerSecond } = live;
  const categories = Object.entries(summary?.by_category ?? {});
  const types = Object.entries(summary?.by_type ?? {});
  return (
    <section class="panel" aria-labelledby="summary-title" data-summary-at={summary?.at}>
      <h2 id="summary-title">Seats now</h2>
      <dl class="counters">
        {STATES.map(([key, words]) => (
          <div key={key} class={`counter counter-${key}`}>
            <dt>{words}</dt>
            <dd data-count={key} data-value={summary?.seats[key]}>
              {summary === undefined ? '–' : summary.seats[key].toLocaleString()}
            </dd>
          </div>
        ))}
        <div class="counter counter-rate">
          <dt>
            Holds <abbr title="per second">/s</abbr>
          </dt>
          <dd data-count="holds-per-second" data-value={holdsPerSecond?.toFixed(2)}>
            {holdsPerSecond === undefined ? '–' : holdsPerSecond.toFixed(1)}
          </dd>
        </div>
      </dl>
      {summary && (
        <p class="muted small">
          Bookings: {summary.bookings.pending.toLocaleString()} holding, {summary.bookings.confirmed.toLocaleString()}{' '}
          confirmed ({summary.bookings.comps.toLocaleString()} comps), {summary.bookings.expired.toLocaleString()}{' '}
          expired, {summary.bookings.cancelled.toLocaleString()} cancelled · as of {formatDateTime(summary.at)}
        </p>
      )}
      {categories.length > 0 && (
        <div class="table-scroll">
          <table data-list="categories">
            <caption class="visually-hidden">Seats by category</caption>
            <thead>
              <tr>
                <th scope="col">Category</th>
                {STATES.map(([key, words]) => (
                  <th key={key} scope="col" class="num">
                    {words}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {categories.map(([category, counts]) => (
                <tr key={category} data-category={category}>
                  <th scope="row">{category}</th>
                  {STATES.map(([key]) => (
                    <td key={key} class="num" data-category-count={key}>
                      {counts[key].toLocaleString()}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {summary && (
        <div class="table-scroll">
          <table data-list="ticket-types">
            <caption>
              Sales by ticket type · revenue{' '}
              <span data-revenue={summary.revenue}>{formatMoney(summary.revenue, summary.currency)}</span>
            </caption>
            <thead>
              <tr>
                <th scope="col">Type</th>
                <th scope="col" class="num">
                  Held
                </th>
                <th scope="col" class="num">
                  Sold
                </th>
                <th scope="col" class="num">
                  Revenue
                </th>
              </tr>
            </thead>
            <tbody>
              {types.map(([code, sales]) => (
                <tr key={code} data-type={code}>
                  <th scope="row">{sales.name}</th>
                  <td class="num">{sales.held.toLocaleString()}</td>
                  <td class="num">{sales.sold.toLocaleString()}</td>
                  <td class="num">{formatMoney(sales.revenue, summary.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {live.error && (
        <p class="alert" role="alert">
          {live.error}
        </p>
      )}
    </section>
  );
}
