import type { Config } from '../../config.js';
import type { Metrics } from '../../metrics.js';
import type { BookingService } from '../../services/booking.service.js';
import type { ShowService } from '../../services/show.service.js';
import type { HouseService } from '../../services/house.service.js';
import type { WebhookService } from '../../services/webhook.service.js';
import type { AvailabilityFeed } from '../../services/availability-feed.service.js';
import type { Authenticator } from '../auth.js';
import type { IdempotencyHttp } from '../idempotency.js';

/** What /health/ready checks: each dependency by name, a probe that resolves when it answers. */
export type Readiness = Record<string, () => Promise<unknown>>;

/** What the route plugins receive. */
export interface RouteContext {
  config: Config;
  shows: ShowService;
  house: HouseService;
  bookings: BookingService;
  webhooks: WebhookService;
  availability: AvailabilityFeed;
  auth: Authenticator;
  idempotency: IdempotencyHttp;
  readiness: Readiness;
  metrics: Metrics;
}
