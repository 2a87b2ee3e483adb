import type { NewWebhook, WebhookDelivery } from '@seat-hold/client';

export type EventType = Exclude<NewWebhook['events'][number], '*'>;

/** A Record over the API's event types: a new type does not compile until it has words here. */
export const EVENT_WORDS: Record<EventType, string> = {
  'show.created': 'Show created',
  'show.updated': 'Show changed',
  'show.sold_out': 'Show sold out',
  'show.back_on_sale': 'Show back on sale',
  'show.seats_blocked': 'Seats blocked',
  'show.seats_released': 'Seats released',
  'booking.held': 'Seats held',
  'booking.confirmed': 'Booking confirmed',
  'booking.cancelled': 'Booking cancelled',
  'booking.expired': 'Hold expired',
  'booking.extended': 'Hold extended',
};

export const EVENT_TYPES = Object.keys(EVENT_WORDS) as EventType[];

export type DeliveryState = WebhookDelivery['state'];

export const STATE_WORDS: Record<DeliveryState, string> = {
  pending: 'Pending',
  delivered: 'Delivered',
  failed: 'Failed',
};

export function eventsInWords(events: readonly string[]): string {
  if (events.includes('*')) return 'All events';
  return events.map((event) => (event in EVENT_WORDS ? EVENT_WORDS[event as EventType] : event)).join(', ');
}
