import { existsSync, readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import { envSchema } from 'env-schema';
import { Type, type Static } from 'typebox';
import { isCurrency } from './domain/ticket-types.js';

/**
 * Every key the service reads from the environment, with its default.
 * `.env.example` lists the same keys; a test keeps the two (and docker-compose) in step.
 */
const ConfigSchema = Type.Object({
  NODE_ENV: Type.Enum(['development', 'production', 'test'], { default: 'development' }),
  HOST: Type.String({ default: '127.0.0.1', minLength: 1 }),
  PORT: Type.Integer({ default: 3000, minimum: 0, maximum: 65535 }),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
  // auto: pretty-printed in development on a terminal, JSON lines otherwise.
  LOG_FORMAT: Type.Enum(['auto', 'json', 'pretty'], { default: 'auto' }),
  // Unset: an embedded PostgreSQL is started with its data under DATA_DIR.
  DATABASE_URL: Type.Optional(Type.String({ minLength: 1 })),
  DB_POOL_SIZE: Type.Integer({ default: 10, minimum: 2, maximum: 200 }),
  // Longest a statement waits for a row lock (a show held by a stuck transaction): then 503.
  DB_LOCK_TIMEOUT_MS: Type.Integer({ default: 5000, minimum: 1, maximum: 600000 }),
  // Longest one statement runs, and longest a transaction may sit idle between statements.
  DB_STATEMENT_TIMEOUT_MS: Type.Integer({ default: 15000, minimum: 1, maximum: 3600000 }),
  // Unset: no BullMQ; the API process runs the expiry sweep and sends webhooks itself.
  REDIS_URL: Type.Optional(Type.String({ minLength: 1 })),
  // Prefix of every BullMQ key, so several deployments (or test runs) can share one Redis.
  QUEUE_PREFIX: Type.String({ default: 'seat-hold', minLength: 1, pattern: '^[A-Za-z0-9_.-]+$' }),
  DATA_DIR: Type.String({ default: './.data', minLength: 1 }),
  // The built web app (npm run build) served at / and /admin; unset: dist/web of this package.
  WEB_DIR: Type.Optional(Type.String({ minLength: 1 })),
  // Unset: generated once and kept in DATA_DIR (refused when NODE_ENV=production).
  ADMIN_API_KEY: Type.Optional(Type.String({ minLength: 16 })),
  // A Bearer token that may read GET /metrics (and nothing else), for Prometheus; unset: the admin key only.
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  // The worker's GET /metrics listener (on HOST); 0: none.
  WORKER_METRICS_PORT: Type.Integer({ default: 0, minimum: 0, maximum: 65535 }),
  HOLD_TTL_SECONDS: Type.Integer({ default: 120, minimum: 1, maximum: 86400 }),
  // An extended hold never lasts beyond created_at + this (POST /api/bookings/:id/extend).
  // Unset: 600, or HOLD_TTL_SECONDS if that is longer.
  HOLD_MAX_LIFETIME_SECONDS: Type.Optional(Type.Integer({ minimum: 1, maximum: 86400 })),
  MAX_SEATS_PER_BOOKING: Type.Integer({ default: 10, minimum: 1, maximum: 1000 }),
  // The currency of a show created without one (ISO 4217).
  DEFAULT_CURRENCY: Type.String({ default: 'EUR', pattern: '^[A-Z]{3}$' }),
  SWEEP_INTERVAL_SECONDS: Type.Integer({ default: 5, minimum: 1, maximum: 3600 }),
  // Upper bound on how many waiting holds for one show share one transaction.
  HOLD_GROUP_MAX: Type.Integer({ default: 256, minimum: 1, maximum: 10000 }),
  // Hold statements in flight at once per API process (at most half of DB_POOL_SIZE); the groups of
  // other shows that become ready meanwhile share the next one (one commit for all of them).
  HOLD_STATEMENTS_MAX: Type.Integer({ default: 2, minimum: 1, maximum: 100 }),
  // Requests waiting per show in one API process; beyond it 503 with Retry-After, at once.
  HOLD_QUEUE_MAX: Type.Integer({ default: 10000, minimum: 1, maximum: 1000000 }),
  // GET /api/shows, /api/shows/:id and /seats are answered from memory until their show changes, at most
  // this long (the bound for a change another process made that this one has not read); 0: every read
  // goes to the database.
  SHOW_CACHE_MAX_AGE_MS: Type.Integer({ default: 1000, minimum: 0, maximum: 60000 }),
  // How often each API process reads which shows the outbox says changed, to read their answers again.
  SHOW_CHANGES_POLL_MS: Type.Integer({ default: 100, minimum: 10, maximum: 60000 }),
  // Longest to receive a request, and to wait in a show's queue; then 408 or 503, nothing held.
  REQUEST_TIMEOUT_MS: Type.Integer({ default: 10000, minimum: 100, maximum: 600000 }),
  BODY_LIMIT_BYTES: Type.Integer({ default: 16384, minimum: 1024, maximum: 10485760 }),
  SHUTDOWN_TIMEOUT_SECONDS: Type.Integer({ default: 10, minimum: 1, maximum: 600 }),
  // Live availability (GET /api/shows/:id/availability/stream): at most one update per show this often.
  SSE_MIN_INTERVAL_MS: Type.Integer({ default: 250, minimum: 10, maximum: 60000 }),
  // A comment line on every open stream this often, so proxies keep idle streams open.
  SSE_HEARTBEAT_SECONDS: Type.Integer({ default: 15, minimum: 1, maximum: 3600 }),
  // Open streams per API process; beyond it 503 with Retry-After.
  SSE_MAX_STREAMS: Type.Integer({ default: 10000, minimum: 1, maximum: 1000000 }),
  // Webhook URLs on loopback, link-local and private networks are refused unless this is true.
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: Type.Boolean({ default: false }),
  // A delivery succeeds on a 2xx answer within this long.
  WEBHOOK_TIMEOUT_MS: Type.Integer({ default: 10000, minimum: 100, maximum: 60000 }),
  // A failing delivery is retried (exponential backoff with jitter) for this long, then marked failed.
  WEBHOOK_RETRY_WINDOW_SECONDS: Type.Integer({ default: 90000, minimum: 1, maximum: 2592000 }),
  // The first retry's delay; each next one doubles, up to WEBHOOK_RETRY_MAX_DELAY_SECONDS.
  WEBHOOK_RETRY_BASE_MS: Type.Integer({ default: 5000, minimum: 1, maximum: 3600000 }),
  WEBHOOK_RETRY_MAX_DELAY_SECONDS: Type.Integer({ default: 3600, minimum: 1, maximum: 86400 }),
  // Deliveries one worker sends at once, and at most this many of them to any one endpoint.
  WEBHOOK_CONCURRENCY: Type.Integer({ default: 32, minimum: 1, maximum: 1000 }),
  WEBHOOK_ENDPOINT_CONCURRENCY: Type.Integer({ default: 4, minimum: 1, maximum: 1000 }),
  // How often the relay looks for new events in the outbox.
  OUTBOX_RELAY_INTERVAL_MS: Type.Integer({ default: 200, minimum: 10, maximum: 60000 }),
  // Events are kept this long (and while a delivery of theirs is pending), then purged.
  OUTBOX_RETENTION_HOURS: Type.Integer({ default: 72, minimum: 1, maximum: 8760 }),
  // Requests per client per window on the booking and admin routes; 0 turns limiting off.
  RATE_LIMIT_MAX: Type.Integer({ default: 100, minimum: 0, maximum: 1000000 }),
  RATE_LIMIT_WINDOW_SECONDS: Type.Integer({ default: 60, minimum: 1, maximum: 86400 }),
  // Whose X-Forwarded-For to believe: false, true (any), a hop count, or comma-separated proxy IPs/CIDRs.
  TRUST_PROXY: Type.String({ default: 'false', minLength: 1 }),
  // Comma-separated browser origins allowed by CORS ("*" for any); unset allows none.
  CORS_ORIGINS: Type.Optional(Type.String({ minLength: 1 })),
});

export type Config = Static<typeof ConfigSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Reads and checks the environment once; throws ConfigError naming the bad key.
 * A `.env` file in the working directory, if present, fills in keys the environment leaves unset.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, dotenvPath = '.env'): Config {
  const fromFile = existsSync(dotenvPath) ? parseDotenv(readFileSync(dotenvPath)) : {};
  // Empty strings mean "unset" (docker-compose and shells often pass KEY= for optional keys).
  const data = Object.fromEntries(
    Object.entries({ ...fromFile, ...env }).filter(([, value]) => value !== undefined && value !== ''),
  );
  let config: Config;
  try {
    config = envSchema<Config>({ schema: ConfigSchema, data, env: false, dotenv: false });
  } catch (error) {
    throw new ConfigError(`Invalid configuration: ${(error as Error).message}`);
  }
  if (config.HOLD_MAX_LIFETIME_SECONDS !== undefined && config.HOLD_MAX_LIFETIME_SECONDS < config.HOLD_TTL_SECONDS) {
    throw new ConfigError('Invalid configuration: HOLD_MAX_LIFETIME_SECONDS must be at least HOLD_TTL_SECONDS');
  }
  if (config.SHOW_CACHE_MAX_AGE_MS > 0 && config.SHOW_CHANGES_POLL_MS >= config.SHOW_CACHE_MAX_AGE_MS) {
    throw new ConfigError(
      'Invalid configuration: SHOW_CHANGES_POLL_MS must be less than SHOW_CACHE_MAX_AGE_MS (or SHOW_CACHE_MAX_AGE_MS=0)',
    );
  }
  if (!isCurrency(config.DEFAULT_CURRENCY)) {
    throw new ConfigError(
      `Invalid configuration: DEFAULT_CURRENCY ${config.DEFAULT_CURRENCY} is not an ISO 4217 code in use`,
    );
  }
  if (config.NODE_ENV === 'production' && config.ADMIN_API_KEY === undefined) {
    throw new ConfigError('Invalid configuration: ADMIN_API_KEY is required when NODE_ENV=production');
  }
  return config;
}

