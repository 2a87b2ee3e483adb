import closeWithGrace from 'close-with-grace';
import type { Config } from './config.js';
import { createPool, poolLimits } from './adapters/postgres/pool.js';
import { buildApp } from './http/app.js';
import { createLogger } from './logger.js';
import { createExpiryQueue, ExpiryScheduler } from './jobs/expiry.queue.js';
import { producerConnection } from './adapters/redis.js';
import { openDatabase, resolveAdminKey, runEntryPoint } from './runtime.js';
import { createMetrics } from './metrics.js';
import { createServices } from './composition-root.js';
import { createWebhookQueue, WebhookScheduler } from './jobs/webhook.queue.js';
import { InProcessWebhooks } from './jobs/webhook.loop.js';
import { InProcessHousekeeping } from './jobs/housekeeping.loop.js';

async function main(config: Config): Promise<void> {
  const logger = createLogger(config, 'api');
  const database = await openDatabase(config, logger);
  const pool = createPool(database.url, poolLimits(config), logger);
  const adminKey = resolveAdminKey(config);

  // With Redis, each hold group's deadline is covered by a BullMQ expiry job (one per show per
  // 500 ms bucket) and `npm run worker` runs them.
  // Without, this process sweeps overdue holds itself; holds stop counting at their
  // deadline either way, the sweep only turns their status into EXPIRED.
  const redis = config.REDIS_URL ? producerConnection(config.REDIS_URL) : undefined;
  redis?.on('error', () => {}); // reported through readiness and the scheduler's log
  const queue = redis ? createExpiryQueue(redis, config.QUEUE_PREFIX) : undefined;
  const scheduler = queue ? new ExpiryScheduler(queue, logger) : undefined;
  // Webhooks: with Redis, the worker relays the outbox and sends; this process only queues the
  // deliveries its routes make due (a ping, a resend). Without, it does everything itself.
  const webhookQueue = redis ? createWebhookQueue(redis, config.QUEUE_PREFIX) : undefined;
  const webhookScheduler = webhookQueue ? new WebhookScheduler(webhookQueue, logger) : undefined;
  let inProcessWebhooks: InProcessWebhooks | undefined;
  const metrics = createMetrics('api');
  if (queue) metrics.watchQueue(() => queue.getJobCounts('waiting', 'delayed', 'active', 'failed'));
  const services = createServices({
    config,
    pool,
    logger,
    metrics,
    onHoldGroupCommitted: scheduler?.schedule.bind(scheduler),
    onWebhookDeliveries: (deliveries) => {
      if (webhookScheduler) void webhookScheduler.schedule(deliveries);
      else inProcessWebhooks?.schedule(deliveries);
    },
  });
  if (!redis) {
    inProcessWebhooks = new InProcessWebhooks(services.webhookRelay, services.webhookDelivery, {
      intervalMs: config.OUTBOX_RELAY_INTERVAL_MS,
      concurrency: config.WEBHOOK_CONCURRENCY,
      logger,
    });
    inProcessWebhooks.start();
  }
  const inProcessHousekeeping = redis
    ? undefined
    : new InProcessHousekeeping(services.housekeeping, { intervalMs: config.SWEEP_INTERVAL_SECONDS * 1000, logger });
  inProcessHousekeeping?.start();

  const app = await buildApp({
    config,
    services,
    adminApiKey: adminKey.key,
    logger,
    readiness: { database: () => pool.query('SELECT 1'), ...(redis ? { redis: () => redis.ping() } : {}) },
    rateLimitRedis: redis,
    metrics,
    queues: queue && webhookQueue ? [queue, webhookQueue] : [],
  });

  closeWithGrace({ delay: config.SHUTDOWN_TIMEOUT_SECONDS * 1000 }, async ({ signal, err }) => {
    // A clean stop prints one line, once everything has stopped; an error is logged whole.
    if (err) logger.error({ err }, 'shutting down after an uncaught error');
    await app.close(); // stops accepting, waits for in-flight requests
    inProcessHousekeeping?.stop();
    await inProcessWebhooks?.stop();
    await queue?.close();
    await webhookQueue?.close();
    redis?.disconnect();
    await pool.end();
    await database.stop(); // the embedded PostgreSQL, last; nothing for DATABASE_URL
    if (!err) logger.info(signal ? `stopped (${signal})` : 'stopped');
  });
  database.handOverSignals(); // from here on, the shutdown above stops the embedded PostgreSQL, last

  const address = await app.listen({ host: config.HOST, port: config.PORT });
  const lines = [
    `seat-hold API listening on ${address}`,
    `  web app:   ${address}/ (storefront), ${address}/admin (box office)`,
    `  API docs:  ${address}/api-docs`,
    `  database:  ${database.embedded ? 'embedded PostgreSQL' : 'DATABASE_URL'}`,
    `  expiry:    ${redis ? 'BullMQ jobs (run `npm run worker`)' : `in-process sweep every ${config.SWEEP_INTERVAL_SECONDS}s`}`,
    `  webhooks:  ${redis ? 'sent by `npm run worker` (BullMQ)' : 'sent by this process'}`,
    adminKey.file ? `  admin key: ${adminKey.key}  (kept in ${adminKey.file})` : '  admin key: from ADMIN_API_KEY',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

await runEntryPoint('Start-up', main);
