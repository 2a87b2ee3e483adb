import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { RouteContext } from './context.js';
import { Booking, bookingStatuses, CustomerRef, NewComp } from '../../domain/booking.js';
import { Uuid } from '../../domain/common.js';
import { NewBlock, SeatBlock, Show, ShowChanges, ShowSummary } from '../../domain/show.js';
import type { Answer } from '../../services/idempotency.service.js';
import { sendAnswer } from '../idempotency.js';
import { IdempotencyHeaders, IdParams, problems, rateLimited } from '../schemas.js';

const admin = [{ adminKey: [] }];
const blockAnswer = (block: SeatBlock): Answer => ({
  statusCode: 201,
  body: { ...block },
  location: `/api/shows/${block.show_id}/blocks/${block.id}`,
});
const compAnswer = (booking: Booking): Answer => ({
  statusCode: 201,
  body: { ...booking },
  location: `/api/bookings/${booking.id}`,
});

const BookingsQuery = Type.Object({
  status: Type.Optional(Type.Enum(bookingStatuses, { description: 'A hold past its expires_at is EXPIRED' })),
  customer_ref: Type.Optional(CustomerRef),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'From the Link header' })),
});

/** The admin's routes on a show: change it, read its bookings and summary, house seats and comps. */
export const adminRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (
  app,
  { shows, house, auth, idempotency },
) => {
  app.patch(
    '/api/shows/:id',
    {
      config: rateLimited,
      // A new seat map can be large (see POST /api/shows); the admin key is checked before the body is read.
      bodyLimit: 8 * 1024 * 1024,
      onRequest: auth.requireAdmin,
      schema: {
        summary: 'Change a show (admin)',
        description:
          'Any of: title, description, a future start_time, late_confirm, max_seats_per_customer, sales_start, sales_end (null clears an optional one); total_seats for general admission (never below the seats held, sold and blocked: 409 seats_in_use); seat_map for a seated show (seats keep their ids; rows and seats may be added; a seat that is held, sold or blocked cannot be removed: 409 seats_in_use).',
        tags: ['admin'],
        security: admin,
        params: IdParams,
        body: ShowChanges,
        response: { 200: Show, ...problems(400, 401, 404, 409, 413, 415, 422, 429, 503) },
      },
    },
    async (request) => shows.update(request.params.id, request.body),
  );

  app.get(
    '/api/shows/:id/bookings',
    {
      config: rateLimited,
      onRequest: auth.requireAdmin,
      schema: {
        summary: "A show's bookings (admin)",
        description:
          'In the order they were made, filtered by status and customer_ref. Paginated: the next page, if any, is in the Link header (rel="next").',
        tags: ['admin'],
        security: admin,
        params: IdParams,
        querystring: BookingsQuery,
        response: { 200: Type.Array(Booking), ...problems(400, 401, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      const { limit = 50, cursor, status, customer_ref } = request.query;
      const page = await shows.bookingsOf(request.params.id, { status, customer_ref }, limit, cursor);
      if (page.nextCursor) {
        const filters = [
          status === undefined ? '' : `&status=${status}`,
          customer_ref === undefined ? '' : `&customer_ref=${encodeURIComponent(customer_ref)}`,
        ].join('');
        void reply.header(
          'link',
          `</api/shows/${request.params.id}/bookings?limit=${limit}${filters}&cursor=${page.nextCursor}>; rel="next"`,
        );
      }
      return page.bookings;
    },
  );

  app.get(
    '/api/shows/:id/summary',
    {
      config: rateLimited,
      onRequest: auth.requireAdmin,
      schema: {
        summary: "A show's seats and bookings at a glance (admin)",
        description:
          'Seats free, held, sold and blocked, overall and per category, and bookings by status, from one snapshot.',
        tags: ['admin'],
        security: admin,
        params: IdParams,
        response: { 200: ShowSummary, ...problems(400, 401, 404, 429, 503) },
      },
    },
    async (request) => shows.summary(request.params.id),
  );

  app.post(
    '/api/shows/:id/blocks',
    {
      config: rateLimited,
      onRequest: auth.requireAdmin,
      preHandler: idempotency.claim,
      onSend: idempotency.settle,
      schema: {
        summary: 'Keep seats back: house seats (admin)',
        description:
          'seat_ids on a seated show (each must be free: 409 seats_taken naming those held, sold or blocked), seats on a general-admission show (409 sold_out when fewer are free). Blocked seats are never on sale (B in the seat map) until the block is released. Once the show has started: 409 show_started.',
        tags: ['admin'],
        security: admin,
        params: IdParams,
        headers: IdempotencyHeaders,
        body: NewBlock,
        response: { 201: SeatBlock, ...problems(400, 401, 404, 409, 413, 415, 422, 429, 503) },
      },
    },
    async (request, reply) => {
      const block = await house.block(request.params.id, request.body, idempotency.recorder(request, blockAnswer));
      return sendAnswer(reply, blockAnswer(block));
    },
  );

  app.get(
    '/api/shows/:id/blocks',
    {
      config: rateLimited,
      onRequest: auth.requireAdmin,
      schema: {
        summary: "A show's blocks (admin)",
        description: 'The blocks that still keep seats back: not released, nor used up by comps.',
        tags: ['admin'],
        security: admin,
        params: IdParams,
        response: { 200: Type.Array(SeatBlock), ...problems(400, 401, 404, 429, 503) },
      },
    },
    async (request) => house.blocks(request.params.id),
  );

  app.delete(
    '/api/shows/:id/blocks/:blockId',
    {
      config: rateLimited,
      onRequest: auth.requireAdmin,
      schema: {
        summary: 'Release a block: its seats go back on sale (admin)',
        description: 'A block released already, or used up by comps (its seats were sold): 404 block_not_found.',
        tags: ['admin'],
        security: admin,
        params: Type.Object({ id: Uuid, blockId: Uuid }),
        response: { 204: Type.Null({ description: 'Released' }), ...problems(400, 401, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      await house.release(request.params.id, request.params.blockId);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/shows/:id/comps',
    {
      config: rateLimited,
      onRequest: auth.requireAdmin,
      preHandler: idempotency.claim,
      onSend: idempotency.settle,
      schema: {
        summary: 'Issue a complimentary booking, CONFIRMED at once (admin)',
        description:
          'seat_ids on a seated show (each free or blocked; blocked seats leave their block), or seats on a general-admission show (free ones, or from block_id). The booking has comp: true. A block the comps empty is used up: it is no longer listed, and no show.seats_released is sent (its seats were sold). Once the show has started: 409 show_started.',
        tags: ['admin'],
        security: admin,
        params: IdParams,
        headers: IdempotencyHeaders,
        body: NewComp,
        response: { 201: Booking, ...problems(400, 401, 404, 409, 413, 415, 422, 429, 503) },
      },
    },
    async (request, reply) => {
      const booking = await house.comp(request.params.id, request.body, idempotency.recorder(request, compAnswer));
      return sendAnswer(reply, compAnswer(booking));
    },
  );
};
