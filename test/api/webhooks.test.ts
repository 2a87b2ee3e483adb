import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { isPublicAddress } from '../../src/domain/webhook.js';
import { createWebhookQueue, WebhookScheduler } from '../../src/jobs/webhook.queue.js';
import { producerConnection } from '../../src/adapters/redis.js';
import { startWebhookWorker, type RunningWebhookWorker } from '../../src/jobs/webhook.worker.js';
import { createLogger } from '../../src/logger.js';
import {
  metricValue,
  buildTestApp,
  expectProblem,
  sleep,
  startTestApp,
  testConfig,
  type TestContext,
} from '../helpers.js';
import { admin, createShow, hold } from '../support/api.js';
import { deleteQueueKeys } from '../support/processes.js';
import { Receiver, removeWebhooks, verify } from '../support/receiver.js';

// Webhooks end to end: the routes, the relay, BullMQ jobs (a real Redis, this file's own
// prefix) and receivers on 127.0.0.1 started here.

const overrides = {
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  WEBHOOK_RETRY_BASE_MS: '50',
  WEBHOOK_RETRY_MAX_DELAY_SECONDS: '1',
  WEBHOOK_TIMEOUT_MS: '10000',
  WEBHOOK_CONCURRENCY: '8',
  WEBHOOK_ENDPOINT_CONCURRENCY: '2',
  OUTBOX_RELAY_INTERVAL_MS: '50',
};
const redisUrl = inject('redisUrl');
const prefix = `webhooks-${randomBytes(4).toString('hex')}`;
const redis = producerConnection(redisUrl);
const queue = createWebhookQueue(redis, prefix);
let ctx: TestContext;
let worker: RunningWebhookWorker;
const receivers: Receiver[] = [];

beforeAll(async () => {
  const logger = createLogger(testConfig(), 'test');
  const scheduler = new WebhookScheduler(queue, logger);
  ctx = await startTestApp(
    { ...overrides, QUEUE_PREFIX: prefix },
    { onWebhookDeliveries: (d) => void scheduler.schedule(d) },
  );
  worker = await startWebhookWorker({
    redisUrl,
    prefix,
    delivery: ctx.services.webhookDelivery,
    relay: ctx.services.webhookRelay,
    concurrency: ctx.config.WEBHOOK_CONCURRENCY,
    relayIntervalMs: ctx.config.OUTBOX_RELAY_INTERVAL_MS,
    // Once at start, then not again during the file: the deliveries here are queued by the relay
    // and after each failure, never left for the sweeper (test/faults/webhooks.test.ts needs it).
    sweepIntervalMs: 60_000,
    logger,
  });
});
afterEach(() => removeWebhooks(ctx.app, receivers));
afterAll(async () => {
  await worker.close();
  await queue.close();
  redis.disconnect();
  await deleteQueueKeys(redisUrl, prefix);
  await ctx.close();
});

async function receiver(answer?: Parameters<typeof Receiver.start>[0]): Promise<Receiver> {
  const started = await Receiver.start(answer);
  receivers.push(started);
  return started;
}

const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object, app?: FastifyInstance) =>
  (app ?? ctx.app).inject({ method, url, headers: admin, ...(payload ? { payload } : {}) });

async function createEndpoint(url: string, events: string[] = ['*']): Promise<{ id: string; secret: string }> {
  const response = await call('POST', '/api/webhooks', { url, events });
  expect(response.statusCode, response.body).toBe(201);
  return response.json();
}

interface DeliveryView {
  id: string;
  event_id: string;
  event_type: string;
  state: string;
  attempts: number;
  next_attempt_at: string | null;
  attempt_log: { attempted_at: string; status_code: number | null; duration_ms: number; error: string | null }[];
}

async function deliveries(endpointId: string, query = ''): Promise<DeliveryView[]> {
  const response = await call('GET', `/api/webhooks/${endpointId}/deliveries${query}`);
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
}

async function waitForDeliveries(
  endpointId: string,
  done: (list: DeliveryView[]) => boolean,
  timeoutMs = 10_000,
): Promise<DeliveryView[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = await deliveries(endpointId);
    if (done(list)) return list;
    if (Date.now() > deadline) throw new Error(`deliveries not as expected: ${JSON.stringify(list, null, 1)}`);
    await sleep(50);
  }
}

/** seat_hold_webhook_attempts_seconds_count by outcome, as GET /metrics reports it now. */
async function attemptCounts(): Promise<Record<'delivered' | 'retry' | 'failed', number>> {
  const text = (await ctx.app.inject({ method: 'GET', url: '/metrics', headers: admin })).body;
  const count = (outcome: string) =>
    metricValue(text, 'seat_hold_webhook_attempts_seconds_count', `outcome="${outcome}"`);
  return { delivered: count('delivered'), retry: count('retry'), failed: count('failed') };
}

