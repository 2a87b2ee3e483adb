import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics.js';
import { serveWorkerMetrics } from '../../src/jobs/worker-metrics.js';
import { expectProblem, metricValue, startTestApp, type TestContext } from '../helpers.js';
import { admin, createShow, hold } from '../support/api.js';
import { lapse } from '../support/clock.js';

const METRICS_TOKEN = 'metrics-token-0123456789';
let ctx: TestContext;
beforeAll(async () => {
  ctx = await startTestApp({ METRICS_TOKEN });
});
afterAll(() => ctx.close());

const scrape = (headers: Record<string, string> = {}) => ctx.app.inject({ method: 'GET', url: '/metrics', headers });

const sample = metricValue;

describe('GET /metrics', () => {
  it('is never public: 401 without a token or with a wrong one', async () => {
    expectProblem(await scrape(), 401, 'unauthorized');
    expectProblem(await scrape({ authorization: 'Bearer not-the-token-at-all' }), 401, 'unauthorized');
  });

  it('answers the Prometheus text format to the admin key and to METRICS_TOKEN', async () => {
    for (const headers of [admin, { authorization: `Bearer ${METRICS_TOKEN}` }]) {
      const response = await scrape(headers);
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(response.body).toContain('# TYPE seat_hold_group_size histogram');
      expect(response.body).toContain('seat_hold_process_cpu_seconds_total');
    }
  });

  it('METRICS_TOKEN reads metrics and nothing else', async () => {
    const create = await ctx.app.inject({
      method: 'POST',
      url: '/api/shows',
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      payload: { title: 'x', start_time: '2031-01-01T20:00:00Z', total_seats: 1 },
    });
    expectProblem(create, 401, 'unauthorized');
  });

  it('counts each group once, with its requests: holds alone, then a group that confirms', async () => {
    const before = (await scrape(admin)).body;
    const show = await createShow(ctx.app, { total_seats: 5 });
    const held = await hold(ctx.app, show.id, 2);
    const confirmed = await ctx.app.inject({
      method: 'POST',
      url: `/api/bookings/${held.id}/confirm`,
      headers: { 'x-hold-token': held.hold_token },
    });
    expect(confirmed.statusCode).toBe(200);
    const after = (await scrape(admin)).body;
    const delta = (name: string, kind: string) =>
      sample(after, name, `kind="${kind}"`) - sample(before, name, `kind="${kind}"`);
    expect(delta('seat_hold_group_size_count', 'holds')).toBe(1);
    expect(delta('seat_hold_group_size_sum', 'holds')).toBe(1);
    expect(delta('seat_hold_group_size_count', 'mixed')).toBe(1);
    expect(delta('seat_hold_group_duration_seconds_count', 'holds')).toBe(1);
    expect(delta('seat_hold_group_duration_seconds_sum', 'holds')).toBeGreaterThan(0);
  });
});

