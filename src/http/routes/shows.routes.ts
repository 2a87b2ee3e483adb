import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { RouteContext } from './context.js';
import { HeldBooking } from '../../domain/booking.js';
import { NewShow, SeatMapState, Show } from '../../domain/show.js';
import type { GrantedHold } from '../../services/show-lanes/show-lanes.js';
import type { Answer } from '../../services/idempotency.service.js';
import { sendAnswer } from '../idempotency.js';
import { sendShared } from '../shared-answer.js';
import {
  bookBody,
  IdempotencyHeaders,
  IdParams,
  ListShowsQuery,
  notModified,
  OPTIONAL_BODY,
  problems,
  rateLimited,
} from '../schemas.js';

/** A 100,000-seat map in short rows is a few MB of JSON. */
const SHOW_BODY_LIMIT_BYTES = 8 * 1024 * 1024;

const showAnswer = (show: Show): Answer => ({ statusCode: 201, body: { ...show }, location: `/api/shows/${show.id}` });
const holdAnswer = ({ booking, holdToken }: GrantedHold): Answer => ({
  statusCode: 201,
  body: { ...booking, hold_token: holdToken } satisfies HeldBooking,
  location: `/api/bookings/${booking.id}`,
});

export const showRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (
  app,
  { shows, bookings, auth, idempotency, config },
) => {
  app.post(
    '/api/shows',
    {
      config: rateLimited,
      // A seat map can be large, so this route takes bigger bodies than BODY_LIMIT_BYTES, and
      // checks the admin key before reading any of it.
      bodyLimit: Math.max(config.BODY_LIMIT_BYTES, SHOW_BODY_LIMIT_BYTES),
      onRequest: auth.requireAdmin,
      preHandler: idempotency.claim,
      onSend: idempotency.settle,
      schema: {
        summary: 'Create a show (admin)',
        tags: ['shows'],
        security: [{ adminKey: [] }],
        headers: IdempotencyHeaders,
        body: NewShow,
        response: { 201: Show, ...problems(400, 401, 409, 413, 415, 422, 429, 503) },
      },
    },
    async (request, reply) => {
      const show = await shows.create(request.body, idempotency.recorder(request, showAnswer));
      return sendAnswer(reply, showAnswer(show));
    },
  );

  app.get(
    '/api/shows',
    {
      schema: {
        summary: 'List shows by start time',
        description: 'Paginated: the next page, if any, is in the Link header (rel="next").',
        tags: ['shows'],
        querystring: ListShowsQuery,
        response: { 200: Type.Array(Show), ...notModified, ...problems(400, 503) },
      },
    },
    async (request, reply) => {
      const limit = request.query.limit ?? 50;
      const page = await shows.list(limit, request.query.cursor);
      if (page.nextCursor) {
        void reply.header('link', `</api/shows?limit=${limit}&cursor=${page.nextCursor}>; rel="next"`);
      }
      return sendShared(request, reply, page.shows);
    },
  );

  app.get(
    '/api/shows/:id',
    {
      schema: {
        summary: 'Get a show with its available seats',
        tags: ['shows'],
        params: IdParams,
        response: { 200: Show, ...notModified, ...problems(400, 404, 503) },
      },
    },
    async (request, reply) => sendShared(request, reply, await shows.get(request.params.id)),
  );

  app.get(
    '/api/shows/:id/seats',
    {
      schema: {
        summary: 'Get the seat map of a seated show with the state of every seat',
        description:
          'From one snapshot. Per row, status has one character per seat (seat 1 first): F free, H held, S sold, B blocked; a hold past its expires_at reads as free. A show with general admission: 409 show_not_seated.',
        tags: ['shows'],
        params: IdParams,
        response: { 200: SeatMapState, ...notModified, ...problems(400, 404, 409, 503) },
      },
    },
    async (request, reply) => sendShared(request, reply, await shows.seats(request.params.id)),
  );

  app.post(
    '/api/shows/:id/book',
    {
      // No body at all means one seat.
      preValidation: async (request) => {
        if (request.body === undefined) request.body = {};
      },
      config: rateLimited,
      preHandler: idempotency.claim,
      onSend: idempotency.settle,
      schema: {
        summary: 'Hold seats for a show',
        description: `Holds the seats as PENDING until expires_at (HOLD_TTL_SECONDS, by default 2 minutes); confirm them before then. All or nothing: 409 sold_out when fewer seats are free. On a seated show: seat_ids holds exactly those seats (409 seats_taken naming those already held or sold), or seats holds the best available (adjacent in one row, best row first, nearest the row's centre, never leaving a single seat between taken ones when avoidable; 409 sold_out when no row has them together, unless allow_split). At most ${config.MAX_SEATS_PER_BOOKING} seats per booking. 503 with Retry-After when the show is too busy to answer within REQUEST_TIMEOUT_MS.`,
        tags: ['bookings'],
        params: IdParams,
        headers: IdempotencyHeaders,
        body: bookBody(config.MAX_SEATS_PER_BOOKING),
        [OPTIONAL_BODY]: true,
        response: { 201: HeldBooking, ...problems(400, 404, 409, 413, 415, 422, 429, 503) },
      },
    },
    async (request, reply) => {
      const held = await bookings.hold(request.params.id, request.body, {
        recorder: idempotency.recorder(request, holdAnswer),
        isGone: () => reply.raw.destroyed,
      });
      return sendAnswer(reply, holdAnswer(held));
    },
  );
};
