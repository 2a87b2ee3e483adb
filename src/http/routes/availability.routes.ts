import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AvailabilityUpdate, SeatsUpdate } from '../../domain/availability.js';
import { AppError } from '../../errors.js';
import { parsePosition } from '../../repositories/outbox.repository.js';
import type { StreamSink, StreamStart } from '../../services/availability-feed.service.js';
import { IdParams, problems, rateLimited } from '../schemas.js';
import type { RouteContext } from './context.js';

/** How long a browser's EventSource waits before it reconnects (the `retry:` field). */
const RETRY_MS = 2_000;
/**
 * Bytes a stream may have waiting to be sent: a client that reads slower than the show
 * changes is dropped (it reconnects with Last-Event-ID) rather than grow this process's memory.
 */
export const STREAM_BUFFER_LIMIT = 256 * 1024;

const EVENTS = `Server-Sent Events, each with a JSON \`data\`:
- \`availability\` (with an \`id\`, the position to resume from): at connect, then after every change of the show, at most one every SSE_MIN_INTERVAL_MS. A snapshot with \`reset: true\` does not follow from the events before it (an unusable Last-Event-ID, or a changed seat map): read GET /api/shows/{id}/seats again.
- \`seats\` (seated shows, right before the \`availability\` it belongs to): the seats whose state changed, by id, and their state now.
- \`: heartbeat\` comments every SSE_HEARTBEAT_SECONDS.
Resume with the Last-Event-ID header (EventSource sends it when it reconnects) or the last_event_id query parameter: the changes since then follow, or a snapshot with \`reset: true\`. 503 too_many_streams when the process has SSE_MAX_STREAMS open.`;

export const availabilityRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (
  app,
  { shows, availability, config },
) => {
  app.get(
    '/api/shows/:id/availability/stream',
    {
      // A HEAD would open a stream with no body to send it in.
      exposeHeadRoute: false,
      schema: {
        summary: 'Follow the available seats of a show live (Server-Sent Events)',
        description: EVENTS,
        tags: ['shows'],
        params: IdParams,
        headers: Type.Object({
          'last-event-id': Type.Optional(
            Type.String({ description: 'The id of the last event received: resume after it' }),
          ),
        }),
        querystring: Type.Object({
          last_event_id: Type.Optional(
            Type.String({ description: 'As the Last-Event-ID header, for clients that cannot set headers' }),
          ),
        }),
        response: {
          200: {
            description: 'text/event-stream',
            content: {
              'text/event-stream': {
                schema: Type.Union([AvailabilityUpdate, SeatsUpdate], {
                  description:
                    'The data of each event: AvailabilityUpdate for `event: availability`, SeatsUpdate for `event: seats`',
                }),
              },
            },
          },
          ...problems(400, 404, 429, 503),
        },
      },
      // Opening a stream counts against the client's rate limit (events sent on it do not), so
      // one client cannot take every one of the process's SSE_MAX_STREAMS at once.
      config: rateLimited,
    },
    async (request, reply) => {
      const given = request.headers['last-event-id'] ?? request.query.last_event_id;
      const start: StreamStart = given === undefined ? null : (parsePosition(given.trim()) ?? 'invalid');
      if (availability.size >= config.SSE_MAX_STREAMS) {
        throw new AppError('too_many_streams', `At most ${config.SSE_MAX_STREAMS} streams per process; retry later`);
      }
      await shows.get(request.params.id); // 404 show_not_found

      // From here the stream is written by hand: Fastify's reply (and its onSend hooks) is done.
      void reply.hijack();
      const response = reply.raw;
      const headers: OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) headers[name] = value;
      response.writeHead(200, {
        ...headers, // the security headers and X-Request-Id, set on every answer
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        // nginx: pass each event on as it comes.
        'x-accel-buffering': 'no',
      });
      // The stream is quiet between heartbeats: the connection timeout is for requests.
      request.raw.socket?.setTimeout(0);
      response.on('error', () => {}); // a reset connection ends in 'close'
      response.write(`retry: ${RETRY_MS}\n\n`);
      const sink: StreamSink = {
        write(frames) {
          if (response.destroyed || response.writableEnded) return;
          if (response.writableLength > STREAM_BUFFER_LIMIT) {
            response.destroy();
            return;
          }
          response.write(frames);
        },
        end() {
          if (!response.writableEnded) response.end();
        },
        get closed() {
          return response.destroyed || response.writableEnded;
        },
      };
      const unsubscribe = availability.subscribe(request.params.id, start, sink);
      // A client that left while the show was looked up closed the response already: its
      // 'close' has fired, and no listener added now would ever run.
      if (response.destroyed) unsubscribe();
      else response.once('close', unsubscribe);
    },
  );
};
