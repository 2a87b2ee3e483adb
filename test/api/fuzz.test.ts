import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemCatalog } from '../../src/errors.js';
import { startTestApp, type TestContext } from '../helpers.js';
import type { Hold as HeldBooking } from '../../client/src/index.js';
import { admin, createShow, hold } from '../support/api.js';

// Property-based: generated ids, bodies, headers, query strings and content types thrown
// at every route. Whatever arrives, the answer is never a 5xx, every error is problem+json
// with a catalogued code, and nothing internal (stack, path, SQL) leaks.

let ctx: TestContext;
let showId: string;
let seatedId: string;
let booking: HeldBooking;
const seatMap = {
  sections: [
    {
      name: 'Stalls',
      rows: [
        { label: 'A', seats: 1000, category: 'premium' },
        ...Array.from({ length: 40 }, (_, i) => ({ label: `R${i}`, seats: 1000 })),
      ],
    },
  ],
};
beforeAll(async () => {
  ctx = await startTestApp({ MAX_SEATS_PER_BOOKING: '4' });
  showId = (await createShow(ctx.app, { total_seats: 100_000 })).id;
  booking = await hold(ctx.app, showId);
  const seated = await ctx.app.inject({
    method: 'POST',
    url: '/api/shows',
    headers: admin,
    payload: { title: 'Seated', start_time: '2031-01-01T20:00:00Z', seat_map: seatMap },
  });
  seatedId = seated.json<{ id: string }>().id;
});
afterAll(() => ctx.close());

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const codes = new Set(Object.keys(problemCatalog));

const sqlish = fc.constantFrom(
  "'; DROP TABLE shows; --",
  "' OR '1'='1",
  '1; SELECT pg_sleep(10)',
  '$1',
  '\\x00',
  '%s%n',
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
);
const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  sqlish,
  fc.constant('\u0000'),
  fc.constant('a\u0000b'),
  fc.constant('\ud800'), // a lone surrogate
  fc.constant('x'.repeat(5000)),
);
const number = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -1, Number.MAX_VALUE, -Number.MAX_VALUE, 2 ** 53, 2 ** 31, 1e21, 0.5),
);
const anyValue = fc.oneof(text, number, fc.boolean(), fc.constant(null), fc.anything());

// encodeURIComponent throws on a lone surrogate; a client would send its replacement.
const encode = (value: string) => {
  try {
    return encodeURIComponent(value);
  } catch {
    return '%EF%BF%BD';
  }
};

// Every spelling of a UUID that some parser accepts (ajv's `uuid` format takes `urn:uuid:`,
// PostgreSQL takes braces and missing hyphens): only the canonical one may reach the database.
const uuidSpelling = fc.oneof(
  fc.uuid(),
  fc.uuid().map((value) => value.toUpperCase()),
  fc.uuid().map((value) => `urn:uuid:${value}`),
  fc.uuid().map((value) => `URN:UUID:${value}`),
  fc.uuid().map((value) => `{${value}}`),
  fc.uuid().map((value) => value.replace(/-/g, '')),
  fc.uuid().map((value) => ` ${value}`),
  fc.uuid().map((value) => `${value}\n`),
  fc.constantFrom('00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff'),
);
const knownId = fc.constantFrom<() => string>(
  () => showId,
  () => seatedId,
  () => seatedId,
  () => booking.id,
  () => `urn:uuid:${showId}`,
  () => `urn:uuid:${booking.id}`,
  () => showId.toUpperCase(),
  () => `{${booking.id}}`,
);

const id = fc.oneof(
  knownId,
  uuidSpelling.map((value) => () => encode(value)),
  text.map((value) => () => encode(value)),
  fc
    .constantFrom('%', '%E0%A4%A', '..%2F..%2Fetc%2Fpasswd', '%00', '00000000-0000-0000-0000-00000000000g')
    .map((value) => () => value),
);

