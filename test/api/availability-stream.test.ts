import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { metricValue, sleep, startTestApp, type TestContext } from '../helpers.js';
import { admin, createSeatedShow, createShow, hold, type SeatRowInput } from '../support/api.js';
import { lapse } from '../support/clock.js';
import { SseStream } from '../support/sse.js';
import type { Pool } from '../../src/adapters/postgres/pool.js';
import { OutboxRepository, parsePosition } from '../../src/repositories/outbox.repository.js';
import { MAX_REPLAY } from '../../src/services/availability-feed.service.js';

// GET /api/shows/:id/availability/stream over a real socket (inject cannot stream), on the
// in-process app and a real database: the outbox, the feed, the route.
const INTERVAL_MS = 200;
let ctx: TestContext;
let base: string;
const streams: SseStream[] = [];

beforeAll(async () => {
  ctx = await startTestApp({ SSE_MIN_INTERVAL_MS: String(INTERVAL_MS) });
  base = await ctx.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  for (const stream of streams) stream.close();
  await ctx.close();
});

async function open(showId: string, headers: Record<string, string> = {}, query = ''): Promise<SseStream> {
  const stream = await SseStream.open(`${base}/api/shows/${showId}/availability/stream${query}`, headers);
  streams.push(stream);
  return stream;
}

const getShow = async (id: string) => (await ctx.app.inject({ url: `/api/shows/${id}` })).json();
const post = (url: string, payload?: object, headers: Record<string, string> = {}) =>
  ctx.app.inject({ method: 'POST', url, headers, ...(payload ? { payload } : {}) });

/**
 * Whether an availability event has the numbers of `show` (GET /api/shows/:id). An update can
 * come that the snapshot already had (the outbox is read only up to the oldest transaction
 * running in the cluster, and other test files hold some open): tests wait for the numbers.
 */
const sameAs = (show: { available_seats: number; available_by_category?: Record<string, number> }) => (data: any) =>
  data.available_seats === show.available_seats &&
  JSON.stringify(data.available_by_category) === JSON.stringify(show.available_by_category);

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

/** Rows a plan read from `relation`: those its scans returned and those they read and threw away. */
function rowsTouched(node: PlanNode, relation: string): number {
  const own =
    node['Relation Name'] === relation
      ? (node['Actual Rows'] + (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)) *
        node['Actual Loops']
      : 0;
  return own + (node.Plans ?? []).reduce((sum, child) => sum + rowsTouched(child, relation), 0);
}

/** What an availability event says of a show, from GET /api/shows/:id. */
function expected(show: { id: string; available_seats: number; available_by_category?: Record<string, number> }) {
  return {
    show_id: show.id,
    available_seats: show.available_seats,
    ...(show.available_by_category ? { available_by_category: show.available_by_category } : {}),
    sold_out: show.available_seats === 0,
  };
}

const createSeated = (rows: SeatRowInput[]) => createSeatedShow(ctx.app, rows);

