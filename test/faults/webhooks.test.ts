import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pool } from '../../src/adapters/postgres/pool.js';
import { ADMIN_KEY, createTestDatabase, inspectionPool, sleep, type TestDatabase } from '../helpers.js';
import { createShows, OwnRedis, serviceEnv, startApi, startWorker, type ServiceProcess } from '../support/processes.js';
import { Receiver, verify } from '../support/receiver.js';

// Never lost: a receiver on 127.0.0.1 that fails its first answers, events committed while the
// test's own Redis is stopped and while every worker is dead, and a worker killed with SIGKILL
// while the receiver holds its request open. Afterwards every event in the outbox has been
// acknowledged (2xx) at least once under its webhook-id, every signature verifies, none is missing.

let database: TestDatabase;
let pool: Pool;
let redis: OwnRedis;
let receiver: Receiver;
const processes: ServiceProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  pool = inspectionPool(database.url);
  redis = await OwnRedis.start();
});
afterAll(async () => {
  await Promise.all(processes.map((process) => process.stop()));
  await receiver?.close();
  await pool.end();
  await database.drop();
  await redis.close();
});

describe('webhooks survive crashes', () => {
  it('deliver every event after Redis stops, every worker dies, and a worker is killed mid-delivery', async () => {
    const env = {
      ...serviceEnv(database.url, redis.url, `webhook-faults-${randomBytes(4).toString('hex')}`),
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      WEBHOOK_TIMEOUT_MS: '1500',
      WEBHOOK_RETRY_BASE_MS: '200',
      WEBHOOK_RETRY_MAX_DELAY_SECONDS: '1',
      OUTBOX_RELAY_INTERVAL_MS: '100',
    };
    let hangNext = false;
    let hungId: string | undefined;
    const acked = new Set<string>();
    // Fails its first 3 answers; holds open the first request, while hangNext is set, of an
    // event not acknowledged yet (so the attempt the SIGKILL cuts short is that event's only hope).
    receiver = await Receiver.start((n, request) => {
      const id = request.headers['webhook-id']!;
      if (hangNext && !acked.has(id)) {
        hangNext = false;
        hungId = id;
        return 'hang';
      }
      return n < 3 ? { status: 500 } : { status: 200 };
    });
    const answer = receiver.answer;
    receiver.answer = (n, request) => {
      const given = answer(n, request);
      if (given !== 'hang' && given.status < 300) acked.add(request.headers['webhook-id']!);
      return given;
    };

    const api = await startApi('api', env);
    processes.push(api);
    let worker = await startWorker('worker-1', env);
    processes.push(worker);
    const created = await fetch(`${api.url}/api/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url, events: ['*'] }),
    });
    expect(created.status).toBe(201);
    const { secret } = (await created.json()) as { secret: string };

    // 1. A receiver failing its first answers.
    await createShows(api.url!, 3, 5);
    await receiver.waitFor((r) => r.length >= 3, 15_000);

    // 2. Events committed while Redis is stopped: relayed to the database, queued once it is back.
    await redis.stop();
    await createShows(api.url!, 3, 5);
    await sleep(500);
    await redis.start();

    // 3. Events committed while every worker is dead.
    await worker.kill();
    await createShows(api.url!, 3, 5);
    worker = await startWorker('worker-2', env);
    processes.push(worker);

    // 4. A worker killed with SIGKILL while the receiver holds its request open.
    await receiver.waitFor(() => acked.size >= 6, 20_000);
    hangNext = true;
    const before = receiver.received.length;
    await createShows(api.url!, 1, 5);
    await receiver.waitFor((r) => r.length > before && !hangNext, 15_000);
    expect(receiver.inFlight).toBeGreaterThan(0);
    await worker.kill();
    await createShows(api.url!, 2, 5);
    processes.push(await startWorker('worker-3', env));

    // Every event in the outbox is acknowledged under its own id, and nothing else was sent.
    const { rows } = await pool.query<{ id: string }>(`SELECT id FROM outbox_events WHERE type <> 'ping'`);
    expect(rows).toHaveLength(12); // 12 shows created
    const expected = new Set(rows.map((row) => row.id));
    // Usually within seconds (the cut-short attempt's lease runs out after WEBHOOK_TIMEOUT_MS + 5 s,
    // then the sweeper queues it); once, on a CI machine busy with the other groups, not within 40 s.
    // A failure says where each delivery stood.
    await receiver
      .waitFor(() => [...expected].every((id) => acked.has(id)), 90_000)
      .catch(async (error: unknown) => {
        const { rows: deliveries } = await pool.query(
          `SELECT e.id AS event_id, d.state, d.attempts, d.next_attempt_at, d.leased_until, now() AS now
         FROM webhook_deliveries d JOIN outbox_events e ON e.seq = d.event_seq ORDER BY e.seq`,
        );
        const missing = [...expected].filter((id) => !acked.has(id));
        throw new Error(
          `${(error as Error).message}\nnot acknowledged: ${missing.join(', ')}\ndeliveries: ${JSON.stringify(deliveries)}`,
        );
      });
    for (const request of receiver.received) {
      expect(expected.has(request.headers['webhook-id']!)).toBe(true);
      expect(verify(secret, request)).toEqual(request.event);
    }
    const states = await pool.query<{ state: string; n: number }>(
      'SELECT state, count(*)::int AS n FROM webhook_deliveries GROUP BY state',
    );
    expect(states.rows).toEqual([{ state: 'delivered', n: 12 }]);
    // The event whose delivery the SIGKILL cut short was sent again and acknowledged.
    expect(hungId).toBeDefined();
    expect(acked.has(hungId!)).toBe(true);
  }, 180_000);
});