/** How long an extended hold may last from its creation (HOLD_MAX_LIFETIME_SECONDS, or its default). */
export function holdMaxLifetimeSeconds(config: Config): number {
  return config.HOLD_MAX_LIFETIME_SECONDS ?? Math.max(600, config.HOLD_TTL_SECONDS);
}

/**
 * The longest a request the service still answers can take: its wait in a show's queue
 * (REQUEST_TIMEOUT_MS), then a lock wait and up to three statements (waiting for a shared
 * statement, its own, a retry alone). Idempotency-Key claims outlive it (a retry cannot take
 * over a request still running), and idle connections are closed only past it.
 */
export function longestRequestMs(config: Config): number {
  return config.REQUEST_TIMEOUT_MS + config.DB_LOCK_TIMEOUT_MS + 3 * config.DB_STATEMENT_TIMEOUT_MS;
}

/** TRUST_PROXY as Fastify's trustProxy option. */
export function trustProxy(config: Config): boolean | string[] | ((address: string, hop: number) => boolean) {
  const value = config.TRUST_PROXY.trim();
  if (value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return (_address, hop) => hop < hops;
  }
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}

/** CORS_ORIGINS as @fastify/cors's origin option: false (no cross-origin access), true (any), or a list. */
export function corsOrigins(config: Config): boolean | string[] {
  const origins = (config.CORS_ORIGINS ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  if (origins.length === 0) return false;
  return origins.includes('*') ? true : origins;
}

/** The documented default of every key (undefined for keys that are unset by default). */
export function configDefaults(): Record<keyof Config, unknown> {
  const properties = ConfigSchema.properties as Record<keyof Config, { default?: unknown }>;
  return Object.fromEntries(Object.entries(properties).map(([key, schema]) => [key, schema.default])) as Record<
    keyof Config,
    unknown
  >;
}
