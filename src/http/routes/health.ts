import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppServices } from '../app.js';
import { problemType } from '../../errors.js';
import { Health, problems } from '../schemas.js';

const CHECK_TIMEOUT_MS = 2_000;

async function check(probe: () => Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([probe(), timeout]);
    return 'ok';
  } catch {
    return 'unavailable';
  } finally {
    clearTimeout(timer);
  }
}

export const healthRoutes: FastifyPluginAsyncTypebox<AppServices> = async (app, { pool, pingRedis }) => {
  app.get(
    '/health',
    { schema: { summary: 'Liveness: the process is up', tags: ['health'], response: { 200: Health } } },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/health/ready',
    {
      schema: {
        summary: 'Readiness: PostgreSQL (and Redis, when configured) answer',
        description: 'Answers 503 while a dependency is unreachable, so a load balancer stops routing here.',
        tags: ['health'],
        response: { 200: Health, ...problems(503) },
      },
    },
    async (request, reply) => {
      const checks: Record<string, string> = { database: await check(() => pool.query('SELECT 1')) };
      if (pingRedis) checks.redis = await check(pingRedis);
      if (Object.values(checks).every((state) => state === 'ok')) return { status: 'ready', checks };
      return reply
        .code(503)
        .type('application/problem+json')
        .header('retry-after', '1')
        .send({
          type: problemType('service_unavailable'),
          title: 'Not ready',
          status: 503,
          detail: `Unavailable: ${Object.keys(checks)
            .filter((name) => checks[name] !== 'ok')
            .join(', ')}`,
          code: 'service_unavailable',
          instance: '/health/ready',
          request_id: request.id,
          checks,
        });
    },
  );
};
