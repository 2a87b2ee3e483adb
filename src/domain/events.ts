import { Type, type Static } from 'typebox';
import { asBooking, Booking, type BookingLine, type BookingStatus } from './booking.js';
import { bookingEventTypes } from './booking-lifecycle.js';
import { DateTime, Uuid } from './common.js';
import { SeatBlock, Show } from './show.js';
import { listedTicketType, type StoredTicketType } from './ticket-types.js';

/**
 * Every event the outbox records (the triggers of db/functions write them). A booking's events are
 * its lifecycle's (src/domain/booking-lifecycle.ts); the others are the shows' and the blocks'.
 */
export { bookingEventTypes };
export const showEventTypes = ['show.created', 'show.updated', 'show.sold_out', 'show.back_on_sale'] as const;
export const blockEventTypes = ['show.seats_blocked', 'show.seats_released'] as const;
export const eventTypes = [...showEventTypes, ...blockEventTypes, ...bookingEventTypes] as const;
export type EventType = (typeof eventTypes)[number];
/** What POST /api/webhooks/:id/test sends: to that endpoint only, never recorded for others. */
export const PING = 'ping';

const envelope = <T extends readonly string[], D extends Parameters<typeof Type.Object>[0]>(
  types: T,
  data: D,
  description: string,
) =>
  Type.Object(
    {
      id: { ...Uuid, description: 'The event id, also sent as webhook-id: the same on every retry' },
      type: Type.Enum(types),
      timestamp: DateTime('When the change happened, by the database clock'),
      data: Type.Object(data),
    },
    { description },
  );

export const BookingEvent = envelope(
  bookingEventTypes,
  { booking: Booking },
  'A booking changed: held (PENDING, or a comp CONFIRMED at once: booking.confirmed), confirmed, cancelled, expired, or its hold extended. The booking is as GET /api/bookings/{id} showed it right after the change.',
);
export const ShowEvent = envelope(
  showEventTypes,
  { show: Show },
  'A show was created or changed by the admin, or its available seats reached 0 (sold_out) or left 0 (back_on_sale). available_seats counts holds until they are reclaimed.',
);
export const BlockEvent = envelope(
  blockEventTypes,
  { block: SeatBlock },
  'House seats were blocked, or a block was released (its seats back on sale).',
);
export const PingEvent = Type.Object(
  {
    id: Uuid,
    type: Type.Literal(PING),
    timestamp: DateTime(),
    data: Type.Object({ webhook_id: Uuid }),
  },
  { description: 'Sent by POST /api/webhooks/{id}/test to that endpoint only' },
);

/** The body of every webhook delivery (Standard Webhooks: type, timestamp, data). */
export const WebhookEvent = Type.Union([BookingEvent, ShowEvent, BlockEvent, PingEvent]);
export type WebhookEvent = Static<typeof WebhookEvent>;

/** An outbox row as stored. */
export interface OutboxRow {
  seq: string;
  id: string;
  type: string;
  show_id: string | null;
  occurred_at: Date;
  data: Record<string, unknown>;
}

type JsonRow = Record<string, unknown>;

function dates<T extends JsonRow>(row: T, keys: readonly string[]): T {
  const out: JsonRow = { ...row };
  for (const key of keys) {
    if (typeof out[key] === 'string') out[key] = new Date(out[key]);
  }
  return out as T;
}

function bookingFromData(data: JsonRow): Booking {
  const row = dates(data, ['created_at', 'expires_at', 'updated_at']);
  return asBooking({
    id: row.id as string,
    show_id: row.show_id as string,
    seats: row.seats as number,
    currency: row.currency as string,
    lines: row.lines as BookingLine[],
    total: Number(row.total),
    seat_ids: (row.seat_ids ?? null) as string[] | null,
    status: row.status as BookingStatus,
    customer_ref: (row.customer_ref ?? null) as string | null,
    comp: row.comp as boolean,
    late: row.late as boolean,
    created_at: row.created_at as Date,
    expires_at: row.expires_at as Date,
    updated_at: row.updated_at as Date,
  });
}

function showFromData(data: JsonRow): Show {
  const row = dates(data, ['start_time', 'created_at', 'sales_start', 'sales_end']);
  const show: Show = {
    id: row.id as string,
    title: row.title as string,
    description: (row.description ?? null) as string | null,
    start_time: row.start_time as Date,
    seating: row.seating as Show['seating'],
    total_seats: row.total_seats as number,
    available_seats: row.available_seats as number,
    late_confirm: row.late_confirm as Show['late_confirm'],
    max_seats_per_customer: (row.max_seats_per_customer ?? null) as number | null,
    sales_start: (row.sales_start ?? null) as Date | null,
    sales_end: (row.sales_end ?? null) as Date | null,
    currency: row.currency as string,
    ticket_types: [],
    created_at: row.created_at as Date,
  };
  if (row.available_by_category) show.available_by_category = row.available_by_category as Record<string, number>;
  show.ticket_types = ((row.ticket_types ?? []) as StoredTicketType[]).map((type) => listedTicketType(type, show));
  return show;
}

function blockFromData(data: JsonRow): SeatBlock {
  const row = dates(data, ['created_at']);
  const block: SeatBlock = {
    id: row.id as string,
    show_id: row.show_id as string,
    seats: row.seats as number,
    note: (row.note ?? null) as string | null,
    created_at: row.created_at as Date,
  };
  if (Array.isArray(row.seat_ids)) block.seat_ids = row.seat_ids as string[];
  return block;
}

/** The one mapping from an outbox row to the event the API sends (webhooks, and what tests compare). */
export function eventFromRow(row: OutboxRow): WebhookEvent {
  const base = { id: row.id, timestamp: row.occurred_at };
  if ((bookingEventTypes as readonly string[]).includes(row.type)) {
    return {
      ...base,
      type: row.type,
      data: { booking: bookingFromData(row.data) },
    };
  }
  if ((showEventTypes as readonly string[]).includes(row.type)) {
    return { ...base, type: row.type, data: { show: showFromData(row.data) } };
  }
  if ((blockEventTypes as readonly string[]).includes(row.type)) {
    return { ...base, type: row.type, data: { block: blockFromData(row.data) } };
  }
  return { ...base, type: PING, data: { webhook_id: row.data.webhook_id as string } };
}

type BookingEvent = Static<typeof BookingEvent>;
type ShowEvent = Static<typeof ShowEvent>;
type BlockEvent = Static<typeof BlockEvent>;
