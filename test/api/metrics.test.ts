import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, createShow, expectProblem, hold, startTestApp, type TestContext } from '../helpers.js';

const METRICS_TOKEN = 'metrics-token-0123456789';
let ctx: TestContext;
beforeAll(async () => {
  ctx = await startTestApp({ METRICS_TOKEN });
});
afterAll(() => ctx.close());

const scrape = (headers: Record<string, string> = {}) => ctx.app.inject({ method: 'GET', url: '/metrics', headers });

/** The value of the sample of `name` whose labels include `label` (e.g. `kind="holds"`); 0 when none yet. */
function sample(text: string, name: string, label: string): number {
  const line = text.split('\n').find((row) => row.startsWith(`${name}{`) && row.includes(label));
  return line ? Number(line.split(' ').pop()) : 0;
}

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
