import { Redis } from 'ioredis';

/**
 * The Redis connections of the service, made in one place. BullMQ needs two kinds: a producer's,
 * which fails fast while Redis is down instead of buffering (a hold never waits on Redis), and a
 * worker's, which blocks and retries forever.
 */

/** For queues that add jobs (the API's schedulers, the webhook worker's sweeper), and for pings. */
export function producerConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
}

/** For BullMQ workers and job schedulers: blocking commands, retried until Redis is back. */
export function workerConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null });
}
