import closeWithGrace from 'close-with-grace';
import type { Config } from './config.js';
import { createPool } from './db/pool.js';
import { buildApp } from './http/app.js';
import { createLogger } from './logger.js';
import { createExpiryQueue, ExpiryScheduler, producerConnection } from './queue/expiry-queue.js';
import { BookingRepository } from './repositories/booking.repository.js';
import { ShowRepository } from './repositories/show.repository.js';
import { openDatabase, resolveAdminKey, runEntryPoint } from './runtime.js';
import { IdempotencyRepository } from './repositories/idempotency.repository.js';
import { ExpiryService } from './services/expiry.service.js';
import { HousekeepingService } from './services/housekeeping.service.js';
import { IdempotencyService } from './services/idempotency.service.js';

async function main(config: Config): Promise<void> {
  const logger = createLogger(config, 'api');
  const database = await openDatabase(config, logger);
  const pool = createPool(database.url, config.DB_POOL_SIZE, logger);
  const adminKey = resolveAdminKey(config);

  // With Redis, each hold group gets a BullMQ expiry job and `npm run worker` runs them.
  // Without, this process sweeps overdue holds itself; holds stop counting at their
  // deadline either way, the sweep only turns their status into EXPIRED.
  const redis = config.REDIS_URL ? producerConnection(config.REDIS_URL) : undefined;
  redis?.on('error', () => {}); // reported through readiness and the scheduler's log
  const queue = redis ? createExpiryQueue(redis, config.QUEUE_PREFIX) : undefined;
  const scheduler = queue ? new ExpiryScheduler(queue, logger) : undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  if (!redis) {
    const housekeeping = new HousekeepingService(
      new ExpiryService(pool, new ShowRepository(pool), new BookingRepository(pool), logger),
      new IdempotencyService(new IdempotencyRepository(pool)),
      logger,
    );
    sweepTimer = setInterval(() => {
      housekeeping.run().catch((error: unknown) => logger.warn({ err: error }, 'expiry sweep failed'));
    }, config.SWEEP_INTERVAL_SECONDS * 1000);
  }

  const app = await buildApp({
    config,
    pool,
    adminApiKey: adminKey.key,
    logger,
    ...(scheduler ? { onHoldGroupCommitted: scheduler.schedule.bind(scheduler) } : {}),
    ...(redis ? { pingRedis: () => redis.ping(), rateLimitRedis: redis } : {}),
  });

  closeWithGrace({ delay: config.SHUTDOWN_TIMEOUT_SECONDS * 1000 }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'shutting down after an uncaught error');
    else logger.info({ signal }, 'shutting down');
    await app.close(); // stops accepting, waits for in-flight requests
    clearInterval(sweepTimer);
    await queue?.close();
    redis?.disconnect();
    await pool.end();
    await database.stop();
  });

  const address = await app.listen({ host: config.HOST, port: config.PORT });
  const lines = [
    `seat-hold API listening on ${address}`,
    `  API docs:  ${address}/api-docs`,
    `  database:  ${database.embedded ? 'embedded PostgreSQL' : 'DATABASE_URL'}`,
    `  expiry:    ${redis ? 'BullMQ jobs (run `npm run worker`)' : `in-process sweep every ${config.SWEEP_INTERVAL_SECONDS}s`}`,
    adminKey.file ? `  admin key: ${adminKey.key}  (kept in ${adminKey.file})` : '  admin key: from ADMIN_API_KEY',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

await runEntryPoint('Start-up', main);