describe('webhook endpoints', () => {
  it('need the admin key', async () => {
    const response = await ctx.app.inject({ method: 'GET', url: '/api/webhooks' });
    expectProblem(response, 401, 'unauthorized');
    const created = await ctx.app.inject({
      method: 'POST',
      url: '/api/webhooks',
      payload: { url: 'http://127.0.0.1:1/x', events: ['*'] },
    });
    expectProblem(created, 401, 'unauthorized');
  });

  it('are created with a secret shown once, read, listed, changed and deleted', async () => {
    const created = await call('POST', '/api/webhooks', {
      url: 'http://127.0.0.1:9/hook',
      events: ['booking.held', 'booking.confirmed'],
      description: 'payments',
    });
    expect(created.statusCode).toBe(201);
    const endpoint = created.json();
    expect(endpoint).toMatchObject({
      url: 'http://127.0.0.1:9/hook',
      events: ['booking.held', 'booking.confirmed'],
      description: 'payments',
      enabled: true,
    });
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(endpoint.secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(created.headers.location).toBe(`/api/webhooks/${endpoint.id}`);

    const read = await call('GET', `/api/webhooks/${endpoint.id}`);
    expect(read.statusCode).toBe(200);
    const withoutSecret = { ...endpoint };
    delete withoutSecret.secret;
    expect(read.json()).toEqual(withoutSecret);
    const list = await call('GET', '/api/webhooks');
    expect(list.json()).toEqual([withoutSecret]);
    expect(list.body).not.toContain(endpoint.secret);

    const patched = await call('PATCH', `/api/webhooks/${endpoint.id}`, {
      events: ['*'],
      enabled: false,
      description: null,
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ events: ['*'], enabled: false, description: null });
    expect(patched.body).not.toContain(endpoint.secret);

    expect((await call('DELETE', `/api/webhooks/${endpoint.id}`)).statusCode).toBe(204);
    expectProblem(await call('GET', `/api/webhooks/${endpoint.id}`), 404, 'webhook_not_found');
    expectProblem(await call('DELETE', `/api/webhooks/${endpoint.id}`), 404, 'webhook_not_found');
  });

  it('refuse bad bodies, unknown ids and cursors with stable codes', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    for (const body of [
      {},
      { url: 'http://127.0.0.1:9/x' },
      { url: 'http://127.0.0.1:9/x', events: [] },
      { url: 'http://127.0.0.1:9/x', events: ['booking.nope'] },
      { url: 'http://127.0.0.1:9/x', events: ['*'], secret: 'mine' },
      { url: 'http://127.0.0.1:9/x', events: ['*', '*'] },
      { url: '', events: ['*'] },
    ]) {
      expectProblem(await call('POST', '/api/webhooks', body), 400, 'validation_failed');
    }
    const { id } = await createEndpoint('http://127.0.0.1:9/x');
    expectProblem(await call('PATCH', `/api/webhooks/${id}`, {}), 400, 'validation_failed');
    expectProblem(await call('PATCH', `/api/webhooks/${id}`, { enabled: 'yes' }), 400, 'validation_failed');
    expectProblem(await call('PATCH', `/api/webhooks/${unknown}`, { enabled: true }), 404, 'webhook_not_found');
    expectProblem(await call('GET', '/api/webhooks/not-a-uuid'), 400, 'validation_failed');
    expectProblem(await call('POST', `/api/webhooks/${unknown}/test`), 404, 'webhook_not_found');
    expectProblem(await call('GET', `/api/webhooks/${unknown}/deliveries`), 404, 'webhook_not_found');
    expectProblem(await call('GET', `/api/webhooks/${id}/deliveries?cursor=nope`), 400, 'invalid_cursor');
    expectProblem(await call('GET', `/api/webhooks/${id}/deliveries?state=lost`), 400, 'validation_failed');
    expectProblem(await call('POST', `/api/webhooks/${id}/deliveries/${unknown}/retry`), 404, 'delivery_not_found');
    expectProblem(await call('POST', `/api/webhooks/${unknown}/deliveries/${unknown}/retry`), 404, 'webhook_not_found');
  });
});

