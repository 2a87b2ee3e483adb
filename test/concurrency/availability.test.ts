import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import type { Pool } from '../../src/adapters/postgres/pool.js';
import { createTestDatabase, inspectionPool, type TestDatabase } from '../helpers.js';
import {
  createSeatedShow,
  createShows,
  deleteQueueKeys,
  serviceEnv,
  startAll,
  startApi,
  startWorker,
  type ServiceProcess,
} from '../support/processes.js';
import { SseStream } from '../support/sse.js';

// Live availability across processes: two API processes and a worker, started as `npm start`
// and `npm run worker` are, on one database and one Redis. A stream on one API process hears
// the changes made through the other and the expiries the worker makes: each process follows
// the outbox, which every change writes in its own transaction.
let database: TestDatabase;
let pool: Pool;
let processes: ServiceProcess[] = [];
const streams: SseStream[] = [];
const queuePrefix = `sse-${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = inspectionPool(database.url);
  // Holds last 2 s (serviceEnv); the worker expires them by their BullMQ job.
  const env = serviceEnv(database.url, inject('redisUrl'), queuePrefix);
  processes = await startAll([startApi('api-a', env), startApi('api-b', env), startWorker('worker', env)]);
});

afterAll(async () => {
  for (const stream of streams) stream.close();
  await Promise.all(processes.map((process) => process.stop()));
  await pool?.end();
  await database?.drop();
  await deleteQueueKeys(inject('redisUrl'), queuePrefix);
});

const open = async (url: string) => {
  const stream = await SseStream.open(url);
  streams.push(stream);
  expect(stream.status).toBe(200);
  return stream;
};

it('a stream on one API process sees a hold made through the other, and the worker expiring it, within 1 s', async () => {
  const [a, b] = processes as [ServiceProcess, ServiceProcess];
  const [showId] = await createShows(a.url!, 1, 10);
  const seatedId = await createSeatedShow(a.url!, { sections: [{ name: 'Stalls', rows: [{ label: 'A', seats: 6 }] }] });
  const general = await open(`${b.url}/api/shows/${showId}/availability/stream`);
  const seated = await open(`${b.url}/api/shows/${seatedId}/availability/stream`);
  expect((await general.next('availability')).data.available_seats).toBe(10);
  expect((await seated.next('availability')).data.available_seats).toBe(6);

  const hold = async (id: string, body: object) => {
    const response = await fetch(`${a.url}/api/shows/${id}/book`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(201);
    return (await response.json()) as { id: string };
  };
  const heldAt = Date.now();
  await hold(showId!, { seats: 3 });
  const held = await hold(seatedId, { seat_ids: ['Stalls-A-2', 'Stalls-A-3'] });
  const update = await general.next('availability', (data) => data.available_seats === 7, 0, 2_000);
  expect(update.at - heldAt).toBeLessThan(1_000);
  const seats = await seated.next('seats', () => true, 0, 2_000);
  expect(seats.data.seats).toEqual({ 'Stalls-A-2': 'H', 'Stalls-A-3': 'H' });
  expect(seats.at - heldAt).toBeLessThan(1_000);

  // The worker expires the hold (its job falls due at expires_at, 2 s on): the seats come back
  // within 1 s of the expiry's commit (changed_at is its database time).
  const back = await seated.next('seats', (data) => data.seats['Stalls-A-2'] === 'F', 0, 8_000);
  expect(back.data.seats).toEqual({ 'Stalls-A-2': 'F', 'Stalls-A-3': 'F' });
  const numbers = await seated.next('availability', (data) => data.available_seats === 6 && data.changed_at, 0, 1_000);
  const { rows } = await pool.query<{ status: string; updated_at: Date }>(
    'SELECT status, updated_at FROM bookings WHERE id = $1',
    [held.id],
  );
  expect(rows[0]!.status).toBe('EXPIRED');
  expect(Date.parse(numbers.data.changed_at)).toBe(rows[0]!.updated_at.getTime());
  expect(back.at - rows[0]!.updated_at.getTime()).toBeLessThan(1_000);
  const restored = await general.next(
    'availability',
    (data) => data.available_seats === 10,
    general.events.indexOf(update) + 1,
    8_000,
  );
  expect(restored.at - Date.parse(restored.data.changed_at)).toBeLessThan(1_000);
});
