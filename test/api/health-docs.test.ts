import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { AvailabilityUpdate, SeatsUpdate } from '../../src/domain/availability.js';
import { Booking as BookingSchema, HeldBooking, NewComp } from '../../src/domain/booking.js';
import {
  NewBlock,
  NewShow as CreateShowBody,
  SeatBlock,
  SeatMapState,
  Show as ShowSchema,
  ShowChanges,
  ShowSummary,
} from '../../src/domain/show.js';
import { Problem, problemCatalog, type ProblemCode } from '../../src/errors.js';
import { WebhookEvent } from '../../src/domain/events.js';
import { bookBody, Health } from '../../src/http/schemas.js';
import {
  CreatedWebhook,
  NewWebhook,
  WebhookChanges,
  WebhookDelivery,
  WebhookEndpoint,
} from '../../src/domain/webhook.js';

// What a ping or a resend answers (src/http/routes/webhooks.ts).
const WebhookAccepted = Type.Object({ delivery_id: Type.String({ format: 'uuid' }) });
import { buildTestApp, expectProblem, inspectionPool, startTestApp, testConfig, type TestContext } from '../helpers.js';
import { admin, createShow, futureIso, hold } from '../support/api.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await startTestApp();
});
afterAll(() => ctx.close());

describe('health', () => {
  it('/health answers while the process is up', async () => {
    const response = await ctx.app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('/health/ready answers 200 while PostgreSQL answers', async () => {
    const response = await ctx.app.inject({ method: 'GET', url: '/health/ready' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ready', checks: { database: 'ok' } });
  });

  it('/health/ready answers 503 when PostgreSQL or Redis does not', async () => {
    // Port 1 on 127.0.0.1: nothing listens there, so connecting is refused at once.
    const pool = inspectionPool('postgres://postgres@127.0.0.1:1/none', 2);
    const { app } = await buildTestApp(testConfig(), pool, { pingRedis: () => Promise.reject(new Error('down')) });
    try {
      const response = await app.inject({ method: 'GET', url: '/health/ready' });
      const problem = expectProblem(response, 503, 'service_unavailable');
      expect(problem.checks).toEqual({ database: 'unavailable', redis: 'unavailable' });
      // A request that needs the database gets 503 problem+json too, not a 500.
      expectProblem(await app.inject({ method: 'GET', url: '/api/shows' }), 503, 'service_unavailable');
      const held = await app.inject({ method: 'POST', url: '/api/shows/00000000-0000-4000-8000-000000000000/book' });
      expectProblem(held, 503, 'service_unavailable');
    } finally {
      await app.close();
      await pool.end();
    }
  });
});

// What each route can answer, read from src/http (routes, hooks, services): its success
// status and every problem code it can raise. A 500 is a bug's answer, not part of the
// contract; 404 not_found and 405 are answers of no route.
const NO_ERRORS: ProblemCode[] = [];
// Every POST route parses a JSON body, takes an Idempotency-Key and is rate limited.
const everyPost: ProblemCode[] = [
  'invalid_json', // the JSON body parser
  'unsupported_media_type', // only application/json bodies are parsed
  'payload_too_large', // BODY_LIMIT_BYTES
  'invalid_idempotency_key',
  'idempotency_in_progress',
  'idempotency_key_reused',
  'rate_limited', // config.rateLimit
];
/** A read served from memory also answers 304 Not Modified (src/http/shared-answer.ts). */
const SHARED = 304;

const routes: Record<string, { success: number; errors: ProblemCode[]; also?: number[] }> = {
  'GET /health': { success: 200, errors: NO_ERRORS },
  'GET /health/ready': { success: 200, errors: ['service_unavailable'] },
  'GET /metrics': { success: 200, errors: ['unauthorized'] },
  'GET /api/shows': {
    success: 200,
    also: [SHARED],
    errors: ['validation_failed', 'invalid_cursor', 'service_unavailable'],
  },
  'POST /api/shows': {
    success: 201,
    errors: [...everyPost, 'validation_failed', 'unauthorized', 'start_time_in_past', 'service_unavailable'],
  },
  'GET /api/shows/{id}': {
    success: 200,
    also: [SHARED],
    errors: ['validation_failed', 'bad_request', 'show_not_found', 'service_unavailable'],
  },
  'POST /api/shows/{id}/book': {
    success: 201,
    errors: [
      ...everyPost,
      'validation_failed',
      'bad_request',
      'show_not_found',
      'show_started',
      'sold_out',
      'seats_taken',
      'show_not_seated',
      'sales_not_open',
      'sales_closed',
      'customer_limit_reached',
      'service_unavailable',
    ],
  },
  'PATCH /api/shows/{id}': {
    success: 200,
    errors: [
      'validation_failed',
      'bad_request',
      'invalid_json',
      'unsupported_media_type',
      'payload_too_large',
      'unauthorized',
      'show_not_found',
      'show_seated',
      'show_not_seated',
      'seats_in_use',
      'start_time_in_past',
      'rate_limited',
      'service_unavailable',
    ],
  },
  'GET /api/shows/{id}/bookings': {
    success: 200,
    errors: [
      'validation_failed',
      'bad_request',
      'invalid_cursor',
      'unauthorized',
      'show_not_found',
      'rate_limited',
      'service_unavailable',
    ],
  },
  'GET /api/shows/{id}/summary': {
    success: 200,
    errors: [
      'validation_failed',
      'bad_request',
      'unauthorized',
      'show_not_found',
      'rate_limited',
      'service_unavailable',
    ],
  },
  'POST /api/shows/{id}/blocks': {
    success: 201,
    errors: [
      ...everyPost,
      'validation_failed',
      'bad_request',
      'unauthorized',
      'show_not_found',
      'seats_taken',
      'sold_out',
      'service_unavailable',
    ],
  },
  'GET /api/shows/{id}/blocks': {
    success: 200,
    errors: [
      'validation_failed',
      'bad_request',
      'unauthorized',
      'show_not_found',
      'rate_limited',
      'service_unavailable',
    ],
  },
  'DELETE /api/shows/{id}/blocks/{blockId}': {
    success: 204,
    errors: [
      'validation_failed',
      'bad_request',
      'unauthorized',
      'show_not_found',
      'block_not_found',
      'rate_limited',
      'service_unavailable',
    ],
  },
  'POST /api/shows/{id}/comps': {
    success: 201,
    errors: [
      ...everyPost,
      'validation_failed',
      'bad_request',
      'unauthorized',
      'show_not_found',
      'block_not_found',
      'seats_taken',
      'sold_out',
      'service_unavailable',
    ],
  },
  'GET /api/shows/{id}/seats': {
    success: 200,
    also: [SHARED],
    errors: ['validation_failed', 'bad_request', 'show_not_found', 'show_not_seated', 'service_unavailable'],
  },
  'GET /api/shows/{id}/availability/stream': {
    success: 200,
    errors: [
      'validation_failed',
      'bad_request',
      'show_not_found',
      'rate_limited',
      'service_unavailable',
      'too_many_streams',
    ],
  },
  'GET /api/bookings/{id}': {
    success: 200,
    errors: [
      'validation_failed',
      'bad_request',
      'unauthorized',
      'forbidden',
      'booking_not_found',
      'rate_limited',
      'service_unavailable',
    ],
  },
  'POST /api/bookings/{id}/confirm': {
    success: 200,
    errors: [
      ...everyPost,
      'validation_failed',
      'bad_request',
      'unauthorized',
      'forbidden',
      'booking_not_found',
      'hold_expired',
      'booking_cancelled',
      'service_unavailable',
    ],
  },
  'POST /api/bookings/{id}/extend': {
    success: 200,
    errors: [
      ...everyPost,
      'validation_failed',
      'bad_request',
      'unauthorized',
      'forbidden',
      'booking_not_found',
      'hold_expired',
      'booking_confirmed',
      'booking_cancelled',
      'extension_limit',
      'service_unavailable',
    ],
  },
  'POST /api/bookings/{id}/cancel': {
    success: 200,
    errors: [
      ...everyPost,
      'validation_failed',
      'bad_request',
      'unauthorized',
      'forbidden',
      'booking_not_found',
      'hold_expired',
      'service_unavailable',
    ],
  },
  'POST /api/webhooks': {
    success: 201,
    errors: [...everyPost, 'validation_failed', 'unauthorized', 'webhook_url_refused', 'service_unavailable'],
  },
  'GET /api/webhooks': { success: 200, errors: ['unauthorized', 'rate_limited', 'service_unavailable'] },
  'GET /api/webhooks/{id}': {
    success: 200,
    errors: [
      'validation_failed',
      'bad_request',
      'unauthorized',
      'webhook_not_found',
      'rate_limited',
      'service_unavailable',
    ],
  },
  'PATCH /api/webhooks/{id}': {
    success: 200,
    errors: [
      'validation_failed',
      'bad_request',
      'invalid_json',
      'unsupported_media_type',
      'payload_too_large',
      'unauthorized',
      'webhook_not_found',
      'webhook_url_refused',
      'rate_limited',
      'service_unavailable',
    ],
  },
  'DELETE /api/webhooks/{id}': {
    success: 204,
    errors: [
      'validation_failed',
      'bad_request',
      'unauthorized',
      'webhook_not_found',
      'rate_limited',
      'service_unavailable',
    ],
  },
  // Neither reads a body nor takes an Idempotency-Key (a second ping or resend is just one more).
  'POST /api/webhooks/{id}/test': {
    success: 202,
    errors: [
      'validation_failed',
      'bad_request',
      'invalid_json',
      'unsupported_media_type',
      'payload_too_large',
      'unauthorized',
      'webhook_not_found',
      'rate_limited',
      'service_unavailable',
    ],
  },
  'GET /api/webhooks/{id}/deliveries': {
    success: 200,
    errors: [
      'validation_failed',
      'bad_request',
      'invalid_cursor',
      'unauthorized',
      'webhook_not_found',
      'rate_limited',
      'service_unavailable',
    ],
  },
  'POST /api/webhooks/{id}/deliveries/{delivery}/retry': {
    success: 202,
    errors: [
      'validation_failed',
      'bad_request',
      'invalid_json',
      'unsupported_media_type',
      'payload_too_large',
      'unauthorized',
      'webhook_not_found',
      'delivery_not_found',
      'rate_limited',
      'service_unavailable',
    ],
  },
};

/** "METHOD /path" of every route the app serves (HEAD and the docs' own routes aside), from its route tree. */
function servedRoutes(app: FastifyInstance): string[] {
  const served: string[] = [];
  const parents: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^((?:│ {3}| {4})*)(?:├── |└── )(\S+) \(([^)]*)\)$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    const path = (parents[depth - 1] ?? '') + match[2]!;
    parents[depth] = path;
    for (const method of match[3]!.split(', ')) {
      // Swagger UI and Bull Board are pages for people, not API routes.
      if (method !== 'HEAD' && !path.startsWith('/api-docs') && !path.startsWith('/admin/queues'))
        served.push(`${method} ${path.replace(/:(\w+)/g, '{$1}')}`);
    }
  }
  return served.sort();
}

/** The schema as JSON Schema (what the document should hold for it). */
const json = (schema: unknown) => JSON.parse(JSON.stringify(schema));

/**
 * What a client of an answer relies on: its type, required and documented properties (of
 * the items, for an array). Not the exact JSON Schema, which the docs plugin may rewrite
 * into an equivalent form (patternProperties into additionalProperties, for one).
 */
function shape(schema: any): unknown {
  if (schema.type === 'array') return { type: 'array', items: shape(schema.items) };
  return {
    type: schema.type,
    required: [...(schema.required ?? [])].sort(),
    properties: Object.keys(schema.properties ?? {}).sort(),
  };
}

describe('OpenAPI document', () => {
  let spec: any;
  const operation = (route: string) => {
    const [method, path] = route.split(' ') as [string, string];
    return spec.paths[path]?.[method.toLowerCase()];
  };
  beforeAll(async () => {
    const response = await ctx.app.inject({ method: 'GET', url: '/api-docs/json' });
    expect(response.statusCode).toBe(200);
    spec = response.json();
    expect(spec.openapi).toMatch(/^3\./);
  });

  it('covers every route the app serves, and no other', () => {
    expect(servedRoutes(ctx.app)).toEqual(Object.keys(routes).sort());
    const documented = Object.entries(spec.paths as Record<string, object>).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(Object.keys(routes).sort());
  });

  it('covers every status each route can answer, and no other', async () => {
    // The entries least obvious from a route's own code, answered live: every POST route
    // parses its body (whether it reads it or not) before anything else runs but the admin key
    // check of admin routes. POST /api/shows takes bodies up to 8 MiB (seat maps).
    const unknownId = '00000000-0000-4000-8000-000000000000';
    const tooBigFor = (route: string) =>
      JSON.stringify({
        padding: 'x'.repeat(route === 'POST /api/shows' ? 8 * 1024 * 1024 : ctx.config.BODY_LIMIT_BYTES),
      });
    for (const route of Object.keys(routes).filter((route) => route.startsWith('POST '))) {
      expect(routes[route]!.errors, route).toEqual(
        expect.arrayContaining(['invalid_json', 'unsupported_media_type', 'payload_too_large']),
      );
      const url = route.slice('POST '.length).replace(/\{\w+\}/g, unknownId);
      const send = (type: string, payload: string) =>
        ctx.app.inject({ method: 'POST', url, headers: { ...admin, 'content-type': type }, payload });
      expectProblem(await send('text/plain', 'x'), 415, 'unsupported_media_type');
      expectProblem(await send('application/json', tooBigFor(route)), 413, 'payload_too_large');
      expectProblem(await send('application/json', '{'), 400, 'invalid_json');
    }

    const documented = Object.fromEntries(
      Object.keys(routes).map((route) => [route, Object.keys(operation(route).responses).map(Number)]),
    );
    const answerable = Object.fromEntries(
      Object.entries(routes).map(([route, { success, also = [], errors }]) => [
        route,
        [...new Set([success, ...also, ...errors.map((code) => problemCatalog[code].status)])].sort(),
      ]),
    );
    expect(documented).toEqual(answerable);
  });

  it('covers every error as application/problem+json with the problem schema', () => {
    for (const route of Object.keys(routes)) {
      for (const [status, response] of Object.entries<any>(operation(route).responses)) {
        if (Number(status) < 400) continue;
        expect(response.content, `${route} ${status}`).toEqual({
          'application/problem+json': { schema: json(Problem) },
        });
      }
    }
  });

  it('covers request bodies as the routes read them: JSON, required only where a body is', () => {
    const bodies = Object.fromEntries(Object.keys(routes).map((route) => [route, operation(route).requestBody]));
    expect(bodies).toEqual({
      ...Object.fromEntries(Object.keys(routes).map((route) => [route, undefined])),
      'POST /api/shows': { required: true, content: { 'application/json': { schema: json(CreateShowBody) } } },
      // No body at all holds one seat.
      'POST /api/shows/{id}/book': {
        required: false,
        description: expect.any(String),
        content: { 'application/json': { schema: json(bookBody(ctx.config.MAX_SEATS_PER_BOOKING)) } },
      },
      'PATCH /api/shows/{id}': { required: true, content: { 'application/json': { schema: json(ShowChanges) } } },
      'POST /api/shows/{id}/blocks': { required: true, content: { 'application/json': { schema: json(NewBlock) } } },
      'POST /api/shows/{id}/comps': { required: true, content: { 'application/json': { schema: json(NewComp) } } },
      'POST /api/webhooks': { required: true, content: { 'application/json': { schema: json(NewWebhook) } } },
      'PATCH /api/webhooks/{id}': { required: true, content: { 'application/json': { schema: json(WebhookChanges) } } },
    });
  });

  it('covers success responses with the bodies the API answers', async () => {
    const schemas: Record<string, unknown> = {
      'GET /health': Health,
      'GET /health/ready': Health,
      'GET /metrics': Type.String(),
      'GET /api/shows': Type.Array(ShowSchema),
      'POST /api/shows': ShowSchema,
      'GET /api/shows/{id}': ShowSchema,
      'POST /api/shows/{id}/book': HeldBooking,
      'GET /api/shows/{id}/seats': SeatMapState,
      'GET /api/shows/{id}/availability/stream': Type.Union([AvailabilityUpdate, SeatsUpdate]),
      'PATCH /api/shows/{id}': ShowSchema,
      'GET /api/shows/{id}/bookings': Type.Array(BookingSchema),
      'GET /api/shows/{id}/summary': ShowSummary,
      'POST /api/shows/{id}/blocks': SeatBlock,
      'GET /api/shows/{id}/blocks': Type.Array(SeatBlock),
      'POST /api/shows/{id}/comps': BookingSchema,
      'GET /api/bookings/{id}': BookingSchema,
      'POST /api/bookings/{id}/confirm': BookingSchema,
      'POST /api/bookings/{id}/extend': BookingSchema,
      'POST /api/bookings/{id}/cancel': BookingSchema,
      'POST /api/webhooks': CreatedWebhook,
      'GET /api/webhooks': Type.Array(WebhookEndpoint),
      'GET /api/webhooks/{id}': WebhookEndpoint,
      'PATCH /api/webhooks/{id}': WebhookEndpoint,
      'GET /api/webhooks/{id}/deliveries': Type.Array(WebhookDelivery),
      'POST /api/webhooks/{id}/test': WebhookAccepted,
      'POST /api/webhooks/{id}/deliveries/{delivery}/retry': WebhookAccepted,
    };
    for (const [route, { success }] of Object.entries(routes)) {
      const { content } = operation(route).responses[success];
      // A 204 has no body.
      if (success === 204) {
        expect(content, route).toBeUndefined();
        continue;
      }
      // Prometheus scrapes its own text format; the stream is Server-Sent Events, each event's
      // data one of the schemas; everything else answers JSON.
      const type =
        route === 'GET /metrics'
          ? 'text/plain'
          : route.endsWith('/availability/stream')
            ? 'text/event-stream'
            : 'application/json';
      expect(Object.keys(content), route).toEqual([type]);
      const each = (schema: any) => (schema.anyOf ? schema.anyOf.map(shape) : shape(schema));
      expect(each(content[type].schema), route).toEqual(each(json(schemas[route])));
    }
    // …and the answers hold exactly the documented properties, every required one included.
    const show = await createShow(ctx.app);
    const held = await hold(ctx.app, show.id);
    const answers: [string, unknown][] = [
      ['GET /api/shows/{id}', (await ctx.app.inject({ method: 'GET', url: `/api/shows/${show.id}` })).json()],
      ['POST /api/shows/{id}/book', held],
      [
        'GET /api/bookings/{id}',
        (await ctx.app.inject({ method: 'GET', url: `/api/bookings/${held.id}`, headers: admin })).json(),
      ],
      ['GET /health/ready', (await ctx.app.inject({ method: 'GET', url: '/health/ready' })).json()],
    ];
    // A seated show's answers carry the properties general admission leaves out.
    const seated = await ctx.app.inject({
      method: 'POST',
      url: '/api/shows',
      headers: admin,
      payload: {
        title: 'Seated',
        start_time: futureIso(),
        seat_map: { sections: [{ name: 'S', rows: [{ label: 'A', seats: 3 }] }] },
      },
    });
    const seatedId = seated.json<{ id: string }>().id;
    const seatHeld = (await ctx.app.inject({ method: 'POST', url: `/api/shows/${seatedId}/book`, payload: {} })).json();
    answers.push(
      ['POST /api/shows', seated.json()],
      ['POST /api/shows/{id}/book', seatHeld],
      [
        'GET /api/shows/{id}/seats',
        (await ctx.app.inject({ method: 'GET', url: `/api/shows/${seatedId}/seats` })).json(),
      ],
    );
    for (const [route, body] of answers) {
      const schema = operation(route).responses[routes[route]!.success].content['application/json'].schema;
      const keys = Object.keys(body as object);
      expect(
        keys.filter((key) => !(key in schema.properties)),
        `${route}: undocumented`,
      ).toEqual([]);
      expect(
        (schema.required as string[]).filter((key) => !keys.includes(key)),
        `${route}: required but absent`,
      ).toEqual([]);
    }
  });

  it('covers the security schemes and the routes that need them', () => {
    expect(spec.components.securitySchemes).toEqual({
      adminKey: { type: 'http', scheme: 'bearer', description: expect.any(String) },
      holdToken: { type: 'apiKey', in: 'header', name: 'X-Hold-Token', description: expect.any(String) },
    });
    const tokenOrAdmin = [{ holdToken: [] }, { adminKey: [] }];
    const security = Object.fromEntries(Object.keys(routes).map((route) => [route, operation(route).security]));
    expect(security).toEqual({
      ...Object.fromEntries(Object.keys(routes).map((route) => [route, undefined])),
      'POST /api/shows': [{ adminKey: [] }],
      'PATCH /api/shows/{id}': [{ adminKey: [] }],
      'GET /api/shows/{id}/bookings': [{ adminKey: [] }],
      'GET /api/shows/{id}/summary': [{ adminKey: [] }],
      'POST /api/shows/{id}/blocks': [{ adminKey: [] }],
      'GET /api/shows/{id}/blocks': [{ adminKey: [] }],
      'DELETE /api/shows/{id}/blocks/{blockId}': [{ adminKey: [] }],
      'POST /api/shows/{id}/comps': [{ adminKey: [] }],
      'GET /metrics': [{ adminKey: [] }],
      'POST /api/webhooks': [{ adminKey: [] }],
      'GET /api/webhooks': [{ adminKey: [] }],
      'GET /api/webhooks/{id}': [{ adminKey: [] }],
      'PATCH /api/webhooks/{id}': [{ adminKey: [] }],
      'DELETE /api/webhooks/{id}': [{ adminKey: [] }],
      'POST /api/webhooks/{id}/test': [{ adminKey: [] }],
      'GET /api/webhooks/{id}/deliveries': [{ adminKey: [] }],
      'POST /api/webhooks/{id}/deliveries/{delivery}/retry': [{ adminKey: [] }],
      'GET /api/bookings/{id}': tokenOrAdmin,
      'POST /api/bookings/{id}/confirm': tokenOrAdmin,
      'POST /api/bookings/{id}/extend': tokenOrAdmin,
      'POST /api/bookings/{id}/cancel': tokenOrAdmin,
    });
  });

  it('documents what webhooks receive: the event body and the Standard Webhooks headers', () => {
    const event = spec.webhooks.event.post;
    expect(event.requestBody).toEqual({
      required: true,
      content: { 'application/json': { schema: json(WebhookEvent) } },
    });
    expect(
      event.parameters.map((parameter: { name: string; in: string }) => `${parameter.in}:${parameter.name}`),
    ).toEqual(['header:webhook-id', 'header:webhook-timestamp', 'header:webhook-signature']);
  });

  it('serves Swagger UI at /api-docs', async () => {
    const response = await ctx.app.inject({ method: 'GET', url: '/api-docs/' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toMatch(/swagger/i);
  });
});
