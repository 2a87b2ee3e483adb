import { holdMaxLifetimeSeconds, longestRequestMs, type Config } from './config.js';
import type { Pool } from './adapters/postgres/pool.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { BookingRepository } from './repositories/booking.repository.js';
import { IdempotencyRepository } from './repositories/idempotency.repository.js';
import { ShowRepository } from './repositories/show.repository.js';
import { AvailabilityRepository } from './repositories/availability.repository.js';
import { OutboxRepository } from './repositories/outbox.repository.js';
import { AvailabilityFeed } from './services/availability-feed.service.js';
import { BookingService } from './services/booking.service.js';
import { ExpiryService } from './services/expiry.service.js';
import { HousekeepingService } from './services/housekeeping.service.js';
import { IdempotencyService } from './services/idempotency.service.js';
import { ShowService } from './services/show.service.js';
import { SeatPlans } from './services/seat-plans.service.js';
import { ShowCatalogues } from './services/show-catalogues.service.js';
import { HouseService } from './services/house.service.js';
import { HouseRepository } from './repositories/house.repository.js';
import { ShowLanes, type GroupCommitted } from './services/show-lanes/show-lanes.js';
import { ShowVersions } from './services/show-versions.service.js';
import { ShowChangeFollower } from './services/show-change-follower.service.js';
import { WebhookRepository } from './repositories/webhook.repository.js';
import { WebhookDeliveryService } from './services/webhook-delivery.service.js';
import { WebhookRelay } from './services/webhook-relay.service.js';
import { WebhookService, type ScheduleDeliveries } from './services/webhook.service.js';

export interface ServiceDependencies {
  config: Config;
  pool: Pool;
  logger: Logger;
  /** Told after each group that committed holds: schedules their expiry (BullMQ), or nothing. */
  onHoldGroupCommitted?: GroupCommitted | undefined;
  /** Told of webhook deliveries made due by a route (a ping, a resend): queues them (BullMQ), or wakes the in-process loop. */
  onWebhookDeliveries?: ScheduleDeliveries | undefined;
  /** Where the services report what they measure; none in tests that do not look. */
  metrics?: Metrics | undefined;
}

export interface Services {
  shows: ShowService;
  bookings: BookingService;
  house: HouseService;
  idempotency: IdempotencyService;
  expiry: ExpiryService;
  housekeeping: HousekeepingService;
  webhooks: WebhookService;
  webhookRelay: WebhookRelay;
  webhookDelivery: WebhookDeliveryService;
  /** Live availability (SSE): idle, no timer and no query, until a stream opens. */
  availability: AvailabilityFeed;
  /** Other processes' changes to shows, for the reads answered from memory: idle until a read; null with SHOW_CACHE_MAX_AGE_MS=0. */
  showChanges: ShowChangeFollower | null;
}

/** The one place services are wired: the API, the worker, the tests and the CLIs all start here. */
export function createServices({
  config,
  pool,
  logger,
  onHoldGroupCommitted,
  onWebhookDeliveries,
  metrics,
}: ServiceDependencies): Services {
  metrics?.watchPool(pool);
  const showRepository = new ShowRepository(pool);
  const bookingRepository = new BookingRepository(pool);
  const leaseSeconds = Math.ceil(longestRequestMs(config) / 1000);
  const idempotency = new IdempotencyService(new IdempotencyRepository(pool, leaseSeconds));
  const plans = new SeatPlans(showRepository);
  const catalogues = new ShowCatalogues(showRepository);
  const showVersions = new ShowVersions();
  const lanes = new ShowLanes({
    pool,
    shows: showRepository,
    bookings: bookingRepository,
    idempotency,
    holdTtlSeconds: config.HOLD_TTL_SECONDS,
    holdMaxLifetimeSeconds: holdMaxLifetimeSeconds(config),
    maxGroupSize: config.HOLD_GROUP_MAX,
    maxWaiting: config.HOLD_QUEUE_MAX,
    maxWaitMs: config.REQUEST_TIMEOUT_MS,
    // Never more than half the pool: the rest stays free for reads, confirms and the sweep.
    maxStatements: Math.max(1, Math.min(config.HOLD_STATEMENTS_MAX, Math.floor(config.DB_POOL_SIZE / 2))),
    onGroupCommitted: onHoldGroupCommitted ?? (() => {}),
    plans,
    catalogues,
    showVersions,
    metrics,
    logger,
  });
  const expiry = new ExpiryService(pool, showRepository, bookingRepository, logger, metrics);
  const webhookRepository = new WebhookRepository(pool);
  const availability = new AvailabilityFeed({
    outbox: new OutboxRepository(pool),
    availability: new AvailabilityRepository(pool),
    plans,
    logger,
    intervalMs: config.SSE_MIN_INTERVAL_MS,
    heartbeatMs: config.SSE_HEARTBEAT_SECONDS * 1000,
  });
  metrics?.watchStreams(() => availability.size);
  // Idle until a read wants it: the worker, the CLIs and the tests that never read pay nothing.
  const followShowChanges =
    config.SHOW_CACHE_MAX_AGE_MS > 0
      ? new ShowChangeFollower(new OutboxRepository(pool), showVersions, logger, config.SHOW_CHANGES_POLL_MS)
      : null;
  const webhookDelivery = new WebhookDeliveryService(webhookRepository, config, logger, metrics);
  return {
    shows: new ShowService(
      pool,
      showRepository,
      bookingRepository,
      idempotency,
      plans,
      catalogues,
      showVersions,
      config.DEFAULT_CURRENCY,
      followShowChanges && { current: () => followShowChanges.current(), maxAgeMs: config.SHOW_CACHE_MAX_AGE_MS },
    ),
    house: new HouseService(
      pool,
      showRepository,
      bookingRepository,
      new HouseRepository(),
      plans,
      idempotency,
      showVersions,
    ),
    bookings: new BookingService(bookingRepository, lanes, plans, config.MAX_SEATS_PER_BOOKING),
    idempotency,
    expiry,
    housekeeping: new HousekeepingService(expiry, idempotency, logger, () => webhookDelivery.purgeOutbox()),
    webhooks: new WebhookService(pool, webhookRepository, config.WEBHOOK_ALLOW_PRIVATE_NETWORKS, (deliveries) =>
      onWebhookDeliveries?.(deliveries),
    ),
    webhookRelay: new WebhookRelay(pool, new OutboxRepository(pool), webhookRepository, logger),
    webhookDelivery,
    availability,
    showChanges: followShowChanges,
  };
}
