import { Type, type Static } from 'typebox';

/**
 * The one error model. Services throw AppError with a stable machine-readable `code`;
 * the HTTP layer turns it into RFC 9457 application/problem+json. Nothing else about an
 * error (message of a library error, stack, SQL) ever reaches a client.
 */
export const problemCatalog = {
  validation_failed: { status: 400, title: 'The request is not valid' },
  invalid_json: { status: 400, title: 'The request body is not valid JSON' },
  invalid_cursor: { status: 400, title: 'The pagination cursor is not valid' },
  bad_request: { status: 400, title: 'The request is malformed' },
  unknown_ticket_type: { status: 400, title: 'The show has no ticket type of that code' },
  invalid_idempotency_key: { status: 400, title: 'The Idempotency-Key header is not valid' },
  unauthorized: { status: 401, title: 'Credentials are missing' },
  forbidden: { status: 403, title: 'The credentials do not grant access' },
  not_found: { status: 404, title: 'Not found' },
  show_not_found: { status: 404, title: 'The show does not exist' },
  booking_not_found: { status: 404, title: 'The booking does not exist' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  sold_out: { status: 409, title: 'Not enough seats are available' },
  type_not_on_sale: { status: 409, title: 'The ticket type is not on sale now' },
  type_limit: { status: 409, title: 'More tickets of the type than one booking may have' },
  type_not_in_category: { status: 409, title: 'The ticket type is not sold in that seat category' },
  code_required: { status: 409, title: 'The ticket type is sold only with a presale code' },
  seats_taken: { status: 409, title: 'Some of the seats asked for are already held or sold' },
  show_not_seated: { status: 409, title: 'The show has general admission, not a seat map' },
  show_seated: { status: 409, title: 'The show has a seat map: its seats change through seat_map' },
  sales_not_open: { status: 409, title: 'Sales for the show have not opened yet' },
  sales_closed: { status: 409, title: 'Sales for the show have closed' },
  customer_limit_reached: { status: 409, title: 'The customer has reached the seat limit for this show' },
  seats_in_use: { status: 409, title: 'Seats that are held, sold or blocked cannot be removed' },
  block_not_found: { status: 404, title: 'The block does not exist' },
  webhook_not_found: { status: 404, title: 'The webhook endpoint does not exist' },
  delivery_not_found: { status: 404, title: 'The delivery does not exist for this webhook endpoint' },
  show_started: { status: 409, title: 'The show has already started' },
  hold_expired: { status: 409, title: 'The hold has expired' },
  booking_cancelled: { status: 409, title: 'The booking was cancelled' },
  booking_confirmed: { status: 409, title: 'The booking is already confirmed' },
  extension_limit: { status: 409, title: 'The hold cannot be extended further' },
  idempotency_in_progress: { status: 409, title: 'A request with this Idempotency-Key is in flight' },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  unsupported_media_type: { status: 415, title: 'The content type is not supported' },
  start_time_in_past: { status: 422, title: 'The show would start in the past' },
  webhook_url_refused: { status: 422, title: 'The webhook URL is not allowed' },
  idempotency_key_reused: { status: 422, title: 'The Idempotency-Key was used for a different request' },
  rate_limited: { status: 429, title: 'Too many requests' },
  internal_error: { status: 500, title: 'Internal server error' },
  service_unavailable: { status: 503, title: 'The service is temporarily unavailable' },
  too_many_streams: { status: 503, title: 'This process has as many open streams as it takes (SSE_MAX_STREAMS)' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof problemCatalog;

export class AppError extends Error {
  override name = 'AppError';
  readonly status: number;
  readonly title: string;

  constructor(
    readonly code: ProblemCode,
    detail?: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail ?? problemCatalog[code].title);
    this.status = problemCatalog[code].status;
    this.title = problemCatalog[code].title;
  }
}

/** RFC 9457 problem details, as every error is answered. */
export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String({
      description: 'Stable machine-readable error code (the catalogue: docs/api.md, Problem codes)',
    }),
    instance: Type.Optional(Type.String()),
    request_id: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { additionalProperties: true, description: 'RFC 9457 problem details (application/problem+json)' },
);
export type Problem = Omit<Static<typeof Problem>, 'code'> & { code: ProblemCode };

export function problemType(code: ProblemCode): string {
  return `urn:seat-hold:problem:${code}`;
}

/**
 * PostgreSQL errors that mean "the database could not be reached or dropped us",
 * which a client can retry: connection failures, admin shutdown/termination,
 * server overload, and a serialization or deadlock abort.
 */
export function isTransientDatabaseError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') {
    const message = (error as { message?: unknown }).message;
    return (
      typeof message === 'string' &&
      /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
        message,
      )
    );
  }
  return (
    code.startsWith('08') || // connection exception
    code.startsWith('57P') || // admin_shutdown, crash_shutdown, cannot_connect_now
    code === '53300' || // too_many_connections
    code === '40001' || // serialization_failure
    code === '40P01' || // deadlock_detected
    code === '55P03' || // lock_not_available: DB_LOCK_TIMEOUT_MS ran out
    code === '57014' || // query_canceled: DB_STATEMENT_TIMEOUT_MS ran out
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === 'ETIMEDOUT' ||
    code === 'EPIPE'
  );
}

/**
 * A PostgreSQL data exception (SQLSTATE class 22: a value out of range, a malformed date or
 * id…). Validation should refuse such input first; if some still gets through, it is the
 * client's input that is wrong, never the server.
 */
export function isDatabaseDataError(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code);
}
