import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Uuid } from '../../domain/common.js';
import {
  CreatedWebhook,
  deliveryStates,
  NewWebhook,
  WebhookChanges,
  WebhookDelivery,
  WebhookEndpoint,
} from '../../domain/webhook.js';
import type { RouteContext } from './context.js';
import { IdempotencyHeaders, IdParams, problems, rateLimited } from '../schemas.js';

const admin = [{ adminKey: [] }];
const tags = ['webhooks'];
const Accepted = Type.Object(
  { delivery_id: { ...Uuid, description: 'The delivery queued: follow it in GET /api/webhooks/{id}/deliveries' } },
  { description: 'Accepted: the delivery is queued' },
);

const DeliveriesQuery = Type.Object({
  state: Type.Optional(Type.Enum(deliveryStates)),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'From the Link header' })),
});

/** The admin's webhook endpoints, their delivery log and resends. Rules live in WebhookService. */
export const webhookRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, { webhooks, auth, idempotency }) => {
  app.post(
    '/api/webhooks',
    {
      config: rateLimited,
      onRequest: auth.requireAdmin,
      preHandler: idempotency.claim,
      onSend: idempotency.settle,
      schema: {
        summary: 'Add a webhook endpoint (admin)',
        description:
          'Events of the listed types (or "*" for all) are POSTed to url, signed per Standard Webhooks with the secret in this answer, which is never shown again. A URL whose host is loopback, link-local, private or reserved, or does not resolve, is refused: 422 webhook_url_refused.',
        tags,
        security: admin,
        headers: IdempotencyHeaders,
        body: NewWebhook,
        response: { 201: CreatedWebhook, ...problems(400, 401, 409, 413, 415, 422, 429, 503) },
      },
    },
    async (request, reply) => {
      const created = await webhooks.create(request.body);
      return reply.code(201).header('location', `/api/webhooks/${created.id}`).send(created);
    },
  );

  app.get(
    '/api/webhooks',
    {
      config: rateLimited,
      onRequest: auth.requireAdmin,
      schema: {
        summary: 'Webhook endpoints (admin)',
        description: 'In the order they were added; secrets are not shown.',
        tags,
        security: admin,
        response: { 200: Type.Array(WebhookEndpoint), ...problems(401, 429, 503) },
      },
    },
    async () => webhooks.list(),
  );

  app.get(
    '/api/webhooks/:id',
    {
      config: rateLimited,
      onRequest: auth.requireAdmin,
      schema: {
        summary: 'A webhook endpoint (admin)',
        tags,
        security: admin,
        params: IdParams,
        response: { 200: WebhookEndpoint, ...problems(400, 401, 404, 429, 503) },
      },
    },
    async (request) => webhooks.get(request.params.id),
  );

  app.patch(
    '/api/webhooks/:id',
    {
      config: rateLimited,
      onRequest: auth.requireAdmin,
      schema: {
        summary: 'Change a webhook endpoint (admin)',
        description:
          'Any of url (checked as on creation), events, enabled (a disabled endpoint is sent nothing; its pending deliveries fail), description (null clears it).',
        tags,
        security: admin,
        params: IdParams,
        body: WebhookChanges,
        response: { 200: WebhookEndpoint, ...problems(400, 401, 404, 413, 415, 422, 429, 503) },
      },
    },
    async (request) => webhooks.update(request.params.id, request.body),
  );

  app.delete(
    '/api/webhooks/:id',
    {
      config: rateLimited,
      onRequest: auth.requireAdmin,
      schema: {
        summary: 'Remove a webhook endpoint with its delivery log (admin)',
        tags,
        security: admin,
        params: IdParams,
        response: { 204: Type.Null({ description: 'Removed' }), ...problems(400, 401, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      await webhooks.remove(request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/webhooks/:id/test',
    {
      config: rateLimited,
      onRequest: auth.requireAdmin,
      schema: {
        summary: 'Send a ping to the endpoint (admin)',
        description:
          'A ping event (type "ping", data.webhook_id) to this endpoint only, delivered, signed and retried like any event; follow it in the delivery log.',
        tags,
        security: admin,
        params: IdParams,
        response: { 202: Accepted, ...problems(400, 401, 404, 413, 415, 429, 503) },
      },
    },
    async (request, reply) => {
      return reply.code(202).send({ delivery_id: await webhooks.ping(request.params.id) });
    },
  );

  app.get(
    '/api/webhooks/:id/deliveries',
    {
      config: rateLimited,
      onRequest: auth.requireAdmin,
      schema: {
        summary: "An endpoint's deliveries with every attempt (admin)",
        description:
          'Newest first, optionally only those in one state; each with its event id (webhook-id), type, state, attempts, next attempt and attempt log (time, status code, duration, error). Paginated: the next page, if any, is in the Link header (rel="next").',
        tags,
        security: admin,
        params: IdParams,
        querystring: DeliveriesQuery,
        response: { 200: Type.Array(WebhookDelivery), ...problems(400, 401, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      const { limit = 50, cursor, state } = request.query;
      const page = await webhooks.deliveries(request.params.id, state, limit, cursor);
      if (page.nextCursor) {
        const filter = state === undefined ? '' : `&state=${state}`;
        void reply.header(
          'link',
          `</api/webhooks/${request.params.id}/deliveries?limit=${limit}${filter}&cursor=${page.nextCursor}>; rel="next"`,
        );
      }
      return page.deliveries;
    },
  );

  app.post(
    '/api/webhooks/:id/deliveries/:delivery/retry',
    {
      config: rateLimited,
      onRequest: auth.requireAdmin,
      schema: {
        summary: 'Send a delivery again (admin)',
        description:
          'Whatever its state: it becomes pending, due now, with a new retry window; the event keeps its webhook-id.',
        tags,
        security: admin,
        params: Type.Object({ id: Uuid, delivery: Uuid }),
        response: { 202: Accepted, ...problems(400, 401, 404, 413, 415, 429, 503) },
      },
    },
    async (request, reply) => {
      return reply.code(202).send({ delivery_id: await webhooks.retry(request.params.id, request.params.delivery) });
    },
  );
};