describe('the stream of a show', () => {
  it('starts with a snapshot equal to GET /api/shows/:id, as an event stream nothing buffers', async () => {
    const show = await createShow(ctx.app, { total_seats: 7 });
    await hold(ctx.app, show.id, 2);
    const stream = await open(show.id);
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(stream.headers['cache-control']).toBe('no-cache');
    expect(stream.headers['x-accel-buffering']).toBe('no');
    expect(stream.headers['x-content-type-options']).toBe('nosniff');
    expect(stream.headers['x-request-id']).toEqual(expect.any(String));
    const first = await stream.next('availability');
    expect(first.data).toEqual(expected(await getShow(show.id)));
    expect(first.data.available_seats).toBe(5);
    expect(first.id).toMatch(/^\d+\.\d+$/);
    expect(stream.retry).toBeGreaterThan(0);
  });

  it('sends the exact numbers after a hold, a confirm, a cancel, a comp and a block', async () => {
    const show = await createShow(ctx.app, { total_seats: 10 });
    const stream = await open(show.id);
    await stream.next('availability');
    const step = async (act: () => Promise<unknown>) => {
      const from = stream.events.length;
      await act();
      const now = await getShow(show.id);
      const update = await stream.next('availability', sameAs(now), from);
      expect(update.data).toEqual({ ...expected(now), changed_at: expect.any(String) });
      expect(Date.parse(update.data.changed_at)).toBeLessThanOrEqual(Date.now() + 1000);
      return update.data.available_seats as number;
    };
    let first!: Awaited<ReturnType<typeof hold>>;
    expect(await step(async () => (first = await hold(ctx.app, show.id, 3)))).toBe(7);
    expect(
      await step(() => post(`/api/bookings/${first.id}/confirm`, undefined, { 'x-hold-token': first.hold_token })),
    ).toBe(7);
    let second!: Awaited<ReturnType<typeof hold>>;
    expect(await step(async () => (second = await hold(ctx.app, show.id, 2)))).toBe(5);
    expect(
      await step(() => post(`/api/bookings/${second.id}/cancel`, undefined, { 'x-hold-token': second.hold_token })),
    ).toBe(7);
    expect(await step(() => post(`/api/shows/${show.id}/comps`, { seats: 2 }, admin))).toBe(5);
    expect(await step(() => post(`/api/shows/${show.id}/blocks`, { seats: 5 }, admin))).toBe(0);
    expect(stream.of('availability').at(-1)!.data.sold_out).toBe(true);
  });

  it('coalesces a burst into at most one update per interval, the last one exact', async () => {
    const show = await createShow(ctx.app, { total_seats: 1000 });
    const stream = await open(show.id);
    await stream.next('availability');
    const from = stream.events.length;
    const started = Date.now();
    const holds = 150;
    for (let wave = 0; wave < 5; wave++) {
      await Promise.all(Array.from({ length: holds / 5 }, () => post(`/api/shows/${show.id}/book`, { seats: 1 })));
      await sleep(60);
    }
    const last = await stream.next('availability', (data) => data.available_seats === 1000 - holds, from);
    const duration = last.at - started;
    await sleep(3 * INTERVAL_MS); // nothing more comes
    const updates = stream.events.slice(from).filter((e) => e.event === 'availability');
    expect(updates.length).toBeLessThanOrEqual(Math.ceil(duration / INTERVAL_MS) + 1);
    expect(updates.length).toBeLessThan(holds / 5);
    expect(updates.at(-1)!.data).toEqual({ ...expected(await getShow(show.id)), changed_at: expect.any(String) });
    // (Gaps between updates are not checked here: a client on a loaded machine can read two
    // frames in one go. The count above is what bounds the rate.)
  });

  it('names exactly the seats that changed, with their state now, before the numbers', async () => {
    const showId = await createSeated([
      { label: 'A', seats: 6, category: 'premium' },
      { label: 'B', seats: 6 },
    ]);
    const stream = await open(showId);
    expect((await stream.next('availability')).data).toEqual(expected(await getShow(showId)));
    const step = async (
      act: () => Promise<{ statusCode: number; body: string; json(): any }>,
      seats: Record<string, string>,
    ) => {
      const from = stream.events.length;
      const answer = await act();
      expect(answer.statusCode, answer.body).toBeLessThan(300);
      const now = await getShow(showId);
      const update = await stream.next('availability', sameAs(now), from);
      const received = stream.events.slice(from, stream.events.indexOf(update)).filter((e) => e.event === 'seats');
      expect(received.length).toBeGreaterThan(0);
      for (const event of received) expect(event.data.show_id).toBe(showId);
      expect(Object.assign({}, ...received.map((e) => e.data.seats))).toEqual(seats);
      expect(update.data).toEqual({ ...expected(now), changed_at: expect.any(String) });
      return answer.statusCode === 204 ? undefined : answer.json();
    };
    const held = await step(() => post(`/api/shows/${showId}/book`, { seat_ids: ['Stalls-A-1', 'Stalls-A-2'] }), {
      'Stalls-A-1': 'H',
      'Stalls-A-2': 'H',
    });
    await step(() => post(`/api/bookings/${held.id}/confirm`, undefined, { 'x-hold-token': held.hold_token }), {
      'Stalls-A-1': 'S',
      'Stalls-A-2': 'S',
    });
    const other = await step(() => post(`/api/shows/${showId}/book`, { seat_ids: ['Stalls-B-3'] }), {
      'Stalls-B-3': 'H',
    });
    await step(() => post(`/api/bookings/${other.id}/cancel`, undefined, { 'x-hold-token': other.hold_token }), {
      'Stalls-B-3': 'F',
    });
    const block = await step(
      () => post(`/api/shows/${showId}/blocks`, { seat_ids: ['Stalls-B-5', 'Stalls-B-6'] }, admin),
      {
        'Stalls-B-5': 'B',
        'Stalls-B-6': 'B',
      },
    );
    await step(() => post(`/api/shows/${showId}/comps`, { seat_ids: ['Stalls-B-6'] }, admin), { 'Stalls-B-6': 'S' });
    await step(
      () => ctx.app.inject({ method: 'DELETE', url: `/api/shows/${showId}/blocks/${block.id}`, headers: admin }),
      { 'Stalls-B-5': 'F' },
    );
  });

  it('resumes from Last-Event-ID with exactly the seats missed, and resets on an id it cannot use', async () => {
    const showId = await createSeated([{ label: 'A', seats: 8 }]);
    const first = await open(showId);
    const snapshot = await first.next('availability');
    first.close();
    await sleep(50);
    const held = (await post(`/api/shows/${showId}/book`, { seat_ids: ['Stalls-A-3', 'Stalls-A-4'] })).json();
    expect((await post(`/api/shows/${showId}/blocks`, { seat_ids: ['Stalls-A-8'] }, admin)).statusCode).toBe(201);
    expect(
      (await post(`/api/bookings/${held.id}/cancel`, undefined, { 'x-hold-token': held.hold_token })).statusCode,
    ).toBe(200);
    await post(`/api/shows/${showId}/book`, { seat_ids: ['Stalls-A-4'] });

    const missed = { 'Stalls-A-3': 'F', 'Stalls-A-4': 'H', 'Stalls-A-8': 'B' };
    const now = await getShow(showId);
    /** The seats a stream was sent, merged, once it has the numbers of now. */
    const seatsSent = async (stream: SseStream) => {
      const numbers = await stream.next('availability', sameAs(now));
      expect(numbers.data).toEqual({
        ...expected(now),
        ...(numbers.data.changed_at ? { changed_at: expect.any(String) } : {}),
      });
      expect(numbers.data.reset).toBeUndefined();
      const upTo = stream.events.indexOf(numbers);
      return {
        numbers,
        seats: Object.assign(
          {},
          ...stream.events
            .slice(0, upTo)
            .filter((e) => e.event === 'seats')
            .map((e) => e.data.seats),
        ),
      };
    };
    const resumed = await open(showId, { 'last-event-id': snapshot.id! });
    const { numbers, seats } = await seatsSent(resumed);
    expect(resumed.events[0]!.event).toBe('seats'); // the seats first, then the numbers
    expect(seats).toEqual(missed);

    // The same through the query parameter.
    const byQuery = await open(showId, {}, `?last_event_id=${snapshot.id!}`);
    expect((await seatsSent(byQuery)).seats).toEqual(missed);

    // Resumed at the latest id: nothing missed. (A change just before it may be sent again, as
    // it is now: the outbox is read up to the oldest transaction running in the cluster.)
    const current = await open(showId, { 'last-event-id': numbers.id! });
    const again = (await seatsSent(current)).seats;
    for (const [id, state] of Object.entries(again)) expect(state).toBe(missed[id as keyof typeof missed]);

    for (const id of ['garbage', '99999999999.1', '1.2.3']) {
      const reset = await open(showId, { 'last-event-id': id });
      const event = await reset.next('availability');
      expect(reset.events[0], id).toBe(event); // no seats before it
      expect(event.data, id).toEqual({ ...expected(await getShow(showId)), reset: true });
    }
  });

  it("a resume from any position, however old or far, reads only its own show's events: no more than it returns", async () => {
    const showId = await createSeated([{ label: 'A', seats: 4 }]);
    const first = await open(showId);
    const snapshot = await first.next('availability');
    first.close();
    expect((await post(`/api/shows/${showId}/book`, { seat_ids: ['Stalls-A-2'] })).statusCode).toBe(201);
    // The rest of the outbox: 30,000 events of other shows after the snapshot.
    await ctx.pool.query(
      `INSERT INTO outbox_events (type, show_id, occurred_at, data)
       SELECT 'booking.held', gen_random_uuid(), now(), '{"seat_ids": ["S-A-1"]}' FROM generate_series(1, 30000)`,
    );
    await ctx.pool.query('ANALYZE outbox_events');
    // An id a client made up: a transaction before the snapshot's, with a sequence number far past any given out.
    const made = `${BigInt(snapshot.id!.split('.')[0]!) - 1n}.9000000000000000000`;

    // What such a resume reads: the replay's query, run under EXPLAIN ANALYZE.
    const queries: { text: string; values: unknown[] }[] = [];
    const spy = {
      query: (text: string, values: unknown[]) => {
        queries.push({ text, values });
        return ctx.pool.query(text, values);
      },
    } as unknown as Pool;
    const outbox = new OutboxRepository(spy);
    // (Read up to the oldest transaction running in the cluster: other test files may hold one open a while.)
    let read = await outbox.seatChangesAfter(parsePosition(made)!, showId, MAX_REPLAY);
    for (let tries = 0; read.rows.length === 0 && tries < 100; tries++) {
      await sleep(100);
      read = await outbox.seatChangesAfter(parsePosition(made)!, showId, MAX_REPLAY);
    }
    expect(read.rows.map((row) => row.type)).toEqual(['booking.held']);
    const { rows: plan } = await ctx.pool.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      `EXPLAIN (ANALYZE, FORMAT JSON) ${queries.at(-1)!.text}`,
      queries.at(-1)!.values,
    );
    const touched = rowsTouched(plan[0]!['QUERY PLAN'][0].Plan, 'outbox_events');
    expect(touched).toBeLessThanOrEqual(read.rows.length + 5);

    // And the stream itself answers at once, with the show as it is.
    const resumed = await open(showId, { 'last-event-id': made });
    const numbers = await resumed.next('availability', sameAs(await getShow(showId)));
    expect(numbers.data).toMatchObject(expected(await getShow(showId)));
  });

  it('holds back a change while an older transaction runs, then sends it: nothing committed later is passed', async () => {
    const show = await createShow(ctx.app, { total_seats: 10 });
    const other = await createShow(ctx.app, { total_seats: 10 });
    const stream = await open(show.id);
    await stream.next('availability', sameAs(await getShow(show.id)));
    const client = await ctx.pool.connect();
    try {
      await client.query('BEGIN');
      // Takes a transaction id before the hold's, and commits after it.
      await client.query(`UPDATE shows SET title = 'Slow' WHERE id = $1`, [other.id]);
      await hold(ctx.app, show.id, 2);
      await sleep(3 * INTERVAL_MS);
      expect(stream.of('availability').filter((e) => e.data.available_seats === 8)).toEqual([]);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    await stream.next('availability', (data) => data.available_seats === 8);
  });

  it('answers problems for an unknown show and a malformed id', async () => {
    const missing = await open('00000000-0000-4000-8000-000000000000');
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(await missing.body()).toMatchObject({ status: 404, code: 'show_not_found' });
    const head = await ctx.app.inject({
      method: 'HEAD',
      url: `/api/shows/${(await createShow(ctx.app)).id}/availability/stream`,
    });
    expect(head.statusCode).toBe(404);
    const malformed = await open('not-a-uuid');
    expect(malformed.status).toBe(400);
    expect(await malformed.body()).toMatchObject({ status: 400, code: 'validation_failed' });
  });

  it('lets go of a stream the client closed', async () => {
    const show = await createShow(ctx.app);
    for (const stream of streams) stream.close();
    await waitForSize(0);
    const stream = await open(show.id);
    await stream.next('availability');
    expect(ctx.services.availability.size).toBe(1);
    expect(await openStreamsGauge()).toBe(1);
    stream.close();
    await waitForSize(0);
    expect(await openStreamsGauge()).toBe(0);
    // …and the feed still serves the next one.
    const again = await open(show.id);
    await again.next('availability');
    await hold(ctx.app, show.id);
    await again.next('availability', (data) => data.available_seats === 9);
  });

  it('lets go of streams whose clients left before their first event (while the show was looked up)', async () => {
    const show = await createShow(ctx.app);
    for (const stream of streams) stream.close();
    await waitForSize(0);
    const { port } = new URL(base);
    // Each client sends its request and resets the connection at once: some leave before the
    // route subscribes, some after, none reads anything.
    await Promise.all(
      Array.from(
        { length: 30 },
        (_, i) =>
          new Promise<void>((resolve) => {
            const socket = connect(Number(port), '127.0.0.1', () => {
              socket.write(`GET /api/shows/${show.id}/availability/stream HTTP/1.1\r\nHost: test\r\n\r\n`);
              setTimeout(() => socket.resetAndDestroy(), i % 3);
            });
            socket.on('error', () => {});
            socket.on('close', () => resolve());
          }),
      ),
    );
    await hold(ctx.app, show.id); // a change to send, so the feed visits every stream of the show
    await waitForSize(0);
  });
});

