import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, startTestApp, type TestContext } from '../helpers.js';
import { admin, createShow, futureIso } from '../support/api.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await startTestApp();
});
afterAll(() => ctx.close());

const post = (payload: unknown, headers: Record<string, string> = admin) =>
  ctx.app.inject({ method: 'POST', url: '/api/shows', headers, payload: payload as string });

describe('POST /api/shows', () => {
  it('creates a show for the admin, with all its seats available', async () => {
    const startTime = futureIso();
    const response = await post({ title: 'Hamlet', description: 'Act I–V', start_time: startTime, total_seats: 120 });
    expect(response.statusCode).toBe(201);
    const show = response.json();
    expect(show).toMatchObject({ title: 'Hamlet', description: 'Act I–V', total_seats: 120, available_seats: 120 });
    expect(new Date(show.start_time).getTime()).toBe(new Date(startTime).getTime());
    expect(show.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.location).toBe(`/api/shows/${show.id}`);
  });

  it('accepts an offset other than Z and stores SQL-looking text verbatim', async () => {
    const title = "Robert'); DROP TABLE shows;--";
    const response = await post({ title, start_time: '2031-05-01T20:00:00+02:00', total_seats: 1 });
    expect(response.statusCode).toBe(201);
    expect(response.json().title).toBe(title);
    expect(response.json().start_time).toBe('2031-05-01T18:00:00.000Z');
  });

  it('answers 401 without the admin key or with a wrong one', async () => {
    const body = { title: 'x', start_time: futureIso(), total_seats: 1 };
    const missing = expectProblem(await post(body, {}), 401, 'unauthorized');
    expect(missing.detail).toMatch(/Bearer/);
    expectProblem(await post(body, { authorization: 'Bearer wrong-key-wrong-key' }), 401, 'unauthorized');
    expectProblem(await post(body, { authorization: 'Basic abc' }), 401, 'unauthorized');
  });

  it.each([
    ['missing title', { start_time: futureIso(), total_seats: 1 }],
    ['empty title', { title: '', start_time: futureIso(), total_seats: 1 }],
    ['blank title', { title: '   ', start_time: futureIso(), total_seats: 1 }],
    ['title over 200 characters', { title: 'x'.repeat(201), start_time: futureIso(), total_seats: 1 }],
    ['start_time without offset', { title: 'x', start_time: '2031-05-01T20:00:00', total_seats: 1 }],
    ['start_time not a date', { title: 'x', start_time: 'tomorrow', total_seats: 1 }],
    ['total_seats zero', { title: 'x', start_time: futureIso(), total_seats: 0 }],
    ['total_seats over 100000', { title: 'x', start_time: futureIso(), total_seats: 100001 }],
    ['total_seats fractional', { title: 'x', start_time: futureIso(), total_seats: 1.5 }],
    ['total_seats a string', { title: 'x', start_time: futureIso(), total_seats: '10' }],
    ['unknown field', { title: 'x', start_time: futureIso(), total_seats: 1, price: 5 }],
    ['an array body', [1, 2]],
    ['a string body', 'hello'],
    ['a null body', null],
  ])('answers 400 validation_failed for %s', async (_name, body) => {
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/api/shows',
      headers: { ...admin, 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
    const problem = expectProblem(response, 400, 'validation_failed');
    expect(problem.errors.length).toBeGreaterThan(0);
  });

  it('answers 400 validation_failed for an empty body', async () => {
    expectProblem(
      await ctx.app.inject({ method: 'POST', url: '/api/shows', headers: admin }),
      400,
      'validation_failed',
    );
  });

  it('answers 422 when start_time is in the past', async () => {
    const response = await post({ title: 'x', start_time: '2001-01-01T00:00:00Z', total_seats: 1 });
    expectProblem(response, 422, 'start_time_in_past');
  });

  it('answers 400 invalid_json for malformed JSON, 415 for other content types, 413 for oversized bodies', async () => {
    const headers = { ...admin, 'content-type': 'application/json' };
    expectProblem(
      await ctx.app.inject({ method: 'POST', url: '/api/shows', headers, payload: '{"title":' }),
      400,
      'invalid_json',
    );
    expectProblem(
      await ctx.app.inject({ method: 'POST', url: '/api/shows', headers, payload: '{"__proto__":{"x":1}}' }),
      400,
      'invalid_json',
    );
    expectProblem(
      await ctx.app.inject({
        method: 'POST',
        url: '/api/shows',
        headers: { ...admin, 'content-type': 'text/plain' },
        payload: 'hi',
      }),
      415,
      'unsupported_media_type',
    );
    const big = JSON.stringify({
      title: 'x',
      description: 'y'.repeat(20_000),
      start_time: futureIso(),
      total_seats: 1,
    });
    // Holds take BODY_LIMIT_BYTES; shows, whose seat maps can be large, take up to 8 MiB.
    expectProblem(
      await ctx.app.inject({ method: 'POST', url: `/api/shows/${randomUUID()}/book`, headers, payload: big }),
      413,
      'payload_too_large',
    );
    const huge = JSON.stringify({ title: 'x', description: 'y'.repeat(9 * 1024 * 1024), start_time: futureIso() });
    expectProblem(
      await ctx.app.inject({ method: 'POST', url: '/api/shows', headers, payload: huge }),
      413,
      'payload_too_large',
    );
  });
});

describe('GET /api/shows/:id', () => {
  it('returns the show', async () => {
    const show = await createShow(ctx.app, { total_seats: 7 });
    const response = await ctx.app.inject({ method: 'GET', url: `/api/shows/${show.id}` });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      id: show.id,
      total_seats: 7,
      available_seats: 7,
      // Created without them: the configured currency, and one free type.
      currency: 'EUR',
      ticket_types: [
        {
          code: 'standard',
          name: 'Admission',
          price: 0,
          max_per_booking: null,
          available_from: null,
          available_until: null,
          available: 7,
        },
      ],
    });
    expect(Object.keys(response.json()).sort()).toEqual(
      [
        'available_seats',
        'created_at',
        'currency',
        'description',
        'id',
        'late_confirm',
        'max_seats_per_customer',
        'sales_end',
        'sales_start',
        'seating',
        'start_time',
        'ticket_types',
        'title',
        'total_seats',
      ].sort(),
    );
  });
  it('answers 404 for an unknown id and 400 for a malformed one', async () => {
    expectProblem(
      await ctx.app.inject({ method: 'GET', url: '/api/shows/00000000-0000-4000-8000-000000000000' }),
      404,
      'show_not_found',
    );
    expectProblem(await ctx.app.inject({ method: 'GET', url: '/api/shows/42' }), 400, 'validation_failed');
  });
});