describe('what the metrics count', () => {
  const delta = (before: string, after: string, name: string, ...labels: string[]) => {
    const value = (text: string) => {
      const line = text
        .split('\n')
        .find((row) => row.startsWith(`${name}{`) && labels.every((label) => row.includes(label)));
      return line ? Number(line.split(' ').pop()) : 0;
    };
    return value(after) - value(before);
  };

  it('holds by outcome, confirms and cancels by result, requests by route and status, queue waits', async () => {
    const before = (await scrape(admin)).body;
    const show = await createShow(ctx.app, { total_seats: 2 });
    const [first, second] = [await hold(ctx.app, show.id), await hold(ctx.app, show.id)];
    const refused = await ctx.app.inject({ method: 'POST', url: `/api/shows/${show.id}/book` });
    expectProblem(refused, 409, 'sold_out');
    const act = (id: string, action: string, token: string) =>
      ctx.app.inject({ method: 'POST', url: `/api/bookings/${id}/${action}`, headers: { 'x-hold-token': token } });
    expect((await act(first.id, 'confirm', first.hold_token)).statusCode).toBe(200);
    expect((await act(second.id, 'cancel', second.hold_token)).statusCode).toBe(200);
    expectProblem(await act(second.id, 'confirm', second.hold_token), 409, 'booking_cancelled');
    const after = (await scrape(admin)).body;

    expect(delta(before, after, 'seat_hold_holds_total', 'outcome="held"')).toBe(2);
    expect(delta(before, after, 'seat_hold_holds_total', 'outcome="sold_out"')).toBe(1);
    expect(delta(before, after, 'seat_hold_booking_actions_total', 'action="confirm"', 'result="confirmed"')).toBe(1);
    expect(delta(before, after, 'seat_hold_booking_actions_total', 'action="cancel"', 'result="cancelled"')).toBe(1);
    expect(
      delta(before, after, 'seat_hold_booking_actions_total', 'action="confirm"', 'result="booking_cancelled"'),
    ).toBe(1);
    const route = (status: number) => [
      'seat_hold_http_request_duration_seconds_count',
      'route="/api/shows/:id/book"',
      'method="POST"',
      `status="${status}"`,
    ];
    expect(delta(before, after, ...(route(201) as [string, ...string[]]))).toBe(2);
    expect(delta(before, after, ...(route(409) as [string, ...string[]]))).toBe(1);
    expect(delta(before, after, 'seat_hold_queue_wait_seconds_count', 'process="api"')).toBe(6);
    // No show or booking id ever becomes a label.
    expect(after).not.toContain(show.id);
    expect(after).toMatch(/seat_hold_db_pool_connections\{[^}]*state="total"[^}]*\} \d+/);
  });

  it('expiries by path, with how late each was: a late confirm, a group short of seats, the sweep', async () => {
    const before = (await scrape(admin)).body;
    const show = await createShow(ctx.app, { total_seats: 2 });
    const late = await hold(ctx.app, show.id);
    const reclaimed = await hold(ctx.app, show.id);
    await lapse(ctx.pool, [late.id, reclaimed.id]);
    // A late confirm expires its own hold (only its own) and refuses.
    const confirm = await ctx.app.inject({
      method: 'POST',
      url: `/api/bookings/${late.id}/confirm`,
      headers: { 'x-hold-token': late.hold_token },
    });
    expectProblem(confirm, 409, 'hold_expired');
    const middle = (await scrape(admin)).body;
    expect(delta(before, middle, 'seat_hold_expired_holds_total', 'path="late_action"')).toBe(1);

    // A group short of seats reclaims overdue holds itself: here the other hold of the first
    // show, and then the hold of a second one.
    await hold(ctx.app, show.id, 2);
    const third = await hold(ctx.app, (await createShow(ctx.app, { total_seats: 1 })).id);
    await lapse(ctx.pool, third.id);
    await ctx.app.inject({ method: 'POST', url: `/api/shows/${third.show_id}/book` });
    // The sweep, with the lateness it saw.
    const fourth = await hold(ctx.app, (await createShow(ctx.app, { total_seats: 1 })).id);
    await lapse(ctx.pool, fourth.id);
    await ctx.services.housekeeping.run();
    const after = (await scrape(admin)).body;
    expect(delta(middle, after, 'seat_hold_expired_holds_total', 'path="reclaim"')).toBe(2);
    expect(delta(middle, after, 'seat_hold_expired_holds_total', 'path="sweep"')).toBeGreaterThanOrEqual(1);
    expect(delta(middle, after, 'seat_hold_expiry_lag_seconds_count', 'process="api"')).toBe(
      delta(middle, after, 'seat_hold_expired_holds_total', 'path="sweep"'),
    );
  });
});

describe("the worker's metrics listener", () => {
  it('answers GET /metrics to its tokens only', async () => {
    const metrics = createMetrics('worker');
    const server = await serveWorkerMetrics(metrics, { host: '127.0.0.1', port: 0, tokens: [METRICS_TOKEN] });
    try {
      const { port } = server.address() as { port: number };
      const url = `http://127.0.0.1:${port}/metrics`;
      expect((await fetch(url)).status).toBe(401);
      expect((await fetch(url, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
      const ok = await fetch(url, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('seat_hold_process_cpu_seconds_total{process="worker"}');
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    } finally {
      server.close();
    }
  });
});
