import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import type { Answer, IdempotencyClaim, IdempotencyService, Recorder } from '../services/idempotency.service.js';
import type { Authenticator } from './auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when the request carries an Idempotency-Key it claimed. */
    idempotencyClaim: IdempotencyClaim | null;
  }
}

// 1 to 255 printable ASCII characters.
const VALID_KEY = /^[\x20-\x7e]{1,255}$/;

/**
 * Idempotency-Key support for the routes that change things. `claim` is their preHandler
 * (after authentication) and `settle` their onSend hook; `recorder` hands the claim to the
 * service so that the answer is recorded with the effect.
 */
export class IdempotencyHttp {
  constructor(
    private readonly service: IdempotencyService,
    private readonly auth: Authenticator,
  ) {}

  register(app: FastifyInstance): void {
    app.decorateRequest('idempotencyClaim', null);
  }

  /**
   * onSend hook of the same routes: an answer that was not recorded with an effect is
   * recorded now if final, or the key released if worth retrying. A callback hook, so
   * requests without a key pay no promise.
   */
  settle = (
    request: FastifyRequest,
    reply: FastifyReply,
    payload: unknown,
    done: (error: null, payload: unknown) => void,
  ): void => {
    const claim = request.idempotencyClaim;
    if (!claim || claim.recorded || typeof payload !== 'string') return done(null, payload);
    const location = reply.getHeader('location');
    this.service
      .settle(claim, reply.statusCode, payload, typeof location === 'string' ? location : undefined)
      // Unrecorded, the key stays claimed until its lease ends; a retry then runs again.
      .catch((error: unknown) => request.log.warn({ err: error }, 'could not settle the Idempotency-Key'))
      .finally(() => done(null, payload));
  };

  claim = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const header = request.headers['idempotency-key'];
    if (header === undefined) return undefined;
    if (typeof header !== 'string' || !VALID_KEY.test(header)) {
      throw new AppError('invalid_idempotency_key', 'Idempotency-Key must be 1 to 255 printable ASCII characters');
    }
    // Only a body the route reads (checked by its schema) can make two requests differ;
    // confirm, extend and cancel ignore whatever body is sent.
    const readBody = request.routeOptions.schema?.body ? request.body : undefined;
    const begun = await this.service.begin(
      { caller: this.auth.scope(request), method: request.method, path: request.url.split('?')[0]!, key: header },
      readBody,
    );
    if (begun.claim) {
      request.idempotencyClaim = begun.claim;
      return undefined;
    }
    const { statusCode, body, location } = begun.replay;
    void reply.code(statusCode).header('idempotent-replayed', 'true');
    if (location) void reply.header('location', location);
    if (statusCode >= 400) void reply.type('application/problem+json');
    return reply.send(body);
  };

  /** The recorder for this request's service call; undefined without an Idempotency-Key. */
  recorder<T>(request: FastifyRequest, answer: (result: T) => Answer): Recorder<T> | undefined {
    const claim = request.idempotencyClaim;
    return claim ? { claim, answer } : undefined;
  }
}

/** Sends an answer as recorded for replay. */
export function sendAnswer(reply: FastifyReply, answer: Answer): FastifyReply {
  if (answer.location) void reply.header('location', answer.location);
  return reply.code(answer.statusCode).send(answer.body);
}