const showFields = fc.record(
  {
    title: fc.oneof(text, anyValue),
    description: fc.oneof(text, anyValue),
    start_time: fc.oneof(
      fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
      fc.constantFrom('2031-01-01T20:00:00Z', '2031-01-01T20:00:00', '2031-02-30T20:00:00Z', '9999-12-31T23:59:59Z'),
      anyValue,
    ),
    total_seats: fc.oneof(number, anyValue),
    seats: fc.oneof(number, anyValue),
    seat_map: fc.oneof(
      anyValue,
      fc.record({
        sections: fc.array(
          fc.record(
            {
              name: fc.oneof(text, fc.constantFrom('Stalls', 'A-B', ' ', 'Stalls'), anyValue),
              rows: fc.array(
                fc.record(
                  {
                    label: fc.oneof(text, fc.constantFrom('A', 'A'), anyValue),
                    seats: fc.oneof(fc.integer({ min: 0, max: 1001 }), anyValue),
                    category: fc.oneof(text, anyValue),
                  },
                  { requiredKeys: [] },
                ),
                { maxLength: 4 },
              ),
            },
            { requiredKeys: [] },
          ),
          { maxLength: 3 },
        ),
      }),
    ),
    seat_ids: fc.oneof(
      fc.array(
        fc.oneof(
          text,
          fc.constantFrom(
            'Stalls-A-1',
            'Stalls-A-1000',
            'Stalls-A-1001',
            'Stalls-A-0',
            'Stalls-R39-7',
            'Stalls-A-01',
            'Stalls--A-1',
            '-',
          ),
        ),
        { maxLength: 6 },
      ),
      anyValue,
    ),
    category: fc.oneof(fc.constantFrom('premium', 'standard'), text, anyValue),
    section: fc.oneof(fc.constantFrom('Stalls'), text, anyValue),
    allow_split: fc.oneof(fc.boolean(), anyValue),
    customer_ref: fc.oneof(text, anyValue),
    // Ticket types: the bodies that hold them and the ones that define them.
    tickets: fc.oneof(
      fc.array(
        fc.record(
          {
            type: fc.oneof(fc.constantFrom('standard', 'adult', 'Standard', ''), text, anyValue),
            quantity: fc.oneof(fc.integer({ min: -1, max: 6 }), number, anyValue),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 4 },
      ),
      anyValue,
    ),
    currency: fc.oneof(fc.constantFrom('EUR', 'XYZ', 'eur', 'EURO'), text, anyValue),
    ticket_types: fc.oneof(
      fc.array(
        fc.record(
          {
            code: fc.oneof(fc.constantFrom('standard', 'adult', 'Adult', '-x'), text, anyValue),
            name: fc.oneof(text, anyValue),
            price: fc.oneof(fc.integer({ min: -1, max: 1_000_000_001 }), number, anyValue),
            category_prices: fc.oneof(fc.dictionary(fc.constantFrom('premium', 'standard', 'vip'), number), anyValue),
            categories: fc.oneof(fc.array(fc.constantFrom('premium', 'standard', 'vip')), anyValue),
            max_per_booking: fc.oneof(number, fc.constant(null), anyValue),
            available_from: fc.oneof(fc.constant('2031-01-01T00:00:00Z'), fc.constant(null), anyValue),
            available_until: fc.oneof(fc.constant('2030-01-01T00:00:00Z'), fc.constant(null), anyValue),
            requires_code: fc.oneof(fc.boolean(), anyValue),
            retired: fc.oneof(fc.constant(true), anyValue),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 3 },
      ),
      anyValue,
    ),
    late_confirm: fc.oneof(fc.constantFrom('refuse', 'reclaim'), anyValue),
    max_seats_per_customer: fc.oneof(number, fc.constant(null), anyValue),
    sales_start: fc.oneof(
      fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
      fc.constant(null),
      anyValue,
    ),
    sales_end: fc.oneof(
      fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
      fc.constant(null),
      anyValue,
    ),
    note: fc.oneof(text, anyValue),
    block_id: fc.oneof(uuidSpelling, anyValue),
  },
  { requiredKeys: [] },
);

const body = fc.oneof(
  showFields.map((fields) => JSON.stringify(fields)),
  fc.tuple(showFields, fc.dictionary(fc.string(), anyValue)).map(([a, b]) => JSON.stringify({ ...b, ...a })),
  fc.json(),
  anyValue.map((value) => JSON.stringify(value) ?? ''),
  fc.json().chain((json) => fc.nat(json.length).map((cut) => json.slice(0, cut))), // truncated
  fc.integer({ min: 1, max: 4000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)), // deep nesting
  fc.integer({ min: 1, max: 3000 }).map((depth) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)),
  fc.constantFrom(
    '{"seats": 1e309}',
    '{"seats": 99999999999999999999999}',
    '{"__proto__": {"admin": true}}',
    '{"constructor": {"prototype": {}}}',
    '{"seats": 1, "seats": 2}',
    '\u0000',
    '{"title": "\\u0000"}',
    '\ufeff{}',
    'null',
    '',
    ' ',
  ),
  fc.constant('{"title":"' + 'x'.repeat(20_000) + '"}'), // over the body limit
  text,
);

const contentType = fc.oneof(
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'application/JSON',
    'application/json; charset=latin1',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/problem+json',
    'application/vnd.api+json',
    '',
  ),
  fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz/+;=- '.split('')) }),
);

