import { randomUUID } from 'node:crypto';
import { type Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FastifyRequest } from 'fastify';
import { toProblem } from '../../src/http/problem.js';
import { producerConnection } from '../../src/adapters/redis.js';
import { buildTestApp, expectProblem, startTestApp, type TestContext } from '../helpers.js';
import { createShow } from '../support/api.js';
import { Api } from '../support/api.js';

const opened: TestContext[] = [];
const cleanups: (() => Promise<unknown>)[] = [];
const connections: Redis[] = [];
async function app(overrides: Record<string, string>, rateLimitRedis?: Redis) {
  const ctx = await startTestApp(overrides, rateLimitRedis ? { rateLimitRedis } : {});
  opened.push(ctx);
  return ctx;
}
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
  await Promise.all(opened.map((ctx) => ctx.close()));
  for (const connection of connections) connection.disconnect();
});

const book = (ctx: Pick<TestContext, 'app'>, showId: string, headers: Record<string, string> = {}) =>
  new Api(ctx.app).hold(showId, undefined, headers);

describe('rate limiting', () => {
  it('answers 429 problem+json with Retry-After past RATE_LIMIT_MAX per window; reads are not limited', async () => {
    const ctx = await app({ RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_SECONDS: '60' });
    const show = await createShow(ctx.app, { total_seats: 100 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await book(ctx, show.id)).statusCode);
    expect(statuses).toEqual([201, 201, 201]);
    const limited = await book(ctx, show.id);
    expectProblem(limited, 429, 'rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    for (let i = 0; i < 5; i++) {
      expect((await ctx.app.inject({ method: 'GET', url: `/api/shows/${show.id}` })).statusCode).toBe(200);
    }
  });

  it('limits the admin route too', async () => {
    const ctx = await app({ RATE_LIMIT_MAX: '2' });
    await createShow(ctx.app);
    await createShow(ctx.app);
    await expect(createShow(ctx.app)).rejects.toThrow(/429/);
  });

  it('backed by Redis, the limit holds across API processes', async () => {
    const redis = producerConnection(inject('redisUrl'));
    connections.push(redis);
    const config = { RATE_LIMIT_MAX: '4', QUEUE_PREFIX: `rl-${randomUUID()}` };
    const a = await app(config, redis);
    // A second API on the same database and Redis.
    const b = {
      app: (await buildTestApp(a.config, a.pool, { rateLimitRedis: redis })).app,
    };
    cleanups.push(() => b.app.close());
    const show = await createShow(a.app, { total_seats: 100 });
    const statuses = [
      (await book(a, show.id)).statusCode,
      (await book(b, show.id)).statusCode,
      (await book(a, show.id)).statusCode,
      (await book(b, show.id)).statusCode,
    ];
    expect(statuses).toEqual([201, 201, 201, 201]);
    expectProblem(await book(a, show.id), 429, 'rate_limited');
    expectProblem(await book(b, show.id), 429, 'rate_limited');
  });

  it('keeps serving when its Redis is unreachable', async () => {
    const unreachable = producerConnection('redis://127.0.0.1:1');
    unreachable.on('error', () => {});
    connections.push(unreachable);
    const ctx = await app({ RATE_LIMIT_MAX: '1' }, unreachable);
    const show = await createShow(ctx.app, { total_seats: 10 });
    for (let i = 0; i < 3; i++) expect((await book(ctx, show.id)).statusCode).toBe(201);
  });

  it('counts X-Forwarded-For clients apart only when TRUST_PROXY says so', async () => {
    const direct = await app({ RATE_LIMIT_MAX: '1' });
    const showA = await createShow(direct.app, { total_seats: 10 });
    expect((await book(direct, showA.id, { 'x-forwarded-for': '203.0.113.1' })).statusCode).toBe(201);
    expectProblem(await book(direct, showA.id, { 'x-forwarded-for': '203.0.113.2' }), 429, 'rate_limited');

    const proxied = await app({ RATE_LIMIT_MAX: '1', TRUST_PROXY: '127.0.0.1' });
    const showB = await createShow(proxied.app, { total_seats: 10 });
    expect((await book(proxied, showB.id, { 'x-forwarded-for': '203.0.113.1' })).statusCode).toBe(201);
    expect((await book(proxied, showB.id, { 'x-forwarded-for': '203.0.113.2' })).statusCode).toBe(201);
    expectProblem(await book(proxied, showB.id, { 'x-forwarded-for': '203.0.113.1' }), 429, 'rate_limited');
  });
});

