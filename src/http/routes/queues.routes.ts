import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hashSecret, secretMatches } from '../../secrets.js';

export const QUEUES_PATH = '/admin/queues';

// Bull Board's page: its own scripts and styles (some inline styles), its JSON API, nothing
// from anywhere else (its web fonts fall back to local ones), never framed.
const BOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

/**
 * Bull Board at /admin/queues: the expiry and webhook queues' jobs, read-only. A browser cannot
 * send a Bearer header to a page it opens, so it asks for HTTP Basic: any user name, the admin
 * key as the password.
 */
export async function registerQueueBoard(app: FastifyInstance, queues: Queue[], adminApiKey: string): Promise<void> {
  const adminKeyHash = hashSecret(adminApiKey);
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(QUEUES_PATH);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: true })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'seat-hold queues' } },
  });
  await app.register(
    async (board) => {
      board.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
        const password = basicPassword(request.headers.authorization);
        if (password === undefined || !secretMatches(password, adminKeyHash)) {
          return reply
            .code(401)
            .header('www-authenticate', 'Basic realm="seat-hold queues", charset="UTF-8"')
            .type('text/plain; charset=utf-8')
            .send('The queue dashboard needs the admin key as the password.\n');
        }
        return undefined;
      });
      board.addHook('onSend', async (_request, reply, payload) => {
        void reply.header('content-security-policy', BOARD_CSP);
        return payload;
      });
      await board.register(serverAdapter.registerPlugin());
    },
    { prefix: QUEUES_PATH },
  );
}

function basicPassword(header: string | undefined): string | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? undefined : decoded.slice(colon + 1);
}
