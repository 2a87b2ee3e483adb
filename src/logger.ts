import type { FastifyBaseLogger } from 'fastify';
import { pino, type DestinationStream } from 'pino';
import type { Config } from './config.js';

/** The logger services take: Fastify's request-aware one in the API, plain pino in the worker. */
export type Logger = FastifyBaseLogger;

type LoggerConfig = Pick<Config, 'LOG_LEVEL'> & Partial<Pick<Config, 'LOG_FORMAT' | 'NODE_ENV'>>;

// Secrets that must never reach a log, wherever a serializer might put a request's headers.
const SECRET_PATHS = [
  'req.headers.authorization',
  'req.headers["x-hold-token"]',
  'req.headers["idempotency-key"]',
  'headers.authorization',
  'headers["x-hold-token"]',
  'headers["idempotency-key"]',
];

/**
 * JSON lines in production; pretty-printed (pino-pretty) in development on a terminal.
 * LOG_FORMAT=json or pretty overrides. `destination` is for tests that read the log.
 */
export function createLogger(config: LoggerConfig, name: string, destination?: DestinationStream): Logger {
  const options = { level: config.LOG_LEVEL, name, redact: { paths: SECRET_PATHS, censor: '[redacted]' } };
  if (destination) return pino(options, destination);
  const format = config.LOG_FORMAT ?? 'auto';
  const pretty =
    format === 'pretty' || (format === 'auto' && config.NODE_ENV === 'development' && process.stdout.isTTY === true);
  if (!pretty) return pino(options);
  return pino({
    ...options,
    transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } },
  });
}