describe('webhook URLs', () => {
  let closed: FastifyInstance;
  beforeAll(async () => {
    // The same database, with private networks refused (the default).
    ({ app: closed } = await buildTestApp(
      testConfig({ ...overrides, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false', DATABASE_URL: ctx.config.DATABASE_URL! }),
      ctx.pool,
    ));
  });
  afterAll(() => closed.close());

  it('refuse loopback, private, link-local, reserved and mapped addresses, other schemes and credentials', async () => {
    const refused = [
      'http://127.0.0.1/hook',
      'http://127.1.2.3:8080/hook',
      'http://localhost:3000/hook',
      'http://10.0.0.1/hook',
      'http://172.16.5.4/hook',
      'http://192.168.1.1/hook',
      'http://100.64.0.1/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://0.0.0.0/hook',
      'http://224.0.0.1/hook',
      'http://240.0.0.1/hook',
      'http://[::1]/hook',
      'http://[::]/hook',
      'http://[fe80::1]/hook',
      'http://[fc00::1]/hook',
      'http://[fd12:3456::1]/hook',
      'http://[ff02::1]/hook',
      'http://[::ffff:127.0.0.1]/hook',
      'http://[::ffff:10.0.0.1]/hook',
      'http://[::ffff:a9fe:a9fe]/hook',
      'http://2130706433/hook', // 127.0.0.1 as one number
      'http://0x7f.1/hook',
      'ftp://example.com/hook',
      'file:///etc/passwd',
      'gopher://example.com/',
      'javascript:alert(1)',
      'https://user:secret@example.com/hook',
      'http://no-such-host.invalid/hook',
      'not a url',
    ];
    for (const url of refused) {
      const response = await closed.inject({
        method: 'POST',
        url: '/api/webhooks',
        headers: admin,
        payload: { url, events: ['*'] },
      });
      if (url === 'not a url') expectProblem(response, 400, 'validation_failed');
      else expectProblem(response, 422, 'webhook_url_refused');
    }
    // PATCH checks a new URL the same way.
    const { id } = await createEndpoint('http://127.0.0.1:9/x');
    const patched = await closed.inject({
      method: 'PATCH',
      url: `/api/webhooks/${id}`,
      headers: admin,
      payload: { url: 'http://192.168.0.10/hook' },
    });
    expectProblem(patched, 422, 'webhook_url_refused');
  });

  it('judge addresses: public ones pass, special-purpose ones and their IPv6 forms do not', () => {
    for (const address of ['93.184.215.14', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8']) {
      expect(isPublicAddress(address), address).toBe(true);
    }
    for (const address of [
      '127.0.0.1',
      '10.1.1.1',
      '::1',
      'fe80::1',
      '::ffff:7f00:1',
      '64:ff9b::a00:1',
      '::127.0.0.1', // IPv4-compatible
      '::a00:1',
      '64:ff9b:1::a00:1', // local-use NAT64
      '2002:7f00:1::1', // 6to4 of 127.0.0.1
      '2001:0:4136:e378::1', // Teredo
      'nonsense',
    ]) {
      expect(isPublicAddress(address), address).toBe(false);
    }
  });

  it('refuse a private address at send time too (a host that resolves elsewhere now)', async () => {
    // Accepted while private networks were allowed, sent by a process that refuses them.
    const target = await receiver();
    const { id } = await createEndpoint(target.url, ['booking.held']);
    const { sendWebhook } = await import('../../src/adapters/webhook-sender.js');
    const sent = await sendWebhook(target.url, {}, '{}', { timeoutMs: 1000, allowPrivateNetworks: false });
    expect(sent).toMatchObject({ statusCode: null, error: expect.stringMatching(/private or reserved/) });
    const byName = await sendWebhook(target.url.replace('127.0.0.1', 'localhost'), {}, '{}', {
      timeoutMs: 1000,
      allowPrivateNetworks: false,
    });
    expect(byName).toMatchObject({ statusCode: null, error: expect.stringMatching(/private or reserved/) });
    expect(target.received).toHaveLength(0);
    await call('DELETE', `/api/webhooks/${id}`);
  });
});

describe('webhook delivery', () => {
  it('sends the events of a hold and its confirmation, signed, to subscribed endpoints only', async () => {
    const subscribed = await receiver();
    const other = await receiver();
    const hook = await createEndpoint(subscribed.url, ['booking.held', 'booking.confirmed']);
    await createEndpoint(other.url, ['booking.cancelled']);
    const show = await createShow(ctx.app, { total_seats: 5 });
    const held = await hold(ctx.app, show.id);
    const confirmed = await ctx.app.inject({
      method: 'POST',
      url: `/api/bookings/${held.id}/confirm`,
      headers: { 'x-hold-token': held.hold_token },
    });
    expect(confirmed.statusCode).toBe(200);

    const got = await subscribed.waitFor((r) => r.length >= 2);
    await sleep(300);
    expect(got.map((r) => r.event.type)).toEqual(['booking.held', 'booking.confirmed']);
    expect(got[0]!.event.data.booking).toMatchObject({ id: held.id, status: 'PENDING' });
    expect(got[1]!.event.data.booking).toEqual(confirmed.json());
    expect(JSON.stringify(got)).not.toContain(held.hold_token);
    for (const request of got) {
      expect(verify(hook.secret, request)).toEqual(request.event);
      expect(request.headers['webhook-id']).toBe(request.event.id);
      expect(request.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      expect(request.headers['content-type']).toBe('application/json');
      expect(Math.abs(Number(request.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(30);
    }
    // A signature made with another secret, or over another body, does not verify.
    expect(() => verify(`whsec_${randomBytes(32).toString('base64')}`, got[0]!)).toThrow();
    expect(() => verify(hook.secret, { ...got[0]!, body: got[0]!.body.replace('PENDING', 'CONFIRMED') })).toThrow();
    expect(other.received).toHaveLength(0);

    const log = await waitForDeliveries(hook.id, (list) => list.every((d) => d.state === 'delivered'));
    expect(log.map((d) => d.event_type)).toEqual(['booking.confirmed', 'booking.held']); // newest first
    expect(log[0]).toMatchObject({ attempts: 1, next_attempt_at: null, event_id: got[1]!.event.id });
    expect(log[0]!.attempt_log).toEqual([
      { attempted_at: expect.any(String), status_code: 200, duration_ms: expect.any(Number), error: null },
    ]);
  });

  it('retries a failing receiver with the same webhook-id until it answers 2xx, logging every attempt', async () => {
    const target = await receiver((n) =>
      n < 3 ? { status: n === 1 ? 503 : 500, body: 'x'.repeat(10_000) } : { status: 204 },
    );
    const before = await attemptCounts();
    const hook = await createEndpoint(target.url, ['show.created']);
    await createShow(ctx.app);
    const got = await target.waitFor((r) => r.length >= 4);
    const ids = new Set(got.map((r) => r.headers['webhook-id']));
    expect(ids.size).toBe(1);
    for (const request of got) verify(hook.secret, request);
    const [delivery] = await waitForDeliveries(hook.id, (list) => list[0]?.state === 'delivered');
    expect(delivery).toMatchObject({ state: 'delivered', attempts: 4, event_type: 'show.created' });
    expect(delivery!.attempt_log.map((a) => a.status_code)).toEqual([500, 503, 500, 204]);
    expect(delivery!.attempt_log.map((a) => a.error)).toEqual([
      expect.stringMatching(/^HTTP 500: x+$/),
      expect.stringMatching(/^HTTP 503: x+$/),
      expect.stringMatching(/^HTTP 500: x+$/),
      null,
    ]);
    // Only an excerpt of a large answer is kept.
    expect(delivery!.attempt_log[0]!.error!.length).toBeLessThan(300);
    // Backoff: each attempt after the one before, no sooner than half the base delay doubling.
    const times = got.map((r) => r.at);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(20);
    expect(times[3]! - times[2]!).toBeGreaterThanOrEqual(90);
    await sleep(300);
    expect(target.received).toHaveLength(4);
    // …and counted in the metrics by outcome (other tests' deliveries may add to them).
    const after = await attemptCounts();
    expect(after.retry - before.retry).toBeGreaterThanOrEqual(3);
    expect(after.delivered - before.delivered).toBeGreaterThanOrEqual(1);
  });

  it('logs a refused connection and a redirect as failures, never following the redirect', async () => {
    const target = await receiver((_n, request) =>
      request.path === '/hook' ? { status: 302, headers: { location: '/elsewhere' } } : { status: 200 },
    );
    const hook = await createEndpoint(target.url, ['show.created']);
    await createShow(ctx.app);
    await target.waitFor((r) => r.length >= 2);
    expect(target.received.every((r) => r.path === '/hook')).toBe(true);
    // Disabled: the next attempt fails the delivery for good, with a clear error.
    await call('PATCH', `/api/webhooks/${hook.id}`, { enabled: false });
    const [delivery] = await waitForDeliveries(hook.id, (list) => list[0]?.state === 'failed');
    expect(delivery!.attempt_log[0]).toMatchObject({ status_code: 302, error: 'redirect to /elsewhere not followed' });
    expect(delivery!.attempt_log.at(-1)).toMatchObject({ status_code: null, error: 'the endpoint is disabled' });

    // Nothing listens on port 1: connection refused, logged with its code.
    const dead = await createEndpoint('http://127.0.0.1:1/hook', ['show.created']);
    await createShow(ctx.app);
    const [refused] = await waitForDeliveries(dead.id, (list) => (list[0]?.attempts ?? 0) >= 1);
    expect(refused!.attempt_log[0]).toMatchObject({ status_code: null, error: expect.stringMatching(/ECONNREFUSED/) });
    expect(target.received.some((r) => r.path === '/elsewhere')).toBe(false);
  });

  it('resends a delivery on request, with the same webhook-id, as a new attempt', async () => {
    const target = await receiver();
    const hook = await createEndpoint(target.url, ['show.created']);
    await createShow(ctx.app);
    const [first] = await target.waitFor((r) => r.length >= 1);
    const [delivery] = await waitForDeliveries(hook.id, (list) => list[0]?.state === 'delivered');
    const retried = await call('POST', `/api/webhooks/${hook.id}/deliveries/${delivery!.id}/retry`);
    expect(retried.statusCode).toBe(202);
    expect(retried.json()).toEqual({ delivery_id: delivery!.id });
    const got = await target.waitFor((r) => r.length >= 2);
    expect(got[1]!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    expect(got[1]!.body).toBe(first!.body);
    verify(hook.secret, got[1]!);
    const [after] = await waitForDeliveries(
      hook.id,
      (list) => list[0]?.attempts === 2 && list[0].state === 'delivered',
    );
    expect(after!.attempt_log).toHaveLength(2);
  });

  it('pings only the endpoint tested', async () => {
    const target = await receiver();
    const bystander = await receiver();
    const hook = await createEndpoint(target.url, ['booking.cancelled']);
    await createEndpoint(bystander.url, ['*']);
    const accepted = await call('POST', `/api/webhooks/${hook.id}/test`);
    expect(accepted.statusCode).toBe(202);
    const [ping] = await target.waitFor((r) => r.length >= 1);
    expect(ping!.event).toMatchObject({ type: 'ping', data: { webhook_id: hook.id } });
    verify(hook.secret, ping!);
    const [delivery] = await waitForDeliveries(hook.id, (list) => list[0]?.state === 'delivered');
    expect(delivery).toMatchObject({ id: accepted.json().delivery_id, event_type: 'ping', event_id: ping!.event.id });
    await sleep(300);
    expect(bystander.received).toHaveLength(0);
  });

  it('keeps a hanging receiver from delaying another endpoint', async () => {
    const hanging = await receiver(() => 'hang');
    const healthy = await receiver();
    await createEndpoint(hanging.url, ['booking.held']);
    await createEndpoint(healthy.url, ['booking.held']);
    const show = await createShow(ctx.app, { total_seats: 50 });
    const started = Date.now();
    for (let i = 0; i < 20; i++) await hold(ctx.app, show.id);
    await healthy.waitFor((r) => r.length >= 20, 8_000);
    // All 20 well within one timeout of the hanging one (10 s), which never had more than its share.
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(hanging.maxInFlight).toBeLessThanOrEqual(ctx.config.WEBHOOK_ENDPOINT_CONCURRENCY);
    expect(hanging.received.length).toBeGreaterThan(0);
  });

  it('pages the delivery log with Link, filtered by state', async () => {
    const target = await receiver((_n, request) => ({ status: request.event.type === 'show.created' ? 200 : 500 }));
    const hook = await createEndpoint(target.url, ['show.created', 'show.updated']);
    const show = await createShow(ctx.app);
    await createShow(ctx.app);
    await call('PATCH', `/api/shows/${show.id}`, { title: 'Renamed' });
    await waitForDeliveries(
      hook.id,
      (list) => list.length === 3 && list.filter((d) => d.state === 'delivered').length === 2,
    );
    const first = await call('GET', `/api/webhooks/${hook.id}/deliveries?limit=2`);
    expect(first.json()).toHaveLength(2);
    const next = /<([^>]+)>; rel="next"/.exec(first.headers.link as string)![1]!;
    const second = await call('GET', next);
    expect(second.json()).toHaveLength(1);
    expect(second.headers.link).toBeUndefined();
    const all = [...first.json<DeliveryView[]>(), ...second.json<DeliveryView[]>()];
    expect(new Set(all.map((d) => d.id)).size).toBe(3);
    expect(all.map((d) => d.event_type)).toEqual(['show.updated', 'show.created', 'show.created']);
    const pending = await deliveries(hook.id, '?state=pending');
    expect(pending.map((d) => d.event_type)).toEqual(['show.updated']);
    expect(pending[0]!.next_attempt_at).not.toBeNull();
    expect(await deliveries(hook.id, '?state=delivered')).toHaveLength(2);
  });
});
