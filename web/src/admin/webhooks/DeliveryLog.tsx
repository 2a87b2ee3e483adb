import type { WebhookDelivery } from '@seat-hold/client';
import { useCallback, useState } from 'preact/hooks';
import { formatDateTime } from '../../format.js';
import { useAction, useAdmin } from '../shared/session.js';
import { usePaged, type Page } from '../shared/usePaged.js';
import { STATE_WORDS, type DeliveryState } from './webhookWords.js';

const PAGE = 25;

/** The endpoint's deliveries, newest first, with every attempt; `version` changes after a test ping. */
export function DeliveryLog({ webhookId, version }: { webhookId: string; version: number }) {
  const { api } = useAdmin();
  const [state, setState] = useState<DeliveryState | ''>('');
  const [retries, setRetries] = useState(0);

  const read = useCallback(
    async (cursor: string | undefined): Promise<Page<WebhookDelivery>> => {
      // A new version or retry count means a delivery was added or changed: read again.
      void version;
      void retries;
      const { deliveries, nextCursor } = await api.listDeliveries(webhookId, {
        limit: PAGE,
        ...(state ? { state } : {}),
        ...(cursor ? { cursor } : {}),
      });
      return { items: deliveries, nextCursor };
    },
    [api, webhookId, state, version, retries],
  );
  const deliveries = usePaged(read);

  return (
    <section class="panel" aria-labelledby="deliveries-title">
      <h2 id="deliveries-title">Deliveries</h2>
      <div class="row">
        <label>
          State
          <select
            value={state}
            onChange={(event) => setState(event.currentTarget.value as DeliveryState | '')}
            data-field="delivery-state"
          >
            <option value="">Any</option>
            {Object.entries(STATE_WORDS).map(([value, words]) => (
              <option key={value} value={value}>
                {words}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          class="secondary"
          disabled={deliveries.loading}
          onClick={deliveries.reload}
          data-action="refresh-deliveries"
        >
          Refresh
        </button>
      </div>
      {deliveries.error && (
        <p class="alert" role="alert">
          {deliveries.error}
        </p>
      )}
      {deliveries.items === undefined ? (
        !deliveries.error && <p class="muted">Loading deliveries…</p>
      ) : deliveries.items.length === 0 ? (
        <p class="muted" data-list="deliveries">
          {state ? 'No deliveries in that state.' : 'Nothing sent yet. A test ping shows here.'}
        </p>
      ) : (
        <div class="table-scroll">
          <table data-list="deliveries">
            <caption class="visually-hidden">Deliveries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">State</th>
                <th scope="col" class="num">
                  Attempts
                </th>
                <th scope="col" class="num">
                  Response
                </th>
                <th scope="col" class="num">
                  Took
                </th>
                <th scope="col">Last error</th>
                <th scope="col">When</th>
                <th scope="col">
                  <span class="visually-hidden">Action</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {deliveries.items.map((delivery) => (
                <DeliveryRow
                  key={delivery.id}
                  webhookId={webhookId}
                  delivery={delivery}
                  onRetried={() => setRetries((n) => n + 1)}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {deliveries.hasMore && (
        <div class="actions">
          <button
            type="button"
            class="secondary"
            disabled={deliveries.loading}
            onClick={deliveries.loadMore}
            data-action="more-deliveries"
          >
            {deliveries.loading ? 'Loading…' : 'Load more'}
          </button>
        </div>
      )}
    </section>
  );
}

function DeliveryRow({
  webhookId,
  delivery,
  onRetried,
}: {
  webhookId: string;
  delivery: WebhookDelivery;
  onRetried: () => void;
}) {
  const { api } = useAdmin();
  const action = useAction();
  const last = delivery.attempt_log.at(-1);
  const when =
    delivery.state === 'delivered'
      ? `Delivered ${formatDateTime(delivery.delivered_at)}`
      : delivery.state === 'failed'
        ? `Gave up ${formatDateTime(delivery.failed_at)}`
        : delivery.next_attempt_at
          ? `Next try ${formatDateTime(delivery.next_attempt_at)}`
          : `Queued ${formatDateTime(delivery.created_at)}`;

  async function retry() {
    const ok = await action.run(async () => {
      await api.retryDelivery(webhookId, delivery.id);
      return true;
    });
    if (ok) onRetried();
  }

  return (
    <tr data-delivery={delivery.id} data-state={delivery.state}>
      <td>
        <code>{delivery.event_type}</code>
        {delivery.attempt_log.length > 1 && (
          <details class="attempts">
            <summary>All {delivery.attempt_log.length} attempts</summary>
            <ol>
              {delivery.attempt_log.map((attempt) => (
                <li key={attempt.attempted_at}>
                  {formatDateTime(attempt.attempted_at)}: {attempt.status_code ?? 'no answer'}, {attempt.duration_ms} ms
                  {attempt.error ? ` – ${attempt.error}` : ''}
                </li>
              ))}
            </ol>
          </details>
        )}
      </td>
      <td>
        <span class={`pill delivery-${delivery.state}`}>{STATE_WORDS[delivery.state]}</span>
      </td>
      <td class="num">{delivery.attempts}</td>
      <td class="num">{delivery.last_status_code ?? <span class="muted">–</span>}</td>
      <td class="num">{last ? `${last.duration_ms} ms` : <span class="muted">–</span>}</td>
      <td class="error-text">
        {action.error ? (
          <span class="alert-text" role="alert">
            {action.error}
          </span>
        ) : (
          (last?.error ?? <span class="muted">–</span>)
        )}
      </td>
      <td>{when}</td>
      <td>
        <button
          type="button"
          class="secondary compact"
          disabled={action.busy}
          onClick={() => void retry()}
          aria-label={`${delivery.state === 'delivered' ? 'Send again' : 'Retry'}: ${delivery.event_type}, ${formatDateTime(delivery.created_at)}`}
          data-action="retry-delivery"
        >
          {delivery.state === 'delivered' ? 'Send again' : 'Retry'}
        </button>
      </td>
    </tr>
  );
}
