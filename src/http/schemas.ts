import { Type } from 'typebox';
import { Uuid } from '../domain/common.js';
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
        Type.Integer({ minimum: 1, maximum: maxSeatsPerBooking, default: 1, description: 'Seats to hold' }),
      ),
    },
    { additionalProperties: false, description: 'Optional; no body holds one seat' },
  );
}

export const Health = Type.Object({
  status: Type.String(),
  checks: Type.Optional(Type.Record(Type.String(), Type.String())),
});

/** Response schemas for the listed error statuses, all problem+json. */
export function problems<S extends number>(...statuses: S[]): { [K in S]: typeof Problem } {
  return Object.fromEntries(statuses.map((status) => [status, Problem])) as { [K in S]: typeof Problem };
}

/** Route config of the routes limited per client (RATE_LIMIT_MAX per RATE_LIMIT_WINDOW_SECONDS, each route its own budget). */
export const rateLimited = { rateLimit: {} };
