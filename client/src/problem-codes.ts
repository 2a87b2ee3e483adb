/**
 * The API's problem codes. The OpenAPI document only says `code: string`, so the list is kept
 * here; test/api/client.test.ts checks that it is exactly the keys of `problemCatalog`
 * (src/errors.ts).
 */
export const problemCodes = [
  'validation_failed',
  'invalid_json',
  'invalid_cursor',
  'bad_request',
  'invalid_idempotency_key',
  'unauthorized',
  'forbidden',
  'not_found',
  'show_not_found',
  'booking_not_found',
  'method_not_allowed',
  'sold_out',
  'seats_taken',
  'show_not_seated',
  'show_seated',
  'sales_not_open',
  'sales_closed',
  'customer_limit_reached',
  'seats_in_use',
  'block_not_found',
  'webhook_not_found',
  'delivery_not_found',
  'show_started',
  'hold_expired',
  'booking_cancelled',
  'booking_confirmed',
  'extension_limit',
  'idempotency_in_progress',
  'payload_too_large',
  'unsupported_media_type',
  'start_time_in_past',
  'webhook_url_refused',
  'idempotency_key_reused',
  'rate_limited',
  'internal_error',
  'service_unavailable',
  'too_many_streams',
] as const;

export type ProblemCode = (typeof problemCodes)[number];
