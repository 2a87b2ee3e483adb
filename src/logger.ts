import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import type { Config } from './config.js';

/** The logger services take: Fastify's request-aware one in the API, plain pino in the worker. */
export type Logger = FastifyBaseLogger;

export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, name: string): Logger {
  return pino({ level: config.LOG_LEVEL, name });
}
