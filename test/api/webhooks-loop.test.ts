import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InProcessWebhooks } from '../../src/jobs/webhook.loop.js';
import { createLogger } from '../../src/logger.js';
import { sleep, startTestApp, type TestContext } from '../helpers.js';
import { admin, createShow } from '../support/api.js';
import { Receiver, removeWebhooks, verify } from '../support/receiver.js';

// Webhooks without Redis (`npm start` with no REDIS_URL): the API process relays and sends
// through the same attempt() as the worker. A retry window of 1 s lets a delivery fail for good.

let ctx: TestContext;
let loop: InProcessWebhooks | undefined;
const receivers: Receiver[] = [];

beforeAll(async () => {
  ctx = await startTestApp(
    {
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      WEBHOOK_RETRY_BASE_MS: '100',
      WEBHOOK_RETRY_MAX_DELAY_SECONDS: '1',
      WEBHOOK_RETRY_WINDOW_SECONDS: '1',
      WEBHOOK_TIMEOUT_MS: '2000',
      OUTBOX_RELAY_INTERVAL_MS: '50',
    },
    { onWebhookDeliveries: (deliveries) => loop?.schedule(deliveries) },
  );
  loop = new InProcessWebhooks(ctx.services.webhookRelay, ctx.services.webhookDelivery, {
    intervalMs: ctx.config.OUTBOX_RELAY_INTERVAL_MS,
    concurrency: ctx.config.WEBHOOK_CONCURRENCY,
    logger: createLogger(ctx.config, 'test'),
  });
  loop.start();
});
afterEach(() => removeWebhooks(ctx.app, receivers));
afterAll(async () => {
  await loop?.stop();
  await ctx.close();
});

async function receiver(answer?: Parameters<typeof Receiver.start>[0]): Promise<Receiver> {
  const started = await Receiver.start(answer);
  receivers.push(started);
  return started;
}

async function createEndpoint(url: string, events: string[]): Promise<{ id: string; secret: string }> {
  const response = await ctx.app.inject({
    method: 'POST',
    url: '/api/webhooks',
    headers: admin,
    payload: { url, events },
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json();
}

async function deliveryLog(endpointId: string) {
  const response = await ctx.app.inject({ url: `/api/webhooks/${endpointId}/deliveries`, headers: admin });
  return response.json<
    {
      id: string;
      state: string;
      attempts: number;
      attempt_log: { attempted_at: string; status_code: number | null; error: string | null }[];
    }[]
  >();
}

async function waitForState(endpointId: string, state: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [delivery] = await deliveryLog(endpointId);
    if (delivery?.state === state) return delivery;
    if (Date.now() > deadline) throw new Error(`delivery not ${state}: ${JSON.stringify(delivery)}`);
    await sleep(50);
  }
}

describe('webhooks without Redis', () => {
  it('are relayed and sent by the API process, signed', async () => {
    const target = await receiver();
    const hook = await createEndpoint(target.url, ['show.created']);
    const show = await createShow(ctx.app);
    const [request] = await target.waitFor((r) => r.length >= 1);
    expect(request!.event).toMatchObject({ type: 'show.created', data: { show: { id: show.id } } });
    verify(hook.secret, request!);
    await waitForState(hook.id, 'delivered');
  });

  it('mark a delivery failed once an attempt fails past the retry window, then resend on request', async () => {
    let answer = 500;
    const target = await receiver(() => ({ status: answer }));
    const hook = await createEndpoint(target.url, ['show.created']);
    await createShow(ctx.app);
    const failed = await waitForState(hook.id, 'failed');
    expect(failed.attempts).toBeGreaterThanOrEqual(2);
    expect(failed.attempt_log).toHaveLength(failed.attempts);
    expect(failed.attempt_log.every((a) => a.status_code === 500 && a.error === 'HTTP 500')).toBe(true);
    const times = failed.attempt_log.map((a) => Date.parse(a.attempted_at));
    // The last attempt is the first at or after the window's end (1 s after the delivery was made).
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(900);
    const sent = target.received.length;
    await sleep(600);
    expect(target.received.length).toBe(sent); // nothing more once failed

    answer = 200;
    const retry = await ctx.app.inject({
      method: 'POST',
      url: `/api/webhooks/${hook.id}/deliveries/${failed.id}/retry`,
      headers: admin,
    });
    expect(retry.statusCode).toBe(202);
    const delivered = await waitForState(hook.id, 'delivered');
    expect(delivered.attempts).toBe(failed.attempts + 1);
    expect(new Set(target.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
  });

  it('send each attempt once however many senders race for it (the lease)', async () => {
    // A receiver that never answers: every sender below asks while the first attempt is in flight.
    const slowServer = await receiver(() => 'hang');
    const hook = await createEndpoint(slowServer.url, ['show.created']);
    await createShow(ctx.app);
    await slowServer.waitFor((r) => r.length >= 1);
    const [delivery] = await deliveryLog(hook.id);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => ctx.services.webhookDelivery.attempt(delivery!.id)),
    );
    expect(results.every((result) => result.kind === 'not_due')).toBe(true);
    expect(slowServer.received).toHaveLength(1);
  });

  it('purge relayed events past retention unless a delivery of theirs is pending', async () => {
    const target = await receiver();
    const hook = await createEndpoint(target.url, ['show.created']);
    await createShow(ctx.app);
    await createShow(ctx.app);
    await target.waitFor((r) => r.length >= 2);
    const [newest, oldest] = await deliveryLog(hook.id);
    await waitForState(hook.id, 'delivered');
    // One of the two delivered again later: pending, an hour from now.
    await ctx.pool.query(
      `UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = now() + interval '1 hour' WHERE id = $1`,
      [newest!.id],
    );
    await ctx.pool.query(`UPDATE outbox_events SET occurred_at = now() - make_interval(hours => $1 + 1)`, [
      ctx.config.OUTBOX_RETENTION_HOURS,
    ]);
    const { purgedEvents } = await ctx.services.housekeeping.run();
    expect(purgedEvents).toBeGreaterThanOrEqual(1);
    const { rows } = await ctx.pool.query<{ id: string }>('SELECT id FROM webhook_deliveries ORDER BY created_at');
    expect(rows.map((row) => row.id)).toEqual([newest!.id]);
    const attempts = await ctx.pool.query('SELECT 1 FROM webhook_attempts WHERE delivery_id = $1', [oldest!.id]);
    expect(attempts.rowCount).toBe(0);
  });
});
