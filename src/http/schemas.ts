import { Type } from 'typebox';
import { bookingStatuses } from '../repositories/booking.repository.js';

export const Uuid = Type.String({ format: 'uuid', description: 'UUID' });
// Handlers return Date objects from pg; the serializer writes them as ISO 8601 strings.
const DateTime = (description?: string) =>
  Type.Unsafe<Date | string>({ type: 'string', format: 'date-time', ...(description ? { description } : {}) });
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

// ISO 8601 with a UTC offset ("Z" or "+02:00"): a show time without one is ambiguous.
const isoWithOffset = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,6})?)?(Z|[+-]\\d{2}:\\d{2})$';

// Text PostgreSQL can store exactly as sent: no NUL character, no lone UTF-16 surrogate.
const storable = '[^\\u0000\\uD800-\\uDFFF]';

export const CreateShowBody = Type.Object(
  {
    title: Type.String({
      minLength: 1,
      maxLength: 200,
      pattern: `^${storable}*[^\\s\\u0000\\uD800-\\uDFFF]${storable}*$`,
      description: 'Not blank; no NUL characters',
    }),
    description: Type.Optional(
      Type.String({ maxLength: 2000, pattern: `^${storable}*$`, description: 'No NUL characters' }),
    ),
    start_time: Type.String({
      format: 'date-time',
      pattern: isoWithOffset,
      description: 'ISO 8601 date-time with an offset, in the future',
      examples: ['2031-05-01T20:00:00Z'],
    }),
    total_seats: Type.Integer({ minimum: 1, maximum: 100000 }),
  },
  { additionalProperties: false },
);

export const Show = Type.Object({
  id: Uuid,
  title: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  start_time: DateTime(),
  total_seats: Type.Integer(),
  available_seats: Type.Integer({ description: 'Seats neither confirmed nor held by an unexpired hold' }),
  created_at: DateTime(),
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

export const Booking = Type.Object({
  id: Uuid,
  show_id: Uuid,
  seats: Type.Integer(),
  status: Type.Enum(bookingStatuses),
  expires_at: DateTime('When an unconfirmed hold expires'),
  created_at: DateTime(),
  updated_at: DateTime(),
});

export const HeldBooking = Type.Object({
  ...Booking.properties,
  hold_token: Type.String({
    description: 'Secret that confirms or cancels this booking (X-Hold-Token). Shown only here, once.',
  }),
});

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String({ description: 'Stable machine-readable error code' }),
    instance: Type.Optional(Type.String()),
    request_id: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { additionalProperties: true, description: 'RFC 9457 problem details (application/problem+json)' },
);

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
