// The ceiling the API's reads are compared with (npm run bench -- --baseline): Fastify with
// nothing of the service (no hooks, no logger, no database), answering GET /api/shows/:id with a
// show-shaped body of the same size as the API's. Run as `node --import tsx bench/lib/bare-fastify.ts <port>`.
import Fastify from 'fastify';

const show = {
  id: '00000000-0000-4000-8000-000000000000',
  title: 'Bare',
  description: null,
  start_time: '2031-05-01T20:00:00.000Z',
  total_seats: 100000,
  created_at: '2026-12-08T00:00:00.000Z',
  late_confirm: 'refuse',
  max_seats_per_customer: null,
  sales_start: null,
  sales_end: null,
  seating: 'assigned',
  available_seats: 100000,
  available_by_category: { standard: 100000 },
};

const app = Fastify({ logger: false });
app.get('/api/shows/:id', async () => show);
await app.listen({ host: '127.0.0.1', port: Number(process.argv[2]) });
process.stdout.write('listening\n');
