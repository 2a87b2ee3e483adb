import { SeatHoldProblem, type ProblemCode } from '@seat-hold/client';

/**
 * Every problem code the API answers, in words a buyer or box-office user understands.
 * A Record over ProblemCode: a new code in the API does not compile until it has words here.
 */
const WORDS: Record<ProblemCode, string> = {
  validation_failed: 'Something in the form is not valid.',
  invalid_json: 'The request could not be read. Please try again.',
  invalid_cursor: 'That page of results is no longer available. Start again from the first page.',
  bad_request: 'The request could not be understood.',
  invalid_idempotency_key: 'The request could not be sent safely. Please try again.',
  unauthorized: 'The admin key is missing or wrong. Sign in again.',
  forbidden: 'You are not allowed to do that.',
  not_found: 'That page does not exist.',
  show_not_found: 'This show does not exist (any more).',
  booking_not_found: 'This booking does not exist (any more).',
  method_not_allowed: 'That action is not possible here.',
  sold_out: 'Sold out: there are not enough seats left for your request.',
  unknown_ticket_type: 'That ticket type is not sold for this show.',
  type_not_on_sale: 'That ticket type is not on sale right now.',
  type_limit: 'That is more tickets of this type than one booking may have.',
  type_not_in_category: 'That ticket type is not sold in this part of the venue.',
  code_required: 'That ticket type needs a presale code.',
  seats_taken: 'Someone else just took one of those seats. Please choose others.',
  show_not_seated: 'This show has no seat map: choose a number of tickets instead.',
  show_seated: 'This show has a seat map: choose your seats on it.',
  sales_not_open: 'Sales for this show have not opened yet.',
  sales_closed: 'Sales for this show have closed.',
  customer_limit_reached: 'You have reached the most tickets one customer may buy for this show.',
  seats_in_use: 'Some of those seats are held or sold, so they cannot be blocked.',
  block_not_found: 'That block of seats no longer exists.',
  webhook_not_found: 'That webhook no longer exists.',
  delivery_not_found: 'That delivery no longer exists.',
  show_started: 'This show has already started.',
  hold_expired: 'Your hold expired and the seats went back on sale.',
  booking_cancelled: 'This booking was cancelled.',
  booking_confirmed: 'This booking is already confirmed.',
  extension_limit: 'This hold cannot be extended any further.',
  idempotency_in_progress: 'Your previous attempt is still being processed. Wait a moment.',
  payload_too_large: 'That is too much data for one request.',
  unsupported_media_type: 'The request could not be read. Please try again.',
  start_time_in_past: 'The show must start in the future.',
  webhook_url_refused: 'That webhook URL is not allowed (it must be a public http or https address).',
  idempotency_key_reused: 'That request was already sent with different details.',
  rate_limited: 'Too many requests right now. Wait a few seconds and try again.',
  internal_error: 'Something went wrong on our side. Please try again.',
  service_unavailable: 'The box office is very busy right now. Please try again in a moment.',
  too_many_streams: 'Live updates are busy right now; numbers refresh when you reload.',
};

/** What went wrong, in words; validation problems name the fields. */
export function describeError(error: unknown): string {
  if (error instanceof SeatHoldProblem) {
    const words = WORDS[error.code] ?? error.title;
    const fields = error.code === 'validation_failed' ? fieldErrors(error.body.errors) : '';
    return fields ? `${words} ${fields}` : words;
  }
  if (isNetworkFailure(error)) return 'The box office cannot be reached. Check your connection and try again.';
  // A fault of this page, not of the connection: visible in the console for whoever looks.
  console.error(error);
  return 'Something went wrong. Please try again.';
}

/**
 * fetch rejects with a TypeError when no answer came (Chromium: "Failed to fetch", Firefox:
 * "NetworkError when attempting to fetch resource.", Safari: "Load failed"); any other
 * TypeError is a bug, not the network.
 */
function isNetworkFailure(error: unknown): boolean {
  return error instanceof TypeError && /fetch|network|load failed/i.test(error.message);
}

/** The words for one problem code. */
export function wordsFor(code: ProblemCode): string {
  return WORDS[code];
}

/** The problem code, when the error is an API answer. */
export function problemCode(error: unknown): ProblemCode | undefined {
  return error instanceof SeatHoldProblem ? error.code : undefined;
}

function fieldErrors(errors: unknown): string {
  if (!Array.isArray(errors)) return '';
  return errors
    .map((entry: { path?: unknown; message?: unknown }) =>
      [typeof entry.path === 'string' ? entry.path.replace(/^\//, '').replaceAll('/', '.') : '', entry.message]
        .filter((part) => typeof part === 'string' && part !== '')
        .join(': '),
    )
    .filter((line) => line !== '')
    .join('; ');
}
