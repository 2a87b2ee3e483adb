import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { problems } from '../schemas.js';
import type { RouteContext } from './context.js';

export const metricsRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, { metrics, auth }) => {
  app.get(
    '/metrics',
    {
      preHandler: auth.requireMetricsReader,
      schema: {
        summary: 'Prometheus metrics of this process',
        description:
          'Text exposition format. Needs the admin key, or METRICS_TOKEN when set, as a Bearer token: never public.',
        tags: ['health'],
        security: [{ adminKey: [] }],
        response: {
          200: { content: { 'text/plain': { schema: Type.String() } } },
          ...problems(401),
        },
      },
    },
    async (_request, reply) => {
      const text = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(text);
    },
  );
};
