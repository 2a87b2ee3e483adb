import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { RouteContext } from './context.js';
import { Booking } from '../../domain/booking.js';
import type { Answer } from '../../services/idempotency.service.js';
import { sendAnswer } from '../idempotency.js';
import { IdempotencyHeaders, IdParams, problems, rateLimited } from '../schemas.js';

const bookingAuth: Record<string, string[]>[] = [{ holdToken: [] }, { adminKey: [] }];

const bookingAnswer = (booking: Booking): Answer => ({ statusCode: 200, body: { ...booking } });

export const bookingRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, { bookings, auth, idempotency }) => {
  app.get(
    '/api/bookings/:id',
    {
      schema: {
        summary: 'Get a booking',
        description: 'A PENDING hold past its expires_at is reported as EXPIRED.',
        tags: ['bookings'],
        security: bookingAuth,
        params: IdParams,
        response: { 200: Booking, ...problems(400, 401, 403, 404, 429, 503) },
      },
      config: rateLimited,
    },
    async (request) => bookings.get(request.params.id, auth.caller(request)),
  );

  // Confirm, extend and cancel differ only in what they do: same auth, errors, idempotency and limits.
  const actions = [
    {
      action: 'confirm',
      summary: 'Confirm a held booking',
      description:
        'PENDING → CONFIRMED before expires_at. Confirming a confirmed booking again answers 200 with it. After expires_at: 409 hold_expired and the booking is EXPIRED; on a show whose late_confirm is reclaim, the same seats are sold (200, late: true) if a new hold of them would be: else 409 show_started, sales_not_open, sales_closed or customer_limit_reached, as for a hold, or 409 hold_expired with reclaimable: false when its seats are taken.',
    },
    {
      action: 'extend',
      summary: 'Extend a hold',
      description:
        'A PENDING hold before its expires_at: expires_at moves to now + HOLD_TTL_SECONDS (database clock), never past created_at + HOLD_MAX_LIFETIME_SECONDS. Already there: 409 extension_limit. Expired: 409 hold_expired; confirmed: 409 booking_confirmed; cancelled: 409 booking_cancelled.',
    },
    {
      action: 'cancel',
      summary: 'Cancel a booking',
      description:
        'PENDING or CONFIRMED → CANCELLED; its seats are on sale again at once. Cancelling a cancelled booking again answers 200 with it. An expired hold: 409 hold_expired.',
    },
  ] as const;
  for (const { action, summary, description } of actions) {
    app.post(
      `/api/bookings/:id/${action}`,
      {
        schema: {
          summary,
          description,
          tags: ['bookings'],
          security: bookingAuth,
          params: IdParams,
          headers: IdempotencyHeaders,
          response: { 200: Booking, ...problems(400, 401, 403, 404, 409, 413, 415, 422, 429, 503) },
        },
        config: rateLimited,
        preHandler: idempotency.claim,
        onSend: idempotency.settle,
      },
      async (request, reply) => {
        const booking = await bookings[action](request.params.id, auth.caller(request), {
          recorder: idempotency.recorder(request, bookingAnswer),
          isGone: () => reply.raw.destroyed,
        });
        return sendAnswer(reply, bookingAnswer(booking));
      },
    );
  }
};
