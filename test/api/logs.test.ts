import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, expectProblem, startTestApp, type TestContext } from '../helpers.js';
import { admin, createShow } from '../support/api.js';

const METRICS_TOKEN = 'metrics-token-for-the-log-test';
const lines: string[] = [];
let ctx: TestContext;
beforeAll(async () => {
  ctx = await startTestApp(
    { LOG_LEVEL: 'trace', METRICS_TOKEN },
    { logDestination: { write: (line: string) => void lines.push(line) } },
  );
});
afterAll(() => ctx.close());

const entries = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);

describe('the log of a full API run', () => {
  it('never holds a secret: not the admin key, a hold token, an Idempotency-Key or the metrics token', async () => {
    const secrets = [ADMIN_KEY, METRICS_TOKEN];
    const key = () => {
      const value = `idem-${randomUUID()}`;
      secrets.push(value);
      return value;
    };
    const show = await createShow(ctx.app, { total_seats: 3 });
    const created = await ctx.app.inject({
      method: 'POST',
      url: '/api/shows',
      headers: { ...admin, 'idempotency-key': key() },
      payload: { title: 'Logged', start_time: '2031-01-01T20:00:00Z', total_seats: 2 },
    });
    expect(created.statusCode).toBe(201);
    const holds = [];
    for (let i = 0; i < 3; i++) {
      const held = await ctx.app.inject({
        method: 'POST',
        url: `/api/shows/${show.id}/book`,
        headers: { 'idempotency-key': key() },
        payload: { seats: 1 },
      });
      expect(held.statusCode).toBe(201);
      holds.push(held.json<{ id: string; hold_token: string }>());
    }
    for (const held of holds) secrets.push(held.hold_token);
    const [first, second, third] = holds;
    const as = (token: string) => ({ 'x-hold-token': token, 'idempotency-key': key() });
    expect(
      (
        await ctx.app.inject({
          method: 'POST',
          url: `/api/bookings/${first!.id}/confirm`,
          headers: as(first!.hold_token),
        })
      ).statusCode,
    ).toBe(200);
    expect(
      (
        await ctx.app.inject({
          method: 'POST',
          url: `/api/bookings/${second!.id}/cancel`,
          headers: as(second!.hold_token),
        })
      ).statusCode,
    ).toBe(200);
    expect(
      (await ctx.app.inject({ method: 'GET', url: `/api/bookings/${third!.id}`, headers: admin })).statusCode,
    ).toBe(200);
    // Refusals log too: a wrong token, a sold-out show, a malformed key, an unknown route.
    expectProblem(
      await ctx.app.inject({
        method: 'GET',
        url: `/api/bookings/${third!.id}`,
        headers: { 'x-hold-token': first!.hold_token },
      }),
      403,
      'forbidden',
    );
    expectProblem(
      await ctx.app.inject({
        method: 'POST',
        url: `/api/shows/${show.id}/book`,
        headers: { 'idempotency-key': key() },
        payload: { seats: 2 }, // one seat is free again after the cancel
      }),
      409,
      'sold_out',
    );
    expectProblem(await ctx.app.inject({ method: 'GET', url: '/nowhere', headers: admin }), 404, 'not_found');
    expect(
      (await ctx.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } }))
        .statusCode,
    ).toBe(200);

    const log = lines.join('');
    expect(lines.length).toBeGreaterThan(10);
    for (const secret of secrets) expect(log, 'a secret in the log').not.toContain(secret);
  });

  it('writes one line per request with its id, route, status, duration and the show or booking it touched', async () => {
    lines.length = 0;
    const show = await createShow(ctx.app, { total_seats: 1 });
    const held = await ctx.app.inject({
      method: 'POST',
      url: `/api/shows/${show.id}/book`,
      headers: { 'x-request-id': 'trace-me-1' },
    });
    const id = held.json<{ id: string }>().id;
    await ctx.app.inject({
      method: 'GET',
      url: `/api/bookings/${id}`,
      headers: { ...admin, 'x-request-id': 'trace-me-2' },
    });
    const requests = entries().filter((entry) => entry.msg === 'request');
    expect(requests).toHaveLength(3);
    expect(requests[1]).toMatchObject({
      reqId: 'trace-me-1',
      method: 'POST',
      route: '/api/shows/:id/book',
      status: 201,
      show_id: show.id,
    });
    expect(requests[2]).toMatchObject({
      reqId: 'trace-me-2',
      method: 'GET',
      route: '/api/bookings/:id',
      status: 200,
      booking_id: id,
    });
    expect(typeof requests[1]!.ms).toBe('number');
  });
});

describe('LOG_FORMAT', () => {
  const logWith = (format: string) =>
    execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `const { createLogger } = await import('./src/logger.ts'); const log = createLogger({ LOG_LEVEL: 'info', LOG_FORMAT: '${format}', NODE_ENV: 'production' }, 'probe'); log.info({ show_id: 'x' }, 'hello'); await new Promise((r) => setTimeout(r, 300));`,
      ],
      { encoding: 'utf8' },
    );

  it('json writes JSON lines; pretty writes lines people read', () => {
    expect(JSON.parse(logWith('json').trim())).toMatchObject({ msg: 'hello', name: 'probe', show_id: 'x' });
    const pretty = logWith('pretty');
    expect(pretty).toMatch(/INFO.*\(probe\).*hello/);
    expect(() => JSON.parse(pretty.trim())).toThrow();
  });
});
