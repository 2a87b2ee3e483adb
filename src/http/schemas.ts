import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';
import { Type, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';
import { Uuid } from '../domain/common.js';
import { CustomerRef } from '../domain/booking.js';
import { Problem } from '../errors.js';

// Shapes of requests. What the API answers (shows, bookings, problems) is defined once in
// src/domain/ and src/errors.ts, and gives the services their types too.

export const IdParams = Type.Object({ id: Uuid });

// Checked by the idempotency preHandler (400 invalid_idempotency_key); declared for the docs.
export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      description:
        'Makes a retry safe: the same key with the same request within 24 hours replays the first answer (hold_token included) instead of acting again. 1–255 printable ASCII characters; use a fresh UUID per request.',
    }),
  ),
});

export const ListShowsQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'From the Link header' })),
});

export function bookBody(maxSeatsPerBooking: number) {
  return Type.Object(
    {
      seats: Type.Optional(
        Type.Integer({
          minimum: 1,
          maximum: maxSeatsPerBooking,
          description: 'Seats to hold (1 when left out); on a seated show, the best available',
        }),
      ),
      seat_ids: Type.Optional(
        Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
          minItems: 1,
          maxItems: maxSeatsPerBooking,
          uniqueItems: true,
          description: 'Seated shows: exactly these seats (all or nothing); alone, or with tickets',
        }),
      ),
      category: Type.Optional(
        Type.String({ minLength: 1, maxLength: 40, description: 'Seated shows, best available: only this category' }),
      ),
      section: Type.Optional(
        Type.String({ minLength: 1, maxLength: 40, description: 'Seated shows, best available: only this section' }),
      ),
      customer_ref: Type.Optional(CustomerRef),
      tickets: Type.Optional(
        Type.Array(
          Type.Object(
            {
              type: Type.String({ minLength: 1, maxLength: 40, description: 'A ticket type code of the show' }),
              quantity: Type.Integer({ minimum: 1, maximum: maxSeatsPerBooking }),
            },
            { additionalProperties: false },
          ),
          {
            minItems: 1,
            maxItems: 50,
            description:
              'The tickets by type, instead of seats: [{"type":"adult","quantity":2},{"type":"child","quantity":1}]. With seat_ids, the seats go to the tickets in the order given, and the quantities add up to the seats; on best available, the seats are found where every type is sold.',
          },
        ),
      ),
      allow_split: Type.Optional(
        Type.Boolean({
          description:
            'Seated shows, best available: when no row has the seats together, take the best free seats apart',
        }),
      ),
    },
    {
      additionalProperties: false,
      description:
        "Optional; no body holds one seat of the show's first ticket type. tickets holds tickets by type (seats holds that many of the first type). On a seated show: seat_ids (chosen seats), or seats (or tickets) with optional category, section and allow_split (best available).",
    },
  );
}

export const Health = Type.Object({
  status: Type.String(),
  checks: Type.Optional(Type.Record(Type.String(), Type.String())),
});

/**
 * The reads answered from memory (src/http/shared-answer.ts): a strong ETag on every 200, and 304
 * with no body when If-None-Match names it.
 */
export const notModified = {
  304: Type.Null({ description: 'Not modified: If-None-Match names the ETag the answer would have' }),
};

/** Error responses of the listed statuses, each documented (and serialized) as application/problem+json. */
export function problems<S extends number>(
  ...statuses: S[]
): { [K in S]: { content: { 'application/problem+json': { schema: typeof Problem } } } } {
  const problem = { content: { 'application/problem+json': { schema: Problem } } };
  return Object.fromEntries(statuses.map((status) => [status, problem])) as {
    [K in S]: typeof problem;
  };
}

/**
 * Marks a route whose body may be left out entirely: @fastify/swagger documents every body as
 * required, and `optionalBodies` (the document's last transform) corrects the routes marked.
 */
export const OPTIONAL_BODY = 'x-optional-body';

export function optionalBodies<T extends { paths?: object | undefined }>(document: T): T {
  for (const operations of Object.values(document.paths ?? {}) as Record<string, unknown>[]) {
    for (const operation of Object.values(operations ?? {}) as Record<string, unknown>[]) {
      if (typeof operation !== 'object' || operation === null) continue;
      if (!operation[OPTIONAL_BODY]) continue;
      delete operation[OPTIONAL_BODY];
      const body = operation.requestBody as { required?: boolean } | undefined;
      if (body) body.required = false;
    }
  }
  return document;
}

/** Route config of the routes limited per client (RATE_LIMIT_MAX per RATE_LIMIT_WINDOW_SECONDS, each route its own budget). */
export const rateLimited = { rateLimit: {} };

/**
 * @fastify/type-provider-typebox's validator, converting only what needs it: a querystring, params
 * or headers value is checked as it came first, and converted (a string to a number, …) and
 * checked again only when that fails. The plugin's converts every value on every request: on a
 * read of a show (a uuid param, already right) that walk cost more than the check.
 */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const typeCheck = Compile(schema);
  return (value) => {
    if (typeCheck.Check(value)) return { value };
    const converted: unknown = httpPart === 'body' ? value : Value.Convert(schema, value);
    if (typeCheck.Check(converted)) return { value: converted };
    return { error: typeCheck.Errors(converted) as FastifySchemaValidationError[] };
  };
};