const headerValue = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)) }),
  fc.constantFrom('Bearer ', 'Bearer test-admin-key-0123456789', 'Basic Zm9vOmJhcg==', 'x'.repeat(300)),
);
const headers = fc.record(
  {
    authorization: headerValue,
    'x-hold-token': headerValue,
    'idempotency-key': headerValue,
    'x-request-id': headerValue,
    'x-forwarded-for': headerValue,
    accept: headerValue,
  },
  { requiredKeys: [] },
);

// Cursors shaped like real ones (base64url of [time, id]) with times in every form Date.parse
// accepts, some of which PostgreSQL refuses, and ids in every spelling.
const cursorTime = fc.oneof(
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
  fc.date({ noInvalidDate: true }).map((date) => date.toUTCString()),
  fc.date({ noInvalidDate: true }).map((date) => date.toString()),
  fc.constantFrom(
    '2020-02-30T00:00:00.000Z',
    '+275760-09-13T00:00:00.000Z',
    '-271821-04-20T00:00:00.000Z',
    '2020-01-01',
    '2020-01-01T25:00:00.000Z',
    '1 Jan 2030 10:00 GMT+0100',
    '0',
  ),
  text,
);
const cursor = fc
  .tuple(cursorTime, fc.oneof(uuidSpelling, text))
  .map((pair) => Buffer.from(JSON.stringify(pair)).toString('base64url'));

const query = fc
  .dictionary(
    fc.constantFrom('limit', 'cursor', 'seats', 'x', '__proto__', 'limit[]', 'status', 'customer_ref', 'state'),
    fc.oneof(text, number.map(String), cursor),
    { maxKeys: 3 },
  )
  .map((params) =>
    Object.entries(params)
      .map(([key, value]) => `${encode(key)}=${encode(value)}`)
      .join('&'),
  );