describe('security headers and CORS', () => {
  let closed: TestContext;
  let open: TestContext;
  beforeAll(async () => {
    closed = await app({});
    open = await app({ CORS_ORIGINS: 'https://tickets.example.com' });
  });

  it('sends the security headers of a JSON API on answers and errors', async () => {
    // An answer, a 404, and a URL refused before routing.
    for (const url of ['/health', '/api/nothing-here', '/api/shows/%E0%A4%A']) {
      const response = await closed.app.inject({ method: 'GET', url });
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['x-frame-options']).toBe('DENY');
      expect(response.headers['strict-transport-security']).toMatch(/max-age=/);
      expect(response.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
      expect(response.headers['referrer-policy']).toBe('no-referrer');
    }
  });

  it('lets Swagger UI run its own scripts', async () => {
    const page = await closed.app.inject({ method: 'GET', url: '/api-docs/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
  });

  it('allows no cross-origin access by default', async () => {
    const preflight = await closed.app.inject({
      method: 'OPTIONS',
      url: '/api/shows',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    const get = await closed.app.inject({ method: 'GET', url: '/health', headers: { origin: 'https://evil.example' } });
    expect(get.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('allows exactly the origins in CORS_ORIGINS', async () => {
    const allowed = await open.app.inject({
      method: 'OPTIONS',
      url: '/api/shows',
      headers: {
        origin: 'https://tickets.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'idempotency-key, content-type',
      },
    });
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://tickets.example.com');
    expect(allowed.headers['access-control-allow-headers']).toMatch(/idempotency-key/);
    const other = await open.app.inject({
      method: 'GET',
      url: '/health',
      headers: { origin: 'https://evil.example' },
    });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('input the schema accepts never reaches PostgreSQL in a form it refuses', () => {
  it('ids only in their canonical form: anything else is 400 validation_failed, never a 5xx', async () => {
    const ctx = await app({});
    const show = await createShow(ctx.app, { total_seats: 5 });
    const held = (await book(ctx, show.id)).json();
    const token = { 'x-hold-token': held.hold_token };
    const spellings = (id: string) => [`urn:uuid:${id}`, `URN:UUID:${id}`, `{${id}}`, id.replace(/-/g, ''), `${id}0`];
    for (const id of spellings(show.id)) {
      expectProblem(await ctx.app.inject({ method: 'GET', url: `/api/shows/${id}` }), 400, 'validation_failed');
      expectProblem(await book(ctx, id), 400, 'validation_failed');
    }
    for (const id of spellings(held.id)) {
      for (const url of [`/api/bookings/${id}`, `/api/bookings/${id}/confirm`, `/api/bookings/${id}/cancel`]) {
        const method = url.endsWith(id) ? 'GET' : 'POST';
        expectProblem(await ctx.app.inject({ method, url, headers: token }), 400, 'validation_failed');
      }
    }
    // One spelling per id: upper case is refused too, so a show never has two (two queues, two hash keys).
    expectProblem(
      await ctx.app.inject({ method: 'GET', url: `/api/shows/${show.id.toUpperCase()}` }),
      400,
      'validation_failed',
    );
  });

  it('a page cursor whose date Date.parse takes but PostgreSQL would not: 400 invalid_cursor', async () => {
    const ctx = await app({});
    const id = randomUUID();
    const cursors = [
      ['2020-02-30T00:00:00.000Z', id],
      ['+275760-09-13T00:00:00.000Z', id],
      ['Sat, 01 Jan 2050 10:00:00 GMT', id],
      ['2050-01-01', id],
      ['0000-01-01T00:00:00.000Z', id],
      ['2050-01-01T00:00:00.000Z', `urn:uuid:${id}`],
    ].map((pair) => Buffer.from(JSON.stringify(pair)).toString('base64url'));
    for (const cursor of cursors) {
      expectProblem(await ctx.app.inject({ method: 'GET', url: `/api/shows?cursor=${cursor}` }), 400, 'invalid_cursor');
    }
  });

  it('a PostgreSQL data error (SQLSTATE class 22) that still reaches the error handler is a 400, without its message', () => {
    const request = { url: '/api/shows/x', id: 'req-1' } as FastifyRequest;
    for (const code of ['22P02', '22007', '22008', '22003']) {
      const error = Object.assign(new Error('invalid input syntax for type uuid: "SELECT secret"'), { code });
      expect(toProblem(error, request)).toMatchObject({ status: 400, code: 'validation_failed' });
      expect(toProblem(error, request).detail).not.toContain('secret');
    }
    // Not every failure with a code is the client's: a lost connection stays a 503.
    expect(toProblem(Object.assign(new Error('x'), { code: '08006' }), request).status).toBe(503);
  });
});
