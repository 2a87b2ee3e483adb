import { Type, type Static } from 'typebox';
import { DateTime, Uuid } from './common.js';

// ISO 8601 with a UTC offset ("Z" or "+02:00"): a show time without one is ambiguous.
const isoWithOffset = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,6})?)?(Z|[+-]\\d{2}:\\d{2})$';

// Text PostgreSQL can store exactly as sent: no NUL character, no lone UTF-16 surrogate.
const storable = '[^\\u0000\\uD800-\\uDFFF]';

/** What an admin sends to create a show. */
export const NewShow = Type.Object(
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
export type NewShow = Static<typeof NewShow>;

/** A show as the API shows it. */
export const Show = Type.Object({
  id: Uuid,
  title: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  start_time: DateTime(),
  total_seats: Type.Integer(),
  available_seats: Type.Integer({ description: 'Seats neither confirmed nor held by an unexpired hold' }),
  created_at: DateTime(),
});
export type Show = Static<typeof Show>;