type Route = { method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH'; path: (id: string) => string };
const routes: Route[] = [
  { method: 'POST', path: () => '/api/shows' },
  { method: 'GET', path: () => '/api/shows' },
  { method: 'GET', path: (value) => `/api/shows/${value}` },
  { method: 'GET', path: (value) => `/api/shows/${value}/seats` },
  { method: 'PATCH', path: (value) => `/api/shows/${value}` },
  { method: 'GET', path: (value) => `/api/shows/${value}/bookings` },
  { method: 'GET', path: (value) => `/api/shows/${value}/summary` },
  { method: 'POST', path: (value) => `/api/shows/${value}/blocks` },
  { method: 'GET', path: (value) => `/api/shows/${value}/blocks` },
  { method: 'DELETE', path: (value) => `/api/shows/${value}/blocks/${value}` },
  { method: 'POST', path: (value) => `/api/shows/${value}/comps` },
  { method: 'POST', path: (value) => `/api/shows/${value}/book` },
  { method: 'GET', path: (value) => `/api/bookings/${value}` },
  { method: 'POST', path: (value) => `/api/bookings/${value}/confirm` },
  { method: 'POST', path: (value) => `/api/bookings/${value}/cancel` },
  { method: 'POST', path: (value) => `/api/bookings/${value}/extend` },
  { method: 'POST', path: () => '/api/webhooks' },
  { method: 'GET', path: () => '/api/webhooks' },
  { method: 'GET', path: (value) => `/api/webhooks/${value}` },
  { method: 'PATCH', path: (value) => `/api/webhooks/${value}` },
  { method: 'DELETE', path: (value) => `/api/webhooks/${value}` },
  { method: 'POST', path: (value) => `/api/webhooks/${value}/test` },
  { method: 'GET', path: (value) => `/api/webhooks/${value}/deliveries` },
  { method: 'POST', path: (value) => `/api/webhooks/${value}/deliveries/${value}/retry` },
  { method: 'GET', path: () => '/health/ready' },
  { method: 'DELETE', path: (value) => `/api/shows/${value}` },
  { method: 'PATCH', path: (value) => `/api/nothing/${value}` },
];
// GET /api/shows/:id/availability/stream on a real show is a stream that never ends, which
// inject() would wait for: it is fuzzed apart, with ids of no show (the stream test opens real ones).

/** `echoes`: input the answer may repeat back (an unknown seat id is named), left out of the leak check. */
function expectWellFormed(
  response: { statusCode: number; headers: Record<string, unknown>; body: string },
  echoes: string[] = [],
) {
  expect(response.statusCode).toBeLessThan(500);
  if (response.statusCode < 400) return;
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const problem = JSON.parse(response.body) as { code: string; status: number; detail: string };
  expect(codes.has(problem.code), `unknown code ${problem.code}`).toBe(true);
  expect(problem.status).toBe(response.statusCode);
  let body = response.body;
  for (const echo of echoes) body = body.split(JSON.stringify(echo).slice(1, -1)).join('');
  expect(body).not.toMatch(/\/work\/|node_modules|\bat .*\.[jt]s:\d|SELECT |INSERT |UPDATE /);
}

describe('fuzzing every route', () => {
  it('never answers 5xx, always problem+json with a catalogued code', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        id,
        query,
        body,
        contentType,
        headers,
        async (route, makeId, search, payload, type, extraHeaders) => {
          const url = route.path(makeId()) + (search ? `?${search}` : '');
          const response = await ctx.app.inject({
            method: route.method,
            url,
            headers: { ...extraHeaders, ...(type ? { 'content-type': type } : {}) },
            ...(route.method === 'GET' ? {} : { payload }),
          });
          expectWellFormed(response);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('the availability stream answers any id, query and Last-Event-ID of no show with a problem', async () => {
    const noShow = fc.oneof(
      uuidSpelling.map((value) => () => encode(value)),
      text.map((value) => () => encode(value)),
      fc.constant(() => '00000000-0000-4000-8000-000000000000'),
    );
    await fc.assert(
      fc.asyncProperty(noShow, query, headers, text, async (makeId, search, extraHeaders, lastEventId) => {
        const response = await ctx.app.inject({
          method: 'GET',
          url: `/api/shows/${makeId()}/availability/stream${search ? `?${search}` : ''}`,
          headers: { ...extraHeaders, 'last-event-id': lastEventId.replace(/[^\x20-\x7e]/g, '') },
        });
        expectWellFormed(response);
        expect([400, 404]).toContain(response.statusCode);
      }),
      { numRuns: RUNS },
    );
  });

  it('a seated show answers every hold body with 201, 400 or 409, the seats it names or none', async () => {
    const seatId = fc.oneof(
      fc.integer({ min: 1, max: 1000 }).map((n) => `Stalls-A-${n}`),
      fc.tuple(fc.integer({ min: 0, max: 39 }), fc.integer({ min: 0, max: 1001 })).map(([r, n]) => `Stalls-R${r}-${n}`),
      text,
    );
    const holdBody = fc.oneof(
      fc.record({ seat_ids: fc.array(seatId, { minLength: 0, maxLength: 5 }) }),
      fc.record(
        {
          seats: fc.integer({ min: 0, max: 5 }),
          category: fc.oneof(fc.constantFrom('premium', 'standard'), text),
          section: fc.oneof(fc.constant('Stalls'), text),
          allow_split: fc.boolean(),
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(holdBody, async (payload) => {
        const response = await ctx.app.inject({ method: 'POST', url: `/api/shows/${seatedId}/book`, payload });
        expectWellFormed(
          response,
          Object.values(payload)
            .flat()
            .filter((value): value is string => typeof value === 'string'),
        );
        expect([201, 400, 409]).toContain(response.statusCode);
        if (response.statusCode === 201 && 'seat_ids' in payload) {
          expect(response.json<{ seat_ids: string[] }>().seat_ids.sort()).toEqual([...payload.seat_ids].sort());
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('admin routes answer any body on real shows without a 5xx', async () => {
    const adminRoute = fc.constantFrom(
      { method: 'PATCH' as const, path: (id: string) => `/api/shows/${id}` },
      { method: 'POST' as const, path: (id: string) => `/api/shows/${id}/blocks` },
      { method: 'POST' as const, path: (id: string) => `/api/shows/${id}/comps` },
    );
    await fc.assert(
      fc.asyncProperty(
        adminRoute,
        fc.constantFrom(
          () => showId,
          () => seatedId,
        ),
        fc.oneof(
          showFields,
          fc.record({ seats: fc.integer({ min: 1, max: 3 }) }),
          fc.record({ seat_ids: fc.constant(['Stalls-R3-1']) }),
        ),
        async (route, id, fields) => {
          const response = await ctx.app.inject({
            method: route.method,
            url: route.path(id()),
            headers: admin,
            payload: fields,
          });
          expectWellFormed(
            response,
            Object.values(fields as Record<string, unknown>)
              .flat()
              .filter((value): value is string => typeof value === 'string'),
          );
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('stores seat map names verbatim, or refuses them with a 400', async () => {
    await fc.assert(
      fc.asyncProperty(text, text, text, async (name, label, category) => {
        const response = await ctx.app.inject({
          method: 'POST',
          url: '/api/shows',
          headers: admin,
          payload: {
            title: 'Map',
            start_time: '2031-01-01T20:00:00Z',
            seat_map: { sections: [{ name, rows: [{ label, seats: 2, category }] }] },
          },
        });
        expectWellFormed(response);
        if (response.statusCode !== 201) {
          expect(response.statusCode).toBe(400);
          return;
        }
        const { id } = response.json<{ id: string }>();
        const seats = await ctx.app.inject({ method: 'GET', url: `/api/shows/${id}/seats` });
        expect(seats.json()).toMatchObject({
          sections: [{ name, rows: [{ label, category, seats: 2, status: 'FF' }] }],
        });
        const held = await ctx.app.inject({
          method: 'POST',
          url: `/api/shows/${id}/book`,
          payload: { seat_ids: [`${name}-${label}-2`] },
        });
        expect(held.statusCode).toBe(201);
      }),
      { numRuns: Math.ceil(RUNS / 3) },
    );
  });

  it('stores text verbatim, SQL-looking and unicode included, or refuses it with a 400', async () => {
    await fc.assert(
      fc.asyncProperty(text, text, async (title, description) => {
        const response = await ctx.app.inject({
          method: 'POST',
          url: '/api/shows',
          headers: admin,
          payload: { title, description, start_time: '2031-01-01T20:00:00Z', total_seats: 1 },
        });
        expectWellFormed(response);
        if (response.statusCode !== 201) {
          expect(response.statusCode).toBe(400);
          return;
        }
        const read = await ctx.app.inject({ method: 'GET', url: `/api/shows/${response.json().id}` });
        expect(read.json()).toMatchObject({ title, description });
      }),
      { numRuns: RUNS },
    );
  });
});
