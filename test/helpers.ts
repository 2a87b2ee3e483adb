import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { DestinationStream } from 'pino';
import pg from 'pg';
import { expect, inject } from 'vitest';
import { loadConfig, type Config } from '../src/config.js';
import { createPool, poolLimits, type Pool } from '../src/adapters/postgres/pool.js';
import { buildApp } from '../src/http/app.js';
import { createLogger } from '../src/logger.js';
import { createMetrics, type Metrics } from '../src/metrics.js';
import { createServices, type Services } from '../src/composition-root.js';
import type { GroupCommitted } from '../src/services/show-lanes/show-lanes.js';
import type { ScheduleDeliveries } from '../src/services/webhook.service.js';
import { databaseUrl } from './global-setup.js';

export const ADMIN_KEY = 'test-admin-key-0123456789';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database for one test file: a copy of the template made in global setup. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject('adminDatabaseUrl');
  // Named after the run's template (seat_hold_template_<pid>_<project>): see global-setup.ts.
  const name = `${inject('templateDatabase').replace('_template_', '_test_')}_${randomBytes(4).toString('hex')}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(`CREATE DATABASE ${name} TEMPLATE ${inject('templateDatabase')}`);
  return {
    url: databaseUrl(adminUrl, name),
    async drop() {
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig(
    {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      ADMIN_API_KEY: ADMIN_KEY,
      DATABASE_URL: 'postgres://unused',
      // Load from one address would trip the limiter; test/api/hardening.test.ts turns it on.
      RATE_LIMIT_MAX: '0',
      // Tests change rows behind the API's back (time moved); test/api/shared-reads.test.ts turns sharing on.
      SHOW_CACHE_MAX_AGE_MS: '0',
      // The API alone, whether or not dist/web was built here; test/api/web.test.ts serves a build.
      WEB_DIR: '/nonexistent/web',
      ...overrides,
    },
    '/nonexistent/.env',
  );
}

export interface TestContext {
  app: FastifyInstance;
  pool: Pool;
  config: Config;
  services: Services;
  database: TestDatabase;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Schedules expiry jobs (BullMQ) for committed hold groups; none by default. */
  onHoldGroupCommitted?: GroupCommitted;
  /** Readiness also probes Redis. */
  pingRedis?: () => Promise<unknown>;
  rateLimitRedis?: Redis;
  /** Where the app's log goes (LOG_LEVEL decides what); nowhere by default. */
  logDestination?: DestinationStream;
  /** BullMQ queues for the dashboard at /admin/queues. */
  queues?: Queue[];
  /** Queues the webhook deliveries routes make due (pings, resends); none by default. */
  onWebhookDeliveries?: ScheduleDeliveries;
}

/** The real app on a fresh database, wired as the server wires it; no Redis unless the test brings it. */
export async function startTestApp(
  overrides: Record<string, string> = {},
  options: TestAppOptions = {},
): Promise<TestContext> {
  const database = await createTestDatabase();
  const config = testConfig({ ...overrides, DATABASE_URL: database.url });
  const pool = createPool(database.url, poolLimits(config));
  const { app, services } = await buildTestApp(config, pool, options);
  return {
    app,
    pool,
    config,
    services,
    database,
    async close() {
      await app.close();
      await pool.end();
      await database.drop();
    },
  };
}

/** The app over a given pool (a second API process on the same database, or a database that is down). */
export async function buildTestApp(
  config: Config,
  pool: Pool,
  options: TestAppOptions = {},
): Promise<{ app: FastifyInstance; services: Services; metrics: Metrics }> {
  const logger = createLogger(config, 'api', options.logDestination);
  const metrics = createMetrics('api');
  const services = createServices({
    config,
    pool,
    logger,
    metrics,
    onHoldGroupCommitted: options.onHoldGroupCommitted,
    onWebhookDeliveries: options.onWebhookDeliveries,
  });
  const app = await buildApp({
    config,
    services,
    adminApiKey: ADMIN_KEY,
    logger,
    readiness: {
      database: () => pool.query('SELECT 1'),
      ...(options.pingRedis ? { redis: options.pingRedis } : {}),
    },
    rateLimitRedis: options.rateLimitRedis,
    metrics,
    queues: options.queues,
  });
  await app.ready();
  return { app, services, metrics };
}

/** A pool for a test to look at its database with: no timeouts, a few connections. */
export function inspectionPool(url: string, max = 4): Pool {
  return createPool(url, { max, lockTimeoutMs: 0, statementTimeoutMs: 0 });
}

/**
 * The value of the sample of `name` in a Prometheus text scrape whose labels include `label`
 * (e.g. `kind="holds"`; any sample of `name` when none is given); 0 when there is none yet.
 */
export function metricValue(text: string, name: string, label = ''): number {
  const line = text.split('\n').find((row) => row.startsWith(`${name}{`) && row.includes(label));
  return line ? Number(line.split(' ').pop()) : 0;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Asserts a problem+json answer with this status and code, and no internals leaked; returns its body. */
export function expectProblem(
  response: { statusCode: number; headers: Record<string, unknown>; json(): any },
  status: number,
  code: string,
) {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json();
  expect(body).toMatchObject({ status, code, type: `urn:seat-hold:problem:${code}` });
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
  expect(JSON.stringify(body)).not.toMatch(/\/work\/|node_modules|\bat .*\.ts:|SELECT|INSERT/);
  return body;
}
