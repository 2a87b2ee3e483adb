import { Type, type Static } from 'typebox';
import { DateTime, Uuid } from './common.js';
import { MAX_SHOW_SEATS, SeatMapInput } from './seat-map.js';

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
    total_seats: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_SHOW_SEATS,
        description: 'General admission: this many seats. Send either total_seats or seat_map.',
      }),
    ),
    seat_map: Type.Optional(SeatMapInput),
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
  seating: Type.Enum(['general_admission', 'assigned'], {
    description: 'assigned: the show has a seat map (GET /api/shows/{id}/seats)',
  }),
  total_seats: Type.Integer(),
  available_seats: Type.Integer({ description: 'Seats neither confirmed nor held by an unexpired hold' }),
  available_by_category: Type.Optional(
    Type.Record(Type.String(), Type.Integer(), { description: 'Assigned seating only: available seats per category' }),
  ),
  created_at: DateTime(),
});
export type Show = Static<typeof Show>;

export const SeatMapRowState = Type.Object({
  label: Type.String(),
  category: Type.String(),
  seats: Type.Integer(),
  status: Type.String({
    description:
      'One character per seat, seat 1 first: F free, H held, S sold, B blocked. A hold past its expires_at reads as free.',
  }),
});

/** A seated show's map with the state of every seat, from one snapshot. */
export const SeatMapState = Type.Object({
  show_id: Uuid,
  version: Type.String({ description: 'Moves with every change to the seats of the show' }),
  sections: Type.Array(Type.Object({ name: Type.String(), rows: Type.Array(SeatMapRowState) })),
});
export type SeatMapState = Static<typeof SeatMapState>;
