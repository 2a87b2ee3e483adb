import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, expectProblem, inspectionPool, startTestApp, testConfig, type TestContext } from '../helpers.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await startTestApp();
});
afterAll(() => ctx.close());

describe('health', () => {
  it('/health answers while the process is up', async () => {
    const response = await ctx.app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('/health/ready answers 200 while PostgreSQL answers', async () => {
    const response = await ctx.app.inject({ method: 'GET', url: '/health/ready' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ready', checks: { database: 'ok' } });
  });

  it('/health/ready answers 503 when PostgreSQL or Redis does not', async () => {
    // Port 1 on 127.0.0.1: nothing listens there, so connecting is refused at once.
    const pool = inspectionPool('postgres://postgres@127.0.0.1:1/none', 2);
    const { app } = await buildTestApp(testConfig(), pool, { pingRedis: () => Promise.reject(new Error('down')) });
    try {
      const response = await app.inject({ method: 'GET', url: '/health/ready' });
      const problem = expectProblem(response, 503, 'service_unavailable');
      expect(problem.checks).toEqual({ database: 'unavailable', redis: 'unavailable' });
      // A request that needs the database gets 503 problem+json too, not a 500.
      expectProblem(await app.inject({ method: 'GET', url: '/api/shows' }), 503, 'service_unavailable');
      const held = await app.inject({ method: 'POST', url: '/api/shows/00000000-0000-4000-8000-000000000000/book' });
      expectProblem(held, 503, 'service_unavailable');
    } finally {
      await app.close();
      await pool.end();
    }
  });
});

describe('OpenAPI document', () => {
  it('covers every route with its bodies, responses, errors and security schemes', async () => {
    const response = await ctx.app.inject({ method: 'GET', url: '/api-docs/json' });
    expect(response.statusCode).toBe(200);
    const spec = response.json();
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.components.securitySchemes).sort()).toEqual(['adminKey', 'holdToken']);
    const operations: Record<string, string[]> = {
      '/api/shows': ['get', 'post'],
      '/api/shows/{id}': ['get'],
      '/api/shows/{id}/book': ['post'],
      '/api/bookings/{id}': ['get'],
      '/api/bookings/{id}/confirm': ['post'],
      '/api/bookings/{id}/cancel': ['post'],
      '/health': ['get'],
      '/health/ready': ['get'],
    };
    for (const [path, methods] of Object.entries(operations)) {
      for (const method of methods) {
        const operation = spec.paths[path]?.[method];
        expect(operation, `${method} ${path}`).toBeDefined();
        expect(Object.keys(operation.responses).length, `${method} ${path}`).toBeGreaterThan(0);
      }
    }
    expect(spec.paths['/api/shows'].post.security).toEqual([{ adminKey: [] }]);
    expect(spec.paths['/api/shows'].post.requestBody).toBeDefined();
    expect(spec.paths['/api/bookings/{id}/confirm'].post.responses['409']).toBeDefined();
    expect(
      spec.paths['/api/shows/{id}/book'].post.responses['201'].content['application/json'].schema.properties,
    ).toHaveProperty('hold_token');
  });

  it('serves Swagger UI at /api-docs', async () => {
    const response = await ctx.app.inject({ method: 'GET', url: '/api-docs/' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toMatch(/swagger/i);
  });
});
