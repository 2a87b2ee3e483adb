import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createExpiryQueue } from '../../src/jobs/expiry.queue.js';
import { producerConnection } from '../../src/adapters/redis.js';
import { ADMIN_KEY, startTestApp, type TestContext } from '../helpers.js';

const prefix = `board-${randomBytes(4).toString('hex')}`;
let redis: Redis;
let ctx: TestContext;
beforeAll(async () => {
  redis = producerConnection(inject('redisUrl'));
  const queue = createExpiryQueue(redis, prefix);
  await queue.add('expire-holds', { showId: 'x', dueAt: Date.now() + 60_000 }, { delay: 60_000, jobId: 'probe' });
  ctx = await startTestApp({}, { queues: [queue] });
});
afterAll(async () => {
  await ctx.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const get = (url: string, authorization?: string) =>
  ctx.app.inject({ method: 'GET', url, headers: authorization ? { authorization } : {} });

describe('Bull Board at /admin/queues', () => {
  it('asks a browser for the admin key (HTTP Basic) and refuses anything else', async () => {
    for (const authorization of [undefined, basic('admin', 'wrong-key-0123456789'), `Bearer ${ADMIN_KEY}`]) {
      const refused = await get('/admin/queues', authorization);
      expect(refused.statusCode).toBe(401);
      expect(refused.headers['www-authenticate']).toMatch(/^Basic realm="seat-hold queues"/);
      expect(refused.body).not.toContain(ADMIN_KEY);
    }
    expect((await get('/admin/queues/api/queues')).statusCode).toBe(401);
  });

  it("shows the expiry queue's jobs, read-only, on a page allowed to run only its own scripts", async () => {
    const page = await get('/admin/queues', basic('anyone', ADMIN_KEY));
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    const api = await get('/admin/queues/api/queues?activeQueue=hold-expiry&status=delayed', basic('x', ADMIN_KEY));
    expect(api.statusCode).toBe(200);
    const { queues } = api.json<{ queues: { name: string; readOnlyMode: boolean; jobs: { id: string }[] }[] }>();
    expect(queues.map((queue) => [queue.name, queue.readOnlyMode])).toEqual([['hold-expiry', true]]);
    expect(queues[0]!.jobs.map((job) => job.id)).toContain('probe');
    // Read-only: the board cannot promote (or retry, or remove) a job.
    const promoted = await ctx.app.inject({
      method: 'PUT',
      url: '/admin/queues/api/queues/hold-expiry/probe/promote',
      headers: { authorization: basic('x', ADMIN_KEY) },
    });
    expect(promoted.statusCode).toBeGreaterThanOrEqual(400);
    expect(await createExpiryQueue(redis, prefix).getJobState('probe')).toBe('delayed');
  });
});
