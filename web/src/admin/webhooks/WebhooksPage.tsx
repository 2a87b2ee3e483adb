import type { CreatedWebhook, NewWebhook, Webhook } from '@seat-hold/client';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { formatDateTime } from '../../format.js';
import { Outcome } from '../shared/Outcome.js';
import { useIdempotentCalls } from '../../idempotency.js';
import { useAction, useAdmin } from '../shared/session.js';
import { EVENT_TYPES, EVENT_WORDS, eventsInWords, type EventType } from './webhookWords.js';
import { WebhookActions } from './WebhookActions.js';

export function WebhooksPage() {
  const { api, fail } = useAdmin();
  const [hooks, setHooks] = useState<Webhook[]>();
  const [error, setError] = useState<string>();
  const [created, setCreated] = useState<CreatedWebhook>();

  const reload = useCallback(async () => {
    try {
      setHooks(await api.listWebhooks());
      setError(undefined);
    } catch (problem) {
      setError(fail(problem));
    }
  }, [api, fail]);

  useEffect(() => {
    void reload();
  }, [reload]);

  return (
    <section aria-labelledby="webhooks-title">
      <h1 id="webhooks-title">Webhooks</h1>
      <p class="muted">Other services hear about shows and bookings through signed HTTP calls to these endpoints.</p>
      {created && <SecretOnce webhook={created} onDismiss={() => setCreated(undefined)} />}
      {error && (
        <p class="alert" role="alert">
          {error}
        </p>
      )}
      {hooks === undefined ? (
        !error && <p class="muted">Loading webhooks…</p>
      ) : hooks.length === 0 ? (
        <p class="panel muted" data-list="webhooks">
          No endpoints yet.
        </p>
      ) : (
        <div class="panel table-scroll">
          <table data-list="webhooks">
            <caption class="visually-hidden">Webhook endpoints</caption>
            <thead>
              <tr>
                <th scope="col">Endpoint</th>
                <th scope="col">Events</th>
                <th scope="col">State</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {hooks.map((hook) => (
                <tr key={hook.id} data-webhook={hook.id}>
                  <td>
                    <a href={`/admin/webhooks/${hook.id}`} class="url" data-link="webhook">
                      {hook.url}
                    </a>
                    {hook.description && <div class="muted small">{hook.description}</div>}
                  </td>
                  <td>{eventsInWords(hook.events)}</td>
                  <td>
                    <span class={`pill ${hook.enabled ? 'pill-ok' : 'pill-muted'}`}>
                      {hook.enabled ? 'Enabled' : 'Disabled'}
                    </span>
                  </td>
                  <td>
                    <WebhookActions hook={hook} onChanged={() => void reload()} compact />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <NewWebhookForm
        onCreated={(hook) => {
          setCreated(hook);
          void reload();
        }}
      />
    </section>
  );
}

/** The signing secret, shown this once: the API never answers it again. */
function SecretOnce({ webhook, onDismiss }: { webhook: CreatedWebhook; onDismiss: () => void }) {
  const [copied, setCopied] = useState<string>();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);

  return (
    <section class="panel secret-once" aria-labelledby="secret-title" data-webhook-secret>
      <h2 id="secret-title" tabIndex={-1} ref={heading}>
        Endpoint added: copy its signing secret now
      </h2>
      <p class="alert" role="alert">
        This secret is shown only this once. Keep it where the receiving service can read it, to check each call's
        signature; if it is lost, delete the endpoint and add it again.
      </p>
      <p>
        <span class="muted">{webhook.url}</span>
      </p>
      <div class="row">
        <label class="wide">
          Signing secret
          <input
            readOnly
            value={webhook.secret}
            spellcheck={false}
            onFocus={(event) => event.currentTarget.select()}
            data-field="webhook-secret"
          />
        </label>
        <button
          type="button"
          class="secondary"
          onClick={() =>
            void navigator.clipboard.writeText(webhook.secret).then(
              () => setCopied('Copied.'),
              () => setCopied('Copying was refused: select the secret and copy it.'),
            )
          }
        >
          Copy
        </button>
        <button type="button" onClick={onDismiss} data-action="secret-saved">
          I have saved it
        </button>
      </div>
      <p class="muted small" role="status">
        {copied ?? '\u00a0'}
      </p>
    </section>
  );
}

function NewWebhookForm({ onCreated }: { onCreated: (hook: CreatedWebhook) => void }) {
  const { api } = useAdmin();
  const action = useAction();
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [all, setAll] = useState(true);
  const [events, setEvents] = useState<ReadonlySet<EventType>>(new Set());
  // A retry after a lost answer replays the first one, with the same secret, not a second endpoint.
  const idempotent = useIdempotentCalls();

  async function create() {
    if (!all && events.size === 0) return action.setError('Choose at least one event, or all events.');
    const text = description.trim();
    const body: NewWebhook = {
      url: url.trim(),
      events: all ? ['*'] : [...events],
      ...(text ? { description: text } : {}),
    };
    const hook = await action.run(() =>
      idempotent.send(body, (idempotencyKey) => api.createWebhook(body, { idempotencyKey })),
    );
    if (hook === undefined) return;
    setUrl('');
    setDescription('');
    onCreated(hook);
  }

  return (
    <form
      class="panel"
      aria-labelledby="new-webhook-title"
      data-form="new-webhook"
      onSubmit={(event) => {
        event.preventDefault();
        void create();
      }}
    >
      <h2 id="new-webhook-title">Add an endpoint</h2>
      <div class="form-grid">
        <label class="wide">
          URL
          <input
            type="url"
            required
            maxLength={2048}
            placeholder="https://example.com/hooks/seat-hold"
            value={url}
            onInput={(event) => setUrl(event.currentTarget.value)}
            data-field="webhook-url"
          />
        </label>
        <label class="wide">
          <span>
            Description <span class="muted">(optional)</span>
          </span>
          <input
            maxLength={500}
            value={description}
            onInput={(event) => setDescription(event.currentTarget.value)}
            data-field="webhook-description"
          />
        </label>
      </div>
      <fieldset class="events">
        <legend>Events</legend>
        <label class="choice">
          <input
            type="checkbox"
            checked={all}
            onChange={(event) => setAll(event.currentTarget.checked)}
            data-field="webhook-all-events"
          />
          All events, including ones added later
        </label>
        <div class="event-grid">
          {EVENT_TYPES.map((type) => (
            <label key={type} class="choice">
              <input
                type="checkbox"
                disabled={all}
                checked={all || events.has(type)}
                value={type}
                onChange={(event) => {
                  const next = new Set(events);
                  if (event.currentTarget.checked) next.add(type);
                  else next.delete(type);
                  setEvents(next);
                }}
              />
              {EVENT_WORDS[type]} <code class="muted small">{type}</code>
            </label>
          ))}
        </div>
      </fieldset>
      <div class="actions">
        <button type="submit" disabled={action.busy} data-action="create-webhook">
          {action.busy ? 'Adding…' : 'Add endpoint'}
        </button>
      </div>
      <Outcome error={action.error} done={undefined} />
    </form>
  );
}

export function WebhookSummary({ hook }: { hook: Webhook }) {
  return (
    <dl class="facts">
      <div>
        <dt>URL</dt>
        <dd class="url">{hook.url}</dd>
      </div>
      <div>
        <dt>Events</dt>
        <dd>{eventsInWords(hook.events)}</dd>
      </div>
      <div>
        <dt>State</dt>
        <dd>{hook.enabled ? 'Enabled' : 'Disabled: sent nothing'}</dd>
      </div>
      {hook.description && (
        <div>
          <dt>Description</dt>
          <dd>{hook.description}</dd>
        </div>
      )}
      <div>
        <dt>Added</dt>
        <dd>{formatDateTime(hook.created_at)}</dd>
      </div>
    </dl>
  );
}
