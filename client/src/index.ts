import createClient, { type Client, type MethodResponse, type Middleware } from 'openapi-fetch';
import type { ProblemCode } from './problem-codes.js';
import type { paths, webhooks } from './schema.js';

export { problemCodes, type ProblemCode } from './problem-codes.js';
export type { paths, webhooks } from './schema.js';

/** The openapi-fetch client over the generated `paths` (`npm run client:generate`). */
export type SeatHoldApi = Client<paths>;

// Shapes come from the generated document, never written by hand.
type Body<P extends keyof paths, M extends 'get' | 'post'> = paths[P][M] extends { requestBody?: infer R }
  ? NonNullable<R> extends { content: { 'application/json': infer B } }
    ? B
    : never
  : never;
export type Show = MethodResponse<SeatHoldApi, 'get', '/api/shows/{id}'>;
export type ShowListItem = MethodResponse<SeatHoldApi, 'get', '/api/shows'>[number];
export type Hold = MethodResponse<SeatHoldApi, 'post', '/api/shows/{id}/book'>;
export type Booking = MethodResponse<SeatHoldApi, 'get', '/api/bookings/{id}'>;
export type SeatMapState = MethodResponse<SeatHoldApi, 'get', '/api/shows/{id}/seats'>;
export type ShowSummary = MethodResponse<SeatHoldApi, 'get', '/api/shows/{id}/summary'>;
export type SeatBlock = MethodResponse<SeatHoldApi, 'post', '/api/shows/{id}/blocks'>;
export type ShowChanges = NonNullable<paths['/api/shows/{id}']['patch']['requestBody']>['content']['application/json'];
export type NewBlock = Body<'/api/shows/{id}/blocks', 'post'>;
export type NewComp = Body<'/api/shows/{id}/comps', 'post'>;
export type ShowBookingsQuery = NonNullable<paths['/api/shows/{id}/bookings']['get']['parameters']['query']>;
export type NewShow = Body<'/api/shows', 'post'>;
export type HoldRequest = Body<'/api/shows/{id}/book', 'post'>;
export type ShowQuery = NonNullable<paths['/api/shows']['get']['parameters']['query']>;
export type Webhook = MethodResponse<SeatHoldApi, 'get', '/api/webhooks/{id}'>;
/** The endpoint with its signing secret, as POST /api/webhooks answers (the only time the secret is shown). */
export type CreatedWebhook = MethodResponse<SeatHoldApi, 'post', '/api/webhooks'>;
export type NewWebhook = Body<'/api/webhooks', 'post'>;
export type WebhookChanges = NonNullable<
  paths['/api/webhooks/{id}']['patch']['requestBody']
>['content']['application/json'];
export type WebhookDelivery = MethodResponse<SeatHoldApi, 'get', '/api/webhooks/{id}/deliveries'>[number];
export type DeliveriesQuery = NonNullable<paths['/api/webhooks/{id}/deliveries']['get']['parameters']['query']>;
/** The body of every webhook delivery (OpenAPI `webhooks.event`). */
export type WebhookEvent = NonNullable<
  NonNullable<webhooks['event']['post']>['requestBody']
>['content']['application/json'];

type StreamEvent =
  paths['/api/shows/{id}/availability/stream']['get']['responses'][200]['content']['text/event-stream'];
/** The data of an `availability` event on the live availability stream. */
export type AvailabilityUpdate = Extract<StreamEvent, { available_seats: number }>;
/** The data of a `seats` event: seat id → its state now. */
export type SeatsUpdate = Extract<StreamEvent, { seats: Record<string, string> }>;
/** One seat's state: F free, H held, S sold, B blocked. */
export type SeatState = SeatsUpdate['seats'][string];

type ProblemDocument = paths['/api/shows/{id}']['get']['responses'][404]['content']['application/problem+json'];
type Named<T> = { [K in keyof T as string extends K ? never : number extends K ? never : K]: T[K] };
/** A problem+json answer: RFC 9457 fields, `code` narrowed to the catalogue, plus extra fields. */
export type ProblemBody = Omit<Named<ProblemDocument>, 'code'> & { code: ProblemCode; [key: string]: unknown };

const documented = {
  type: true,
  title: true,
  status: true,
  detail: true,
  code: true,
  instance: true,
  request_id: true,
  errors: true,
} satisfies Record<keyof Named<ProblemDocument>, true>;

/** Thrown for every application/problem+json answer. */
export class SeatHoldProblem extends Error {
  override name = 'SeatHoldProblem';
  readonly status: number;
  readonly code: ProblemCode;
  readonly title: string;
  readonly detail: string;
  readonly requestId: string | undefined;
  /** Fields beyond the documented ones, e.g. `available_seats` with `sold_out`. */
  readonly extra: Record<string, unknown>;

