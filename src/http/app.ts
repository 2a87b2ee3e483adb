import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { registerAjvFormats, TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import secureJson from 'secure-json-parse';
import type { Redis } from 'ioredis';
import { corsOrigins, trustProxy, type Config } from '../config.js';
import type { Pool } from '../db/pool.js';
import { AppError } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import { BookingRepository } from '../repositories/booking.repository.js';
import { ShowRepository } from '../repositories/show.repository.js';
import { BookingService } from '../services/booking.service.js';
import { HoldEngine, type GroupCommitted } from '../services/hold-engine.js';
import { ShowService } from '../services/show.service.js';
import { IdempotencyRepository } from '../repositories/idempotency.repository.js';
import { IdempotencyService } from '../services/idempotency.service.js';
import { Authenticator } from './auth.js';
import { IdempotencyHttp } from './idempotency.js';
import { securityHeaders } from './security-headers.js';
import { sendProblem, toProblem } from './problem.js';
import { bookingRoutes } from './routes/bookings.js';
import { healthRoutes } from './routes/health.js';
import { showRoutes } from './routes/shows.js';

export interface AppDependencies {
  config: Config;
  pool: Pool;
  adminApiKey: string;
  /** Called after each committed hold group; schedules its expiry (BullMQ) or nothing. */
  onHoldGroupCommitted?: GroupCommitted;
  /** Readiness probe of Redis, when Redis is configured. */
  pingRedis?: () => Promise<unknown>;
  /** Where rate-limit counters live, so limits hold across processes; in memory without. */
  rateLimitRedis?: Redis;
  /** Defaults to a pino logger at LOG_LEVEL. */
  logger?: Logger;
}

/** What the route plugins receive. */
export interface AppServices {
  config: Config;
  pool: Pool;
  shows: ShowService;
  bookings: BookingService;
  auth: Authenticator;
  idempotency: IdempotencyHttp;
  pingRedis?: () => Promise<unknown>;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

registerAjvFormats();

export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const { config, pool } = deps;
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
  const options: FastifyServerOptions = {
    loggerInstance: deps.logger ?? createLogger(config, 'api'),
    bodyLimit: config.BODY_LIMIT_BYTES,
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
  app.setValidatorCompiler(TypeBoxValidatorCompiler);

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
      ],
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

  const shows = new ShowRepository(pool);
  const bookings = new BookingRepository(pool);
  const idempotency = new IdempotencyService(new IdempotencyRepository(pool));
  const auth = new Authenticator(deps.adminApiKey);
  const idempotencyHttp = new IdempotencyHttp(idempotency, auth);
  idempotencyHttp.register(app);
  const engine = new HoldEngine({
    pool,
    shows,
    bookings,
    idempotency,
    holdTtlSeconds: config.HOLD_TTL_SECONDS,
    maxGroupSize: config.HOLD_GROUP_MAX,
    onGroupCommitted: deps.onHoldGroupCommitted ?? (() => {}),
    logger: app.log,
  });
  const services: AppServices = {
    config,
    pool,
    shows: new ShowService(pool, shows, idempotency),
    bookings: new BookingService(pool, shows, bookings, engine, idempotency),
    auth,
    idempotency: idempotencyHttp,
    ...(deps.pingRedis ? { pingRedis: deps.pingRedis } : {}),
  };
  await app.register(healthRoutes, services);
  await app.register(showRoutes, services);
  await app.register(bookingRoutes, services);
  return app;
}
