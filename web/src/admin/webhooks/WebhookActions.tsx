import type { Webhook } from '@seat-hold/client';
import { useState } from 'preact/hooks';
import { useAction, useAdmin } from '../shared/session.js';

/**
 * Enable or disable, send a test ping, delete (asked twice, in the page rather than a
 * browser dialog, so it reads the same by keyboard and screen reader).
 */
export function WebhookActions({
  hook,
  onChanged,
  onDeleted,
  onTested,
  compact = false,
}: {
  hook: Webhook;
  onChanged: () => void;
  onDeleted?: () => void;
  onTested?: () => void;
  compact?: boolean;
}) {
  const { api } = useAdmin();
  const action = useAction();
  const [confirming, setConfirming] = useState(false);
  const [done, setDone] = useState<string>();
  const size = compact ? 'compact' : '';

  async function toggle() {
    setDone(undefined);
    const saved = await action.run(() => api.updateWebhook(hook.id, { enabled: !hook.enabled }));
    if (saved) onChanged();
  }

  async function test() {
    setDone(undefined);
    const delivery = await action.run(() => api.testWebhook(hook.id));
    if (delivery === undefined) return;
    setDone('Test ping sent.');
    onTested?.();
  }

  async function remove() {
    const ok = await action.run(async () => {
      await api.deleteWebhook(hook.id);
      return true;
    });
    setConfirming(false);
    if (ok) (onDeleted ?? onChanged)();
  }

  return (
    <div class="webhook-actions">
      <div class="actions">
        <button
          type="button"
          class={`secondary ${size}`}
          disabled={action.busy}
          onClick={() => void toggle()}
          data-action="toggle-webhook"
        >
          {hook.enabled ? 'Disable' : 'Enable'}
        </button>
        <button
          type="button"
          class={`secondary ${size}`}
          disabled={action.busy || !hook.enabled}
          title={hook.enabled ? undefined : 'A disabled endpoint is sent nothing'}
          onClick={() => void test()}
          data-action="test-webhook"
        >
          Send test ping
        </button>
        {confirming ? (
          <span class="confirm" role="group" aria-label="Delete this endpoint?">
            <span>Delete it and its delivery log?</span>
            <button
              type="button"
              class={`danger ${size}`}
              disabled={action.busy}
              onClick={() => void remove()}
              data-action="confirm-delete"
            >
              Delete
            </button>
            <button type="button" class={`secondary ${size}`} onClick={() => setConfirming(false)}>
              Keep
            </button>
          </span>
        ) : (
          <button
            type="button"
            class={`danger ${size}`}
            disabled={action.busy}
            onClick={() => setConfirming(true)}
            data-action="delete-webhook"
          >
            Delete
          </button>
        )}
      </div>
      {action.error ? (
        <p class="alert" role="alert">
          {action.error}
        </p>
      ) : (
        done && (
          <p class="notice" role="status">
            {done}
          </p>
        )
      )}
    </div>
  );
}
