import type { Webhook } from '@seat-hold/client';
import { useLocation } from 'preact-iso';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { DeliveryLog } from './DeliveryLog.js';
import { useAdmin } from '../shared/session.js';
import { WebhookActions } from './WebhookActions.js';
import { WebhookSummary } from './WebhooksPage.js';

export function WebhookPage({ id }: { id: string }) {
  const { api, fail } = useAdmin();
  const { route } = useLocation();
  const [hook, setHook] = useState<Webhook>();
  const [error, setError] = useState<string>();
  const [version, setVersion] = useState(0);

  const reload = useCallback(async () => {
    try {
      setHook(await api.getWebhook(id));
      setError(undefined);
    } catch (problem) {
      setError(fail(problem));
    }
  }, [api, fail, id]);

  useEffect(() => {
    void reload();
  }, [reload]);

  return (
    <section aria-labelledby="webhook-title">
      <p>
        <a href="/admin/webhooks">← All webhooks</a>
      </p>
      <h1 id="webhook-title">Webhook endpoint</h1>
      {error && (
        <p class="alert" role="alert">
          {error}
        </p>
      )}
      {hook === undefined ? (
        !error && <p class="muted">Loading…</p>
      ) : (
        <>
          <div class="panel" data-webhook={hook.id}>
            <WebhookSummary hook={hook} />
            <WebhookActions
              hook={hook}
              onChanged={() => void reload()}
              onDeleted={() => route('/admin/webhooks')}
              onTested={() => setVersion((n) => n + 1)}
            />
          </div>
          <DeliveryLog webhookId={hook.id} version={version} />
        </>
      )}
    </section>
  );
}
