import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { registerAjvFormats } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyHttpOptions, type FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { corsOrigins, longestRequestMs, trustProxy, type Config } from '../config.js';
import { WebhookEvent } from '../domain/events.js';
import { AppError } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Services } from '../composition-root.js';
import { Authenticator } from './auth.js';
import { IdempotencyHttp } from './idempotency.js';
import { securityHeaders } from './security-headers.js';
import { webRoutes } from './web.js';
import { sendProblem, toProblem } from './problem.js';
import { optionalBodies, validatorCompiler } from './schemas.js';
import { bookingRoutes } from './routes/bookings.routes.js';
import { adminRoutes } from './routes/admin.routes.js';
import type { Readiness, RouteContext } from './routes/context.js';
import { healthRoutes } from './routes/health.routes.js';
import { metricsRoutes } from './routes/metrics.routes.js';
import { registerQueueBoard } from './routes/queues.routes.js';
import { showRoutes } from './routes/shows.routes.js';
import { webhookRoutes } from './routes/webhooks.routes.js';
import { availabilityRoutes } from './routes/availability.routes.js';

export interface AppDependencies {
  config: Config;
  services: Services;
  adminApiKey: string;
  /** What /health/ready probes: the database, and Redis when it is configured. */
  readiness: Readiness;
  /** What GET /metrics exposes (the registry the services report to). */
  metrics: Metrics;
  /** BullMQ queues shown (read-only) at /admin/queues; none without Redis. */
  queues?: Queue[] | undefined;
  /** Where rate-limit counters live, so limits hold across processes; in memory without. */
  rateLimitRedis?: Redis | undefined;
  /** Defaults to a pino logger at LOG_LEVEL. */
  logger?: Logger;
}

/**
 * What the service POSTs to webhook endpoints, as OpenAPI 3.1 `webhooks`. (The swagger plugin's
 * types know only 3.0 schemas, which a TypeBox union is not: hence the cast.)
 */
const webhookDocs = {
  event: {
    post: {
      summary: 'An event, POSTed to each endpoint subscribed to its type',
      description:
        'Signed per Standard Webhooks: webhook-id (the event id, the same on every retry: deduplicate by it), webhook-timestamp (Unix seconds), webhook-signature (v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">). Answer 2xx within WEBHOOK_TIMEOUT_MS; anything else (a redirect included) is retried with exponential backoff and jitter for WEBHOOK_RETRY_WINDOW_SECONDS.',
      parameters: ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((name) => ({
        name,
        in: 'header' as const,
        required: true,
        schema: { type: 'string' as const },
      })),
      requestBody: { required: true, content: { 'application/json': { schema: WebhookEvent } } },
      responses: { 200: { description: 'Any 2xx acknowledges the event' } },
    },
  },
} as unknown as Record<string, never>;

const REQUEST_ID = /^[\w.:-]{1,128}$/;

registerAjvFormats();