  constructor(
    readonly body: ProblemBody,
    readonly response?: Response,
  ) {
    super(`${body.status} ${body.code}: ${body.detail}`);
    this.status = body.status;
    this.code = body.code;
    this.title = body.title;
    this.detail = body.detail;
    this.requestId = body.request_id ?? response?.headers.get('x-request-id') ?? undefined;
    this.extra = Object.fromEntries(Object.entries(body).filter(([key]) => !(key in documented)));
  }
}

export interface SeatHoldClientOptions {
  /** e.g. http://127.0.0.1:3000 */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <adminKey>` on every request. */
  adminKey?: string;
  fetch?: (request: Request) => Promise<Response>;
}

/** Per call: `Idempotency-Key` makes a retry replay the first answer. */
export interface Idempotent {
  idempotencyKey?: string;
}
/** Per call on a booking: its `hold_token` (not needed with the admin key). */
export interface WithHoldToken {
  holdToken?: string;
}

const throwProblems: Middleware = {
  async onResponse({ response }) {
    if (response.ok || !response.headers.get('content-type')?.startsWith('application/problem+json')) return;
    throw new SeatHoldProblem((await response.json()) as ProblemBody, response);
  },
};

function bearer(adminKey: string): Middleware {
  return {
    onRequest({ request }) {
      request.headers.set('authorization', `Bearer ${adminKey}`);
      return request;
    },
  };
}

/** The body of a successful answer; problems were already thrown by the middleware. */
function ok<D>(result: { data?: D; response: Response }): D {
  const { response } = result;
  if (!response.ok) throw new Error(`seat-hold: ${response.status} ${response.statusText} (not a problem document)`);
  return result.data as D;
}

function idempotency(call: Idempotent) {
  return { 'idempotency-key': call.idempotencyKey };
}

function holdToken(call: WithHoldToken) {
  return { 'x-hold-token': call.holdToken };
}

/** The cursor of the next page, from `Link: <…?cursor=…>; rel="next"`. */
function nextCursor(response: Response): string | undefined {
  const next = /<([^>]*)>\s*;\s*rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
  return next === undefined ? undefined : (new URL(next, response.url).searchParams.get('cursor') ?? undefined);
}

export function createSeatHoldClient(options: SeatHoldClientOptions) {
  const api: SeatHoldApi = createClient<paths>({ baseUrl: options.baseUrl, fetch: options.fetch });
  api.use(throwProblems);
  if (options.adminKey !== undefined) api.use(bearer(options.adminKey));

  return {
    /** The underlying openapi-fetch client (same middleware), for anything not wrapped below. */
    api,
    async listShows(query: ShowQuery = {}): Promise<{ shows: ShowListItem[]; nextCursor: string | undefined }> {
      const result = await api.GET('/api/shows', { params: { query } });
      return { shows: ok(result), nextCursor: nextCursor(result.response) };
    },
    async getShow(id: string): Promise<Show> {
      return ok(await api.GET('/api/shows/{id}', { params: { path: { id } } }));
    },
    /** A seated show's map with every seat's state (F free, H held, S sold, B blocked). */
    async getSeats(id: string): Promise<SeatMapState> {
      return ok(await api.GET('/api/shows/{id}/seats', { params: { path: { id } } }));
    },
    /**
     * The URL of the show's live availability (Server-Sent Events) for an EventSource:
     * `new EventSource(seatHold.availabilityStreamUrl(showId))`, then listen for the
     * `availability` and `seats` events (AvailabilityUpdate, SeatsUpdate in the OpenAPI document).
     */
    availabilityStreamUrl(id: string, lastEventId?: string): string {
      const url = new URL(
        `api/shows/${encodeURIComponent(id)}/availability/stream`,
        `${options.baseUrl.replace(/\/$/, '')}/`,
      );
      if (lastEventId !== undefined) url.searchParams.set('last_event_id', lastEventId);
      return url.toString();
    },
    /** Needs the admin key. */
    async createShow(show: NewShow, call: Idempotent = {}): Promise<Show> {
      return ok(await api.POST('/api/shows', { params: { header: idempotency(call) }, body: show }));
    },
    /**
     * Holds seats (one by default; on a seated show `{ seat_ids }` or the best available
     * `{ seats, category?, section?, allow_split? }`); keep the answer's `hold_token` to confirm, extend, cancel or read it.
     */
    async hold(showId: string, request: HoldRequest = {}, call: Idempotent = {}): Promise<Hold> {
      return ok(
        await api.POST('/api/shows/{id}/book', {
          params: { path: { id: showId }, header: idempotency(call) },
          body: request,
        }),
      );
    },
    /** Needs the admin key: title, description, start_time, settings, seats (PATCH). */
    async updateShow(id: string, changes: ShowChanges): Promise<Show> {
      return ok(await api.PATCH('/api/shows/{id}', { params: { path: { id } }, body: changes }));
    },
    /** Needs the admin key: the show's bookings, filtered, one page at a time. */
    async listShowBookings(
      id: string,
      query: ShowBookingsQuery = {},
    ): Promise<{ bookings: Booking[]; nextCursor: string | undefined }> {
      const result = await api.GET('/api/shows/{id}/bookings', { params: { path: { id }, query } });
      return { bookings: ok(result), nextCursor: nextCursor(result.response) };
    },
    /** Needs the admin key: seats free, held, sold and blocked, and bookings by status. */
    async getSummary(id: string): Promise<ShowSummary> {
      return ok(await api.GET('/api/shows/{id}/summary', { params: { path: { id } } }));
    },
    /** Needs the admin key: keeps seats back (house seats). */
    async blockSeats(id: string, block: NewBlock, call: Idempotent = {}): Promise<SeatBlock> {
      return ok(
        await api.POST('/api/shows/{id}/blocks', { params: { path: { id }, header: idempotency(call) }, body: block }),
      );
    },
    /** Needs the admin key. */
    async listBlocks(id: string): Promise<SeatBlock[]> {
      return ok(await api.GET('/api/shows/{id}/blocks', { params: { path: { id } } }));
    },
    /** Needs the admin key: the block's seats go back on sale. */
    async releaseBlock(id: string, blockId: string): Promise<void> {
      ok(await api.DELETE('/api/shows/{id}/blocks/{blockId}', { params: { path: { id, blockId } } }));
    },
    /** Needs the admin key: a complimentary booking, CONFIRMED at once. */
    async issueComp(id: string, comp: NewComp, call: Idempotent = {}): Promise<Booking> {
      return ok(
        await api.POST('/api/shows/{id}/comps', { params: { path: { id }, header: idempotency(call) }, body: comp }),
      );
    },
    /** Needs the admin key: the answer's `secret` is shown this once; keep it to verify signatures. */
    async createWebhook(webhook: NewWebhook, call: Idempotent = {}): Promise<CreatedWebhook> {
      return ok(await api.POST('/api/webhooks', { params: { header: idempotency(call) }, body: webhook }));
    },
    /** Needs the admin key. */
    async listWebhooks(): Promise<Webhook[]> {
      return ok(await api.GET('/api/webhooks'));
    },
    /** Needs the admin key. */
    async getWebhook(id: string): Promise<Webhook> {
      return ok(await api.GET('/api/webhooks/{id}', { params: { path: { id } } }));
    },
    /** Needs the admin key: url, events, enabled, description. */
    async updateWebhook(id: string, changes: WebhookChanges): Promise<Webhook> {
      return ok(await api.PATCH('/api/webhooks/{id}', { params: { path: { id } }, body: changes }));
    },
    /** Needs the admin key: the endpoint goes with its delivery log. */
    async deleteWebhook(id: string): Promise<void> {
      ok(await api.DELETE('/api/webhooks/{id}', { params: { path: { id } } }));
    },
    /** Needs the admin key: sends a ping to this endpoint only; returns the id of its delivery. */
    async testWebhook(id: string): Promise<string> {
      return ok(await api.POST('/api/webhooks/{id}/test', { params: { path: { id } } })).delivery_id;
    },
    /** Needs the admin key: the endpoint's deliveries with their attempts, newest first, one page at a time. */
    async listDeliveries(
      id: string,
      query: DeliveriesQuery = {},
    ): Promise<{ deliveries: WebhookDelivery[]; nextCursor: string | undefined }> {
      const result = await api.GET('/api/webhooks/{id}/deliveries', { params: { path: { id }, query } });
      return { deliveries: ok(result), nextCursor: nextCursor(result.response) };
    },
    /** Needs the admin key: sends the delivery again (pending, due now, a new retry window). */
    async retryDelivery(id: string, deliveryId: string): Promise<void> {
      ok(
        await api.POST('/api/webhooks/{id}/deliveries/{delivery}/retry', {
          params: { path: { id, delivery: deliveryId } },
        }),
      );
    },
    async getBooking(id: string, call: WithHoldToken = {}): Promise<Booking> {
      return ok(await api.GET('/api/bookings/{id}', { params: { path: { id } }, headers: holdToken(call) }));
    },
    async confirm(id: string, call: WithHoldToken & Idempotent = {}): Promise<Booking> {
      return ok(
        await api.POST('/api/bookings/{id}/confirm', {
          params: { path: { id }, header: idempotency(call) },
          headers: holdToken(call),
        }),
      );
    },
    async extend(id: string, call: WithHoldToken & Idempotent = {}): Promise<Booking> {
      return ok(
        await api.POST('/api/bookings/{id}/extend', {
          params: { path: { id }, header: idempotency(call) },
          headers: holdToken(call),
        }),
      );
    },
    async cancel(id: string, call: WithHoldToken & Idempotent = {}): Promise<Booking> {
      return ok(
        await api.POST('/api/bookings/{id}/cancel', {
          params: { path: { id }, header: idempotency(call) },
          headers: holdToken(call),
        }),
      );
    },
  };
}

export type SeatHoldClient = ReturnType<typeof createSeatHoldClient>;
