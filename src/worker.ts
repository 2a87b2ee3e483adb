import closeWithGrace from 'close-with-grace';
import { ConfigError, type Config } from './config.js';
import { createPool, poolLimits } from './adapters/postgres/pool.js';
import { migrate } from './adapters/postgres/migrate.js';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { startExpiryWorker } from './jobs/expiry.worker.js';
import { serveWorkerMetrics } from './jobs/worker-metrics.js';
import { startWebhookWorker } from './jobs/webhook.worker.js';
import { runEntryPoint } from './runtime.js';
import { createServices } from './composition-root.js';

async function main(config: Config): Promise<void> {
  if (!config.DATABASE_URL || !config.REDIS_URL) {
    throw new ConfigError(
      'The worker needs DATABASE_URL and REDIS_URL. Without Redis, `npm start` expires holds in-process and no worker is needed.',
    );
  }
  const metricsTokens = [config.ADMIN_API_KEY, config.METRICS_TOKEN].filter((token) => token !== undefined);
  if (config.WORKER_METRICS_PORT > 0 && metricsTokens.length === 0) {
    throw new ConfigError('WORKER_METRICS_PORT needs ADMIN_API_KEY or METRICS_TOKEN: metrics are never public.');
  }
  const logger = createLogger(config, 'worker');
  await migrate(config.DATABASE_URL, (message) => logger.debug(message));
  const pool = createPool(config.DATABASE_URL, poolLimits(config, Math.min(config.DB_POOL_SIZE, 10)), logger);
  const metrics = createMetrics('worker');
  const { expiry, housekeeping, webhookRelay, webhookDelivery } = createServices({ config, pool, logger, metrics });
  const worker = await startExpiryWorker({
    redisUrl: config.REDIS_URL,
    prefix: config.QUEUE_PREFIX,
    expiry,
    sweep: () => housekeeping.run(),
    sweepIntervalMs: config.SWEEP_INTERVAL_SECONDS * 1000,
    logger,
  });
  metrics.watchQueue(worker.jobCounts);
  const webhooks = await startWebhookWorker({
    redisUrl: config.REDIS_URL,
    prefix: config.QUEUE_PREFIX,
    delivery: webhookDelivery,
    relay: webhookRelay,
    concurrency: config.WEBHOOK_CONCURRENCY,
    relayIntervalMs: config.OUTBOX_RELAY_INTERVAL_MS,
    logger,
  });
  const metricsServer =
    config.WORKER_METRICS_PORT > 0
      ? await serveWorkerMetrics(metrics, {
          host: config.HOST,
          port: config.WORKER_METRICS_PORT,
          tokens: metricsTokens,
        })
      : undefined;
  closeWithGrace({ delay: config.SHUTDOWN_TIMEOUT_SECONDS * 1000 }, async ({ signal, err }) => {
    // A clean stop prints one line, once everything has stopped; an error is logged whole.
    if (err) logger.error({ err }, 'shutting down after an uncaught error');
    metricsServer?.close();
    await Promise.all([worker.close(), webhooks.close()]); // lets running jobs finish
    await pool.end();
    if (!err) logger.info(signal ? `stopped (${signal})` : 'stopped');
  });
  logger.info(
    { sweepIntervalSeconds: config.SWEEP_INTERVAL_SECONDS },
    'worker running: hold expiry, the periodic sweep, webhook delivery',
  );
}

await runEntryPoint('Worker start-up', main);
