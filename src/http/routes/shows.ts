import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppServices } from '../app.js';
import { bookBody, CreateShowBody, HeldBooking, IdParams, ListShowsQuery, problems, Show } from '../schemas.js';

export const showRoutes: FastifyPluginAsyncTypebox<AppServices> = async (app, { shows, bookings, auth, config }) => {
  app.post(
    '/api/shows',
    {
      preHandler: auth.requireAdmin,
      schema: {
        summary: 'Create a show (admin)',
        tags: ['shows'],
        security: [{ adminKey: [] }],
        body: CreateShowBody,
        response: { 201: Show, ...problems(400, 401, 413, 415, 422, 429, 503) },
      },
    },
    async (request, reply) => {
      const { title, description, start_time, total_seats } = request.body;
      const show = await shows.create({
        title,
        description: description ?? null,
        startTime: start_time,
        totalSeats: total_seats,
      });
      return reply.code(201).header('location', `/api/shows/${show.id}`).send(show);
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
        response: { 200: Type.Array(Show), ...problems(400, 503) },
      },
    },
    async (request, reply) => {
      const limit = request.query.limit ?? 50;
      const page = await shows.list(limit, request.query.cursor);
      if (page.nextCursor) {
        void reply.header('link', `</api/shows?limit=${limit}&cursor=${page.nextCursor}>; rel="next"`);
      }
      return page.shows;
    },
  );

  app.get(
    '/api/shows/:id',
    {
      schema: {
        summary: 'Get a show with its available seats',
        tags: ['shows'],
        params: IdParams,
        response: { 200: Show, ...problems(400, 404, 503) },
      },
    },
    async (request) => shows.get(request.params.id),
  );

  app.post(
    '/api/shows/:id/book',
    {
      // No body at all means one seat.
      preValidation: async (request) => {
        if (request.body === undefined) request.body = {};
      },
      schema: {
        summary: 'Hold seats for a show',
        description: `Holds the seats as PENDING until expires_at (HOLD_TTL_SECONDS, by default 2 minutes); confirm them before then. All or nothing: 409 sold_out when fewer seats are free. At most ${config.MAX_SEATS_PER_BOOKING} seats per booking.`,
        tags: ['bookings'],
        params: IdParams,
        body: bookBody(config.MAX_SEATS_PER_BOOKING),
        response: { 201: HeldBooking, ...problems(400, 404, 409, 413, 415, 429, 503) },
      },
    },
    async (request, reply) => {
      const { booking, holdToken } = await bookings.hold(request.params.id, request.body.seats ?? 1);
      return reply
        .code(201)
        .header('location', `/api/bookings/${booking.id}`)
        .send({ ...booking, hold_token: holdToken });
    },
  );
};
