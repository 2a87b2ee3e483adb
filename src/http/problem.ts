import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  AppError,
  isDatabaseDataError,
  isTransientDatabaseError,
  problemCatalog,
  problemType,
  type Problem,
  type ProblemCode,
} from '../errors.js';

// Client errors Fastify raises itself (body too large, content type, bad URL…), by status.
// Invalid JSON never gets here as a Fastify error: our JSON parser throws AppError.
const byStatus: Partial<Record<number, ProblemCode>> = {
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

function problem(code: ProblemCode, detail: string, request: FastifyRequest, extra: object = {}): Problem {
  const { status, title } = problemCatalog[code];
  return {
    type: problemType(code),
    title,
    status,
    detail,
    code,
    instance: request.url.split('?')[0],
    request_id: request.id,
    ...extra,
  };
}

/** Maps any error to a problem. Only AppError and client (4xx) errors reveal their text. */
export function toProblem(error: FastifyError | AppError | Error, request: FastifyRequest): Problem {
  if (error instanceof AppError) return problem(error.code, error.message, request, error.extra);
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const context = fastifyError.validationContext ?? 'request';
    const errors = fastifyError.validation.map((issue) => ({
      path: `${context}${issue.instancePath || ''}`,
      message: issue.message ?? 'is not valid',
    }));
    const detail = errors.map((issue) => `${issue.path} ${issue.message}`).join('; ');
    return problem('validation_failed', detail, request, { errors });
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Fastify's own client-error messages are safe to show.
    return problem(byStatus[status] ?? 'bad_request', fastifyError.message, request);
  }
  if (isDatabaseDataError(error)) {
    // PostgreSQL refused a value the validators let through: still the client's input, never a 5xx.
    return problem('validation_failed', 'A value in the request is not valid', request);
  }
  if (isTransientDatabaseError(error)) {
    return problem('service_unavailable', 'The database is unavailable; retry shortly', request);
  }
  return problem('internal_error', 'An unexpected error occurred', request);
}

export function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  if (body.status === 401) void reply.header('www-authenticate', 'Bearer');
  if (body.status === 503 || body.code === 'idempotency_in_progress') void reply.header('retry-after', '1');
  return reply.code(body.status).type('application/problem+json').send(body);
}