export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const { config, services } = deps;
  // Security headers for a JSON API (OWASP REST cheat sheet): nothing may be framed, run or
  // loaded from an answer; HSTS; nosniff; no referrer. Headers that only matter for HTML
  // documents are left out, as each one is written on every answer.
  const secureHeaders = securityHeaders({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    frameguard: { action: 'deny' },
    crossOriginOpenerPolicy: false,
    originAgentCluster: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
  });
  const options: FastifyHttpOptions<Server> = {
    loggerInstance: deps.logger ?? createLogger(config, 'api'),
    // One line per request, written when it is answered (below), instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.BODY_LIMIT_BYTES,
    // A client trickling its request (slowloris) is answered 408 and closed: no socket is
    // held forever. Node checks every connectionsCheckingInterval.
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    http: { headersTimeout: config.REQUEST_TIMEOUT_MS, connectionsCheckingInterval: 1_000 },
    // A connection silent both ways for longer than any request the service would still
    // answer is closed.
    connectionTimeout: longestRequestMs(config),
    trustProxy: trustProxy(config),
    // Take a caller's X-Request-Id when it is sane, so one id follows a request across services.
    requestIdHeader: false,
    // Errors Fastify raises before routing (a malformed URL) get the same problem+json.
    frameworkErrors: (error, request, reply) => {
      void sendProblem(reply.headers(secureHeaders), toProblem(error, request));
    },
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  };
  const app = Fastify(options);
  app.setValidatorCompiler(validatorCompiler);

  // JSON bodies: an empty body is no body (POST /book with none holds one seat), and
  // prototype-poisoning keys are refused.
  // Only JSON is spoken: any other content type is 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch {
      done(new AppError('invalid_json', 'The request body is not valid JSON'), undefined);
    }
  });

  app.addHook('onRequest', (request, reply, done) => {
    void reply.headers(secureHeaders).header('x-request-id', request.id);
    done();
  });

  const logRequests = ['info', 'debug', 'trace'].includes(config.LOG_LEVEL);
  // When a request is answered: one metrics observation (route pattern, method, status,
  // duration) and one log line with the same and the show or booking it touched. Never a
  // header, body or query string: that is where secrets travel.
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    deps.metrics.requestAnswered(route, request.method, reply.statusCode, seconds);
    if (logRequests) {
      const id = (request.params as { id?: unknown } | undefined)?.id;
      const touched =
        typeof id === 'string' ? { [route.startsWith('/api/bookings/') ? 'booking_id' : 'show_id']: id } : {};
      request.log.info(
        { method: request.method, route, status: reply.statusCode, ms: Math.round(seconds * 10_000) / 10, ...touched },
        'request',
      );
    }
    done();
  });

  app.setErrorHandler((error, request, reply) => {
    const problem = toProblem(error as Error, request);
    // AppErrors are answers the code chose (and logged where they arose); anything else is a fault.
    if (problem.status >= 500 && !(error instanceof AppError)) request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, problem);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      toProblem(new AppError('not_found', `No route for ${request.method} ${request.url.split('?')[0]}`), request),
    ),
  );

  // CORS is closed unless CORS_ORIGINS lists origins: without the plugin no answer carries
  // Access-Control-* headers, so browsers refuse every cross-origin call.
  const origins = corsOrigins(config);
  if (origins !== false) {
    await app.register(cors, {
      origin: origins,
      methods: ['GET', 'POST'],
      allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-hold-token', 'x-request-id'],
      exposedHeaders: ['location', 'link', 'retry-after', 'idempotent-replayed', 'x-request-id'],
      maxAge: 600,
    });
  }
  if (config.RATE_LIMIT_MAX > 0) {
    // Only routes that opt in (config.rateLimit: the booking and admin routes) are limited.
    await app.register(rateLimit, {
      global: false,
      max: config.RATE_LIMIT_MAX,
      timeWindow: config.RATE_LIMIT_WINDOW_SECONDS * 1000,
      ...(deps.rateLimitRedis ? { redis: deps.rateLimitRedis, nameSpace: `${config.QUEUE_PREFIX}:rate-limit:` } : {}),
      // Redis unreachable: serve rather than refuse; limiting resumes when it is back.
      skipOnError: true,
      errorResponseBuilder: (_request, context) =>
        new AppError(
          'rate_limited',
          `At most ${context.max} requests per ${context.after}; retry after Retry-After seconds`,
        ),
    });
  }

  await app.register(swagger, {
    transformObject: (document) =>
      'openapiObject' in document ? optionalBodies(document.openapiObject) : document.swaggerObject,
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'seat-hold',
        version: '0.1.0',
        description:
          'Ticket booking: shows, seat holds (PENDING for HOLD_TTL_SECONDS), confirmation, cancellation. Errors are application/problem+json with a stable `code`.',
      },
      tags: [
        { name: 'shows', description: 'Shows and their seats' },
        { name: 'bookings', description: 'Holds, confirmation and cancellation' },
        { name: 'health', description: 'Liveness and readiness' },
        {
          name: 'webhooks',
          description:
            'Signed webhooks (Standard Webhooks): endpoints, their delivery log, pings and resends. Every delivery body is a WebhookEvent.',
        },
      ],
      webhooks: webhookDocs,
      components: {
        securitySchemes: {
          adminKey: { type: 'http', scheme: 'bearer', description: 'ADMIN_API_KEY' },
          holdToken: {
            type: 'apiKey',
            in: 'header',
            name: 'X-Hold-Token',
            description: 'The hold_token returned when the seats were held',
          },
        },
      },
    },
  });
  // Swagger UI sets its own Content-Security-Policy (hashes of its inline scripts) over helmet's.
  await app.register(swaggerUi, { routePrefix: '/api-docs', staticCSP: true });

  const auth = new Authenticator(deps.adminApiKey, config.METRICS_TOKEN);
  const idempotency = new IdempotencyHttp(services.idempotency, auth);
  idempotency.register(app);
  const context: RouteContext = {
    config,
    shows: services.shows,
    bookings: services.bookings,
    webhooks: services.webhooks,
    house: services.house,
    availability: services.availability,
    auth,
    idempotency,
    readiness: deps.readiness,
    metrics: deps.metrics,
  };
  await app.register(healthRoutes, context);
  await app.register(showRoutes, context);
  await app.register(availabilityRoutes, context);
  // Open streams end when the app closes, so that close() does not wait for them (a root
  // hook: Fastify runs only the root instance's preClose hooks).
  app.addHook('preClose', async () => {
    services.showChanges?.close();
    await services.availability.close();
  });
  await app.register(bookingRoutes, context);
  await app.register(adminRoutes, context);
  await app.register(webhookRoutes, context);
  await app.register(metricsRoutes, context);
  await webRoutes(app, config);
  if (deps.queues && deps.queues.length > 0) await registerQueueBoard(app, deps.queues, deps.adminApiKey);
  return app;
}
