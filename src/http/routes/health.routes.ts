import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { RouteContext } from './context.js';
import { AppError } from '../../errors.js';
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

export const healthRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, { readiness }) => {
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
    async () => {
      const names = Object.keys(readiness);
      const results = await Promise.all(names.map((name) => check(readiness[name]!)));
      const checks: Record<string, string> = Object.fromEntries(names.map((name, index) => [name, results[index]!]));
      const down = Object.keys(checks).filter((name) => checks[name] !== 'ok');
      if (down.length > 0) throw new AppError('service_unavailable', `Unavailable: ${down.join(', ')}`, { checks });
      return { status: 'ready', checks };
    },
  );
};
