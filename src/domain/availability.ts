import { Type, type Static } from 'typebox';
import { Uuid } from './common.js';

/** The data of an `availability` event of GET /api/shows/:id/availability/stream. */
export const AvailabilityUpdate = Type.Object(
  {
    show_id: Uuid,
    available_seats: Type.Integer({ description: 'As GET /api/shows/{id} counts them at the time of the update' }),
    available_by_category: Type.Optional(
      Type.Record(Type.String(), Type.Integer(), { description: 'Assigned seating only' }),
    ),
    sold_out: Type.Boolean({ description: 'available_seats is 0' }),
    changed_at: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'Database time of the newest change the update covers (absent from the snapshot at connect)',
      }),
    ),
    reset: Type.Optional(
      Type.Literal(true, {
        description:
          'A full snapshot that does not follow from the events before it: the Last-Event-ID could not be resumed from, or the seat map was changed. Read GET /api/shows/{id}/seats again.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type AvailabilityUpdate = Static<typeof AvailabilityUpdate>;

/** The data of a `seats` event: the seats whose state changed, by id, and their state now. */
export const SeatsUpdate = Type.Object(
  {
    show_id: Uuid,
    seats: Type.Record(Type.String(), Type.Enum(['F', 'H', 'S', 'B']), {
      description: 'Seat id → its state now: F free, H held, S sold, B blocked (a lapsed hold reads F)',
    }),
  },
  { additionalProperties: false },
);
export type SeatsUpdate = Static<typeof SeatsUpdate>;
