import { createServer, type Server } from 'node:http';
import type { Metrics } from '../metrics.js';
import { hashSecret, secretMatches } from '../secrets.js';

/**
 * The worker's GET /metrics: a small HTTP listener of its own (the worker serves no API),
 * guarded like the API's: the admin key or METRICS_TOKEN as a Bearer token.
 */
export async function serveWorkerMetrics(
  metrics: Metrics,
  options: { host: string; port: number; tokens: string[] },
): Promise<Server> {
  const accepted = options.tokens.map(hashSecret);
  const server = createServer((request, response) => {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (token === undefined || !accepted.some((hash) => secretMatches(token, hash))) {
      response.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' }).end('unauthorized\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return server;
}
