import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { sleep } from '../helpers.js';
import { admin } from './api.js';

/** One request a receiver got. */
export interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** The parsed body: a webhook event. */
  event: { id: string; type: string; timestamp: string; data: Record<string, any> };
  at: number;
}

/** How to answer the nth request (0-based): a status (and headers, body), or hang: never answer. */
export type Answer = { status: number; headers?: Record<string, string>; body?: string } | 'hang';

/**
 * A webhook receiver on 127.0.0.1, started by the test: records every request and answers as
 * `answer` says. Hung requests are held open until the receiver closes.
 */
export class Receiver {
  readonly received: Received[] = [];
  /** Requests whose answer has not been sent yet. */
  inFlight = 0;
  maxInFlight = 0;
  private readonly hung = new Set<ServerResponse>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
    public answer: (n: number, request: Received) => Answer,
  ) {}

  static async start(answer: (n: number, request: Received) => Answer = () => ({ status: 200 })): Promise<Receiver> {
    const started: { receiver?: Receiver } = {};
    const server = createServer((request, response) => void started.receiver!.handle(request, response));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    started.receiver = new Receiver(server, `http://127.0.0.1:${port}/hook`, answer);
    return started.receiver;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const received: Received = {
      path: request.url ?? '',
      headers: request.headers as Record<string, string>,
      body,
      event: JSON.parse(body || 'null') as Received['event'],
      at: Date.now(),
    };
    const n = this.received.length;
    this.received.push(received);
    const answer = this.answer(n, received);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    if (answer === 'hang') {
      this.hung.add(response);
      response.on('close', () => {
        if (this.hung.delete(response)) this.inFlight--;
      });
      return;
    }
    this.inFlight--;
    response.writeHead(answer.status, answer.headers).end(answer.body ?? '');
  }

  /** The requests whose event has this type. */
  ofType(type: string): Received[] {
    return this.received.filter((request) => request.event.type === type);
  }

  /** Waits until `done` holds of what was received. */
  async waitFor(done: (received: Received[]) => boolean, timeoutMs = 10_000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.received)) {
      if (Date.now() > deadline) {
        throw new Error(`receiver: condition not met; got ${this.received.map((r) => r.event.type).join(', ')}`);
      }
      await sleep(20);
    }
    return this.received;
  }

  async close(): Promise<void> {
    for (const response of this.hung) response.destroy();
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close').catch(() => {});
  }
}

/** Whether the request's Standard Webhooks signature verifies with the secret (throws if not). */
export function verify(secret: string, request: Received): unknown {
  return new Webhook(secret).verify(request.body, {
    'webhook-id': request.headers['webhook-id']!,
    'webhook-timestamp': request.headers['webhook-timestamp']!,
    'webhook-signature': request.headers['webhook-signature']!,
  });
}

/**
 * After a test: its webhook endpoints deleted (their deliveries go with them) and its receivers
 * closed, so that later events reach none of them.
 */
export async function removeWebhooks(app: FastifyInstance, receivers: Receiver[]): Promise<void> {
  const list = await app.inject({ method: 'GET', url: '/api/webhooks', headers: admin });
  for (const endpoint of list.json<{ id: string }[]>()) {
    await app.inject({ method: 'DELETE', url: `/api/webhooks/${endpoint.id}`, headers: admin });
  }
  for (const receiver of receivers.splice(0)) await receiver.close();
}
