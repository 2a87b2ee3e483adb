import { Redis } from 'ioredis';

/** The API's BullMQ queue of expiry jobs (src/jobs/expiry.queue.ts). */
const QUEUE = 'hold-expiry';

export interface JobCounts {
  delayed: number;
  waiting: number;
  active: number;
  completed: number;
  failed: number;
  /** All of the above: the expiry jobs present in the queue. */
  total: number;
}

/** Job ids of a state's key; the sweep's scheduler jobs (repeat:…) are not expiry jobs. */
async function ids(redis: Redis, prefix: string, state: string, kind: 'zset' | 'list'): Promise<string[]> {
  const key = `${prefix}:${QUEUE}:${state}`;
  const all = kind === 'zset' ? await redis.zrange(key, 0, -1) : await redis.lrange(key, 0, -1);
  return all.filter((id) => !id.startsWith('repeat:'));
}

/**
 * Expiry jobs in the queue by state, the sweep's scheduler left out. The API adds jobs with
 * removeOnComplete, so a job that has run is no longer counted: count before they fall due.
 */
export async function countExpiryJobs(redis: Redis, prefix: string): Promise<JobCounts> {
  const [delayed, waiting, paused, prioritized, active, completed, failed] = await Promise.all([
    ids(redis, prefix, 'delayed', 'zset'),
    ids(redis, prefix, 'wait', 'list'),
    ids(redis, prefix, 'paused', 'list'),
    ids(redis, prefix, 'prioritized', 'zset'),
    ids(redis, prefix, 'active', 'list'),
    ids(redis, prefix, 'completed', 'zset'),
    ids(redis, prefix, 'failed', 'zset'),
  ]);
  const counts = {
    delayed: delayed.length,
    waiting: waiting.length + paused.length + prioritized.length,
    active: active.length,
    completed: completed.length,
    failed: failed.length,
  };
  return { ...counts, total: Object.values(counts).reduce((a, b) => a + b, 0) };
}

/**
 * Per show, the latest due time (epoch ms) among its delayed expiry jobs, read from the
 * delayed set's score (BullMQ: due ms × 0x1000 + a counter) and the job's data.showId.
 */
export async function latestDelayedJobs(redis: Redis, prefix: string): Promise<Map<string, number>> {
  const withScores = await redis.zrange(`${prefix}:${QUEUE}:delayed`, 0, -1, 'WITHSCORES');
  const jobs: { id: string; due: number }[] = [];
  for (let i = 0; i < withScores.length; i += 2) {
    const id = withScores[i]!;
    if (!id.startsWith('repeat:')) jobs.push({ id, due: Math.floor(Number(withScores[i + 1]) / 0x1000) });
  }
  const latest = new Map<string, number>();
  for (let i = 0; i < jobs.length; i += 1000) {
    const batch = jobs.slice(i, i + 1000);
    const pipeline = redis.pipeline();
    for (const job of batch) pipeline.hget(`${prefix}:${QUEUE}:${job.id}`, 'data');
    const answers = (await pipeline.exec()) ?? [];
    batch.forEach((job, index) => {
      const data = answers[index]?.[1];
      if (typeof data !== 'string') return;
      const showId = (JSON.parse(data) as { showId?: unknown }).showId;
      if (typeof showId === 'string') latest.set(showId, Math.max(latest.get(showId) ?? 0, job.due));
    });
  }
  return latest;
}

/** Deletes every key of a queue prefix (the bench's own, named per run). */
export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

/** deletePrefix with a connection of its own. */
export async function deleteQueue(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    await deletePrefix(redis, prefix);
  } finally {
    redis.disconnect();
  }
}