/** seat_hold_sse_streams as GET /metrics reports it. */
async function openStreamsGauge(): Promise<number> {
  const text = (await ctx.app.inject({ method: 'GET', url: '/metrics', headers: admin })).body;
  return metricValue(text, 'seat_hold_sse_streams');
}

async function waitForSize(size: number): Promise<void> {
  const deadline = Date.now() + 3_000;
  while (ctx.services.availability.size !== size) {
    if (Date.now() > deadline) throw new Error(`feed has ${ctx.services.availability.size} streams, not ${size}`);
    await sleep(10);
  }
}

describe('short holds and limits', () => {
  let small: TestContext;
  let url: string;
  beforeAll(async () => {
    small = await startTestApp({ SSE_MAX_STREAMS: '2', SSE_HEARTBEAT_SECONDS: '1' });
    url = await small.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => small.close());
  // A failed test's streams must not count against the next one's SSE_MAX_STREAMS.
  const opened: SseStream[] = [];
  const openSmall = async (showId: string, headers: Record<string, string> = {}) => {
    const stream = await SseStream.open(`${url}/api/shows/${showId}/availability/stream`, headers);
    opened.push(stream);
    return stream;
  };
  afterEach(async () => {
    for (const stream of opened.splice(0)) stream.close();
    const deadline = Date.now() + 3_000;
    while (small.services.availability.size > 0 && Date.now() < deadline) await sleep(10);
  });

  it('sends the seats of a hold swept after its deadline as free', async () => {
    const showId = await createSeatedShow(small.app, [{ label: 'A', seats: 4 }], 'S');
    const stream = await openSmall(showId);
    await stream.next('availability');
    const held = await small.app.inject({
      method: 'POST',
      url: `/api/shows/${showId}/book`,
      payload: { seat_ids: ['S-A-2'] },
    });
    expect(held.statusCode).toBe(201);
    expect((await stream.next('seats')).data.seats).toEqual({ 'S-A-2': 'H' });
    await lapse(small.pool, held.json<{ id: string }>().id);
    const from = stream.events.length;
    await small.services.expiry.sweep();
    expect((await stream.next('seats', () => true, from)).data.seats).toEqual({ 'S-A-2': 'F' });
    const numbers = await stream.next('availability', () => true, from);
    expect(numbers.data).toMatchObject({ available_seats: 4, available_by_category: { standard: 4 } });

    // Resumed after a hold lapsed but before anything swept it: its seat reads free, as in GET /seats.
    const at = stream.lastEventId!;
    stream.close();
    const lapsing = await small.app.inject({
      method: 'POST',
      url: `/api/shows/${showId}/book`,
      payload: { seat_ids: ['S-A-4'] },
    });
    expect(lapsing.statusCode).toBe(201);
    await lapse(small.pool, lapsing.json<{ id: string }>().id);
    const resumed = await openSmall(showId, { 'last-event-id': at });
    // In its replay, or (when another test file's transaction holds the outbox's horizon back) in
    // the first update after it: the seat's state when sent.
    expect((await resumed.next('seats')).data.seats).toEqual({ 'S-A-4': 'F' });
    const map = (await small.app.inject({ url: `/api/shows/${showId}/seats` })).json();
    expect(map.sections[0].rows[0].status).toBe('FFFF');
    resumed.close();
    await stream.until(() => small.services.availability.size === 0, 3_000, 'the streams let go');
  });

  it('answers 503 too_many_streams past SSE_MAX_STREAMS, heartbeats every SSE_HEARTBEAT_SECONDS, ends streams on close', async () => {
    const show = await createShow(small.app);
    const [one, two] = [await openSmall(show.id), await openSmall(show.id)];
    await one.next('availability');
    await two.next('availability');
    const refused = await openSmall(show.id);
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBeDefined();
    expect(await refused.body()).toMatchObject({ status: 503, code: 'too_many_streams' });

    await one.until(() => one.comments.includes('heartbeat'), 2_500, 'a heartbeat');
    two.close();
    await one.until(() => small.services.availability.size === 1, 3_000, 'the closed stream let go');
    const three = await openSmall(show.id);
    expect(three.status).toBe(200);

    // Closing the app ends the open streams instead of waiting for them.
    const closing = Date.now();
    await small.app.close();
    expect(Date.now() - closing).toBeLessThan(3_000);
    await one.until(() => one.ended && three.ended, 2_000, 'the streams to end');
  });
});