describe('GET /api/shows', () => {
  it('pages through every show in start-time order with a Link header', async () => {
    const created = [];
    for (let i = 0; i < 5; i++)
      created.push(await createShow(ctx.app, { title: `page ${i}`, start_time: futureIso(60 * 24 * 400 + i) }));
    const seen: string[] = [];
    let url: string | undefined = '/api/shows?limit=2';
    let pages = 0;
    while (url) {
      const response = await ctx.app.inject({ method: 'GET', url });
      expect(response.statusCode).toBe(200);
      const page = response.json<{ id: string; start_time: string }[]>();
      expect(page.length).toBeLessThanOrEqual(2);
      seen.push(...page.map((show) => show.id));
      const link = response.headers.link as string | undefined;
      url = link ? /^<([^>]+)>; rel="next"$/.exec(link)![1] : undefined;
      pages++;
    }
    const all = (await ctx.app.inject({ method: 'GET', url: '/api/shows?limit=200' })).json<
      { id: string; start_time: string }[]
    >();
    expect(seen).toEqual(all.map((show) => show.id));
    expect(new Set(seen).size).toBe(seen.length);
    expect(pages).toBe(Math.ceil(all.length / 2));
    for (const show of created) expect(seen).toContain(show.id);
    const times = all.map((show) => new Date(show.start_time).getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('defaults to 50 and rejects limits outside 1..200 and bad cursors', async () => {
    // 60 more shows, on three start times only, so that the page boundary falls among shows
    // with the same start_time and the id must break the tie.
    const base = Date.now() + 500 * 86_400_000;
    for (let i = 0; i < 60; i++) {
      await createShow(ctx.app, { title: `default ${i}`, start_time: new Date(base + (i % 3) * 60_000).toISOString() });
    }
    // Every show of this file's database, in (start_time, id) order as PostgreSQL orders them.
    const { rows: stored } = await ctx.pool.query<{ id: string; start_time: Date }>(
      'SELECT id, start_time FROM shows ORDER BY start_time, id',
    );
    expect(stored.length).toBeGreaterThan(60);
    expect(stored.length).toBeLessThanOrEqual(100); // so that the second page is the last one
    expect(stored[49]!.start_time.getTime()).toBe(stored[50]!.start_time.getTime()); // the boundary is in a tie

    const first = await ctx.app.inject({ method: 'GET', url: '/api/shows' });
    expect(first.statusCode).toBe(200);
    const firstPage = first.json<{ id: string; start_time: string }[]>();
    expect(firstPage).toHaveLength(50);
    const next = /^<(\/api\/shows\?limit=50&cursor=[A-Za-z0-9_-]+)>; rel="next"$/.exec(String(first.headers.link));
    expect(next, `Link: ${String(first.headers.link)}`).not.toBeNull();

    const second = await ctx.app.inject({ method: 'GET', url: next![1]! });
    expect(second.statusCode).toBe(200);
    const secondPage = second.json<{ id: string; start_time: string }[]>();
    expect(secondPage).toHaveLength(stored.length - 50);
    expect(second.headers.link).toBeUndefined();

    // Every show exactly once, in (start_time, id) order.
    const seen = [...firstPage, ...secondPage];
    expect(seen.map((show) => show.id)).toEqual(stored.map((show) => show.id));
    expect(new Set(seen.map((show) => show.id)).size).toBe(seen.length);
    for (let i = 1; i < seen.length; i++) {
      const [previous, current] = [seen[i - 1]!, seen[i]!];
      const [a, b] = [new Date(previous.start_time).getTime(), new Date(current.start_time).getTime()];
      expect(a < b || (a === b && previous.id < current.id), `${previous.id} before ${current.id}`).toBe(true);
    }

    // 1 and 200 are the bounds, both accepted.
    expect((await ctx.app.inject({ method: 'GET', url: '/api/shows?limit=1' })).json()).toHaveLength(1);
    expect((await ctx.app.inject({ method: 'GET', url: '/api/shows?limit=200' })).json()).toHaveLength(stored.length);
    expectProblem(await ctx.app.inject({ method: 'GET', url: '/api/shows?limit=0' }), 400, 'validation_failed');
    expectProblem(await ctx.app.inject({ method: 'GET', url: '/api/shows?limit=201' }), 400, 'validation_failed');
    expectProblem(await ctx.app.inject({ method: 'GET', url: '/api/shows?limit=abc' }), 400, 'validation_failed');
    expectProblem(
      await ctx.app.inject({ method: 'GET', url: '/api/shows?cursor=not-a-cursor' }),
      400,
      'invalid_cursor',
    );
  });
});

describe('unknown routes', () => {
  it('answer 404 problem+json', async () => {
    expectProblem(await ctx.app.inject({ method: 'GET', url: '/nope' }), 404, 'not_found');
  });
  it('a malformed URL answers 400 bad_request', async () => {
    expectProblem(await ctx.app.inject({ method: 'GET', url: '/api/shows/%E0%A4%A' }), 400, 'bad_request');
  });
});
