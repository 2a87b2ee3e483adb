import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, sleep, startTestApp, type TestAppOptions, type TestContext } from '../helpers.js';
import { admin, Api, createSeatedShow, createShow, hold, type CustomerAction } from '../support/api.js';
import { inventory } from '../support/database.js';
import { lapse } from '../support/clock.js';
import { lockShow, lockWaiters } from '../support/locks.js';

// What happens to requests that arrive while a show's row is locked by someone else (a
// slow group, another API process, an operator's transaction): they are judged at the
// instant they get the lock, a retry never fails strangers, and nobody waits unbounded.

let ctx: TestContext;
const others: TestContext[] = [];
beforeAll(async () => {
  ctx = await startTestApp({ DB_POOL_SIZE: '6' });
});
afterAll(async () => {
  await ctx.close();
  for (const other of others) await other.close();
});

async function app(overrides: Record<string, string>, options?: TestAppOptions): Promise<TestContext> {
  const started = await startTestApp(overrides, options);
  others.push(started);
  return started;
}

// A hold of one seat, and a buyer's action on it, through `on` (this file's app unless told).
const book = (showId: string, headers: Record<string, string> = {}, on: TestContext = ctx) =>
  new Api(on.app).hold(showId, { seats: 1 }, headers);
const act = (id: string, action: CustomerAction, token: string, on: TestContext = ctx) =>
  new Api(on.app).act(action, { id, hold_token: token });

describe('a retry that took over an Idempotency-Key', () => {
  it('lands in the same group as the request it replaced: only that request fails', async () => {
    const show = await createShow(ctx.app, { total_seats: 10 });
    const lock = await lockShow(ctx.database.url, show.id);
    // The group in flight, blocked on the lock; everything after it queues for the next group.
    const inFlight = book(show.id);
    await lockWaiters(ctx.pool, 1);

    const key = randomUUID();
    const original = book(show.id, { 'idempotency-key': key });
    const claimOf = async () =>
      (await ctx.pool.query<{ claim_id: string }>('SELECT claim_id FROM idempotency_keys')).rows.map((r) => r.claim_id);
    while ((await claimOf()).length === 0) await sleep(10);
    const [firstClaim] = await claimOf();
    // The original has waited past its lease (10 s) in the show's queue.
    await ctx.pool.query(`UPDATE idempotency_keys SET locked_until = now() - interval '1 second'`);
    const retry = book(show.id, { 'idempotency-key': key });
    while ((await claimOf())[0] === firstClaim) await sleep(10);
    const stranger = book(show.id);
    await sleep(50);

    await lock.release();
    const [a, b, c, d] = await Promise.all([inFlight, original, retry, stranger]);
    expect(a.statusCode).toBe(201);
    expectProblem(b, 409, 'idempotency_in_progress');
    expect(c.statusCode).toBe(201);
    expect(d.statusCode).toBe(201);
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 3, pending_rows: 3 });
    // The retry's answer is the one recorded for the key, and replays.
    const replay = await book(show.id, { 'idempotency-key': key });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toBe(c.body);
  });
});

describe('one group, decided in the database', () => {
  it('first come, first served, never partial: a later, smaller request still fits after a larger one did not', async () => {
    const show = await createShow(ctx.app, { total_seats: 7 });
    const lock = await lockShow(ctx.database.url, show.id);
    const inFlight = book(show.id); // 1 seat, the group in flight; 6 left for the next
    await lockWaiters(ctx.pool, 1);
    const group = [];
    for (const seats of [2, 3, 4, 1]) {
      group.push(ctx.app.inject({ method: 'POST', url: `/api/shows/${show.id}/book`, payload: { seats } }));
      await sleep(10); // arrival order
    }
    await lock.release();
    expect((await inFlight).statusCode).toBe(201);
    const answers = await Promise.all(group);
    expect(answers.map((answer) => answer.statusCode)).toEqual([201, 201, 409, 201]);
    expect(expectProblem(answers[2]!, 409, 'sold_out').available_seats).toBe(0);
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 7, pending_rows: 7 });
  });

  it('a booking id starts with its show id, so a load balancer can route it with its show', async () => {
    const show = await createShow(ctx.app, { total_seats: 2 });
    const held = await hold(ctx.app, show.id);
    expect(held.id.slice(0, 8)).toBe(show.id.slice(0, 8));
    expect(held.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('several actions on one booking in one group', () => {
  it('an extend then a confirm: the confirm answers (and records for replay) the extended deadline', async () => {
    const show = await createShow(ctx.app, { total_seats: 3 });
    const [first, second] = [await hold(ctx.app, show.id), await hold(ctx.app, show.id)];
    const lock = await lockShow(ctx.database.url, show.id);
    const inFlight = act(first.id, 'confirm', first.hold_token);
    await lockWaiters(ctx.pool, 1);
    const extended = act(second.id, 'extend', second.hold_token);
    await sleep(20);
    const key = randomUUID();
    const confirmed = ctx.app.inject({
      method: 'POST',
      url: `/api/bookings/${second.id}/confirm`,
      headers: { 'x-hold-token': second.hold_token, 'idempotency-key': key },
    });
    await sleep(50);
    await lock.release();
    expect((await inFlight).statusCode).toBe(200);
    const [extendAnswer, confirmAnswer] = [(await extended).json(), (await confirmed).json()];
    const { rows } = await ctx.pool.query<{ expires_at: Date; status: string }>(
      'SELECT expires_at, status FROM bookings WHERE id = $1',
      [second.id],
    );
    expect(rows[0]!.status).toBe('CONFIRMED');
    expect(extendAnswer.expires_at).toBe(rows[0]!.expires_at.toISOString());
    expect(confirmAnswer).toMatchObject({ status: 'CONFIRMED', expires_at: rows[0]!.expires_at.toISOString() });
    const replay = await ctx.app.inject({
      method: 'POST',
      url: `/api/bookings/${second.id}/confirm`,
      headers: { 'x-hold-token': second.hold_token, 'idempotency-key': key },
    });
    expect(replay.json().expires_at).toBe(confirmAnswer.expires_at);
  });

  it('a late confirm expires its own hold only; other overdue holds are left to the jobs and the sweep', async () => {
    const show = await createShow(ctx.app, { total_seats: 2 });
    const [late, other] = [await hold(ctx.app, show.id), await hold(ctx.app, show.id)];
    await lapse(ctx.pool, [late.id, other.id]);
    expectProblem(await act(late.id, 'confirm', late.hold_token), 409, 'hold_expired');
    const { rows } = await ctx.pool.query<{ id: string; status: string }>(
      'SELECT id, status FROM bookings WHERE show_id = $1 ORDER BY id',
      [show.id],
    );
    expect(Object.fromEntries(rows.map((row) => [row.id, row.status]))).toEqual({
      [late.id]: 'EXPIRED',
      [other.id]: 'PENDING',
    });
    // Which still does not count: both seats are on sale.
    expect((await ctx.app.inject({ method: 'GET', url: `/api/shows/${show.id}` })).json().available_seats).toBe(2);
  });
});

describe('deadlines are judged when the show lock is granted, not when the request began', () => {
  for (const action of ['confirm', 'cancel'] as const) {
    it(`a ${action} that waited on the lock past expires_at: 409 hold_expired, the booking EXPIRED, its seat on sale`, async () => {
      const show = await createShow(ctx.app, { total_seats: 1 });
      const held = await hold(ctx.app, show.id);
      const lock = await lockShow(ctx.database.url, show.id);
      const late = act(held.id, action, held.hold_token);
      await lockWaiters(ctx.pool, 1);
      await lapse(ctx.pool, held.id); // its deadline passes while it waits
      await lock.release();

      expectProblem(await late, 409, 'hold_expired');
      const seen = await ctx.app.inject({
        method: 'GET',
        url: `/api/bookings/${held.id}`,
        headers: { 'x-hold-token': held.hold_token },
      });
      expect(seen.json().status).toBe('EXPIRED');
      const { rows } = await ctx.pool.query('SELECT status FROM bookings WHERE id = $1', [held.id]);
      expect(rows[0].status).toBe('EXPIRED');
      expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 0, confirmed: 0, pending_rows: 0 });
    });
  }

  it('a hold that waited on the lock past the show start: 409 show_started, nothing held', async () => {
    const show = await createShow(ctx.app, { total_seats: 5 });
    const lock = await lockShow(ctx.database.url, show.id);
    const late = book(show.id);
    await lockWaiters(ctx.pool, 1);
    // The show starts while the hold waits (its start moved into the past, committed with the lock).
    await lock.query("UPDATE shows SET start_time = now() - interval '1 second' WHERE id = $1", [show.id]);
    await lock.release();
    expectProblem(await late, 409, 'show_started');
    expect(await inventory(ctx.pool, show.id)).toMatchObject({ held: 0, pending_rows: 0 });
  });
});

describe('no wait is unbounded', () => {
  it('beyond HOLD_QUEUE_MAX requests waiting on a show: 503 with Retry-After at once, nothing held', async () => {
    const small = await app({ HOLD_QUEUE_MAX: '2' });
    const show = await createShow(small.app, { total_seats: 10 });
    const lock = await lockShow(small.database.url, show.id);
    const inFlight = book(show.id, {}, small);
    await lockWaiters(small.pool, 1);
    const waiting = [book(show.id, {}, small), book(show.id, {}, small)];
    await sleep(50);
    // Answered while the show is still locked: refused at once, not after a wait.
    const refused = await book(show.id, {}, small);
    expectProblem(refused, 503, 'service_unavailable');
    expect(refused.headers['retry-after']).toBe('1');
    await lock.release();
    expect((await Promise.all([inFlight, ...waiting])).map((r) => r.statusCode)).toEqual([201, 201, 201]);
    expect(await inventory(small.pool, show.id)).toMatchObject({ held: 3, pending_rows: 3 });
  });

  it('a request that waited REQUEST_TIMEOUT_MS for its show: 503 while the show is still locked, nothing held', async () => {
    const quick = await app({ REQUEST_TIMEOUT_MS: '300' });
    const show = await createShow(quick.app, { total_seats: 10 });
    const held = await hold(quick.app, show.id);
    const lock = await lockShow(quick.database.url, show.id);
    const inFlight = book(show.id, {}, quick);
    await lockWaiters(quick.pool, 1);
    const timedOut = [book(show.id, {}, quick), act(held.id, 'confirm', held.hold_token, quick)];
    for (const answer of await Promise.all(timedOut)) {
      expectProblem(answer, 503, 'service_unavailable');
      expect(answer.headers['retry-after']).toBe('1');
    }
    await lock.release();
    expect((await inFlight).statusCode).toBe(201);
    expect(await inventory(quick.pool, show.id)).toMatchObject({ held: 2, confirmed: 0, pending_rows: 2 });
  });

  it('a lock wait past DB_LOCK_TIMEOUT_MS: 503 with Retry-After for holds, confirms and cancels, never a 500', async () => {
    const impatient = await app({ DB_LOCK_TIMEOUT_MS: '200' });
    const show = await createShow(impatient.app, { total_seats: 10 });
    const held = await hold(impatient.app, show.id);
    const lock = await lockShow(impatient.database.url, show.id);
    const answers = await Promise.all([
      book(show.id, {}, impatient),
      act(held.id, 'confirm', held.hold_token, impatient),
      act(held.id, 'cancel', held.hold_token, impatient),
    ]);
    await lock.release();
    for (const answer of answers) {
      expectProblem(answer, 503, 'service_unavailable');
      expect(answer.headers['retry-after']).toBe('1');
    }
    expect(await inventory(impatient.pool, show.id)).toMatchObject({ held: 1, confirmed: 0, pending_rows: 1 });
    expect((await book(show.id, {}, impatient)).statusCode).toBe(201);
  });

  it('a client that went away while its hold waited leaves the queue holding nothing; one still there is served', async () => {
    const served = await app({});
    const address = await served.app.listen({ host: '127.0.0.1', port: 0 });
    const show = await createShow(served.app, { total_seats: 10 });
    const lock = await lockShow(served.database.url, show.id);
    const inFlight = book(show.id, {}, served);
    await lockWaiters(served.pool, 1);
    const rawHold = async (seats: number) => {
      const socket = connect(Number(new URL(address).port), '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
      const body = JSON.stringify({ seats });
      socket.write(
        `POST /api/shows/${show.id}/book HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
      return { socket, answer: () => answer };
    };
    const abandoned = await rawHold(2);
    const kept = await rawHold(3);
    await sleep(200); // both parsed, validated and queued behind the locked group
    expect(abandoned.answer()).toBe('');
    expect(kept.answer()).toBe('');
    abandoned.socket.destroy();
    await sleep(50);
    await lock.release();
    expect((await inFlight).statusCode).toBe(201);
    for (let attempt = 0; attempt < 100 && kept.answer() === ''; attempt++) await sleep(20);
    expect(kept.answer()).toMatch(/^HTTP\/1\.1 201 /);
    kept.socket.destroy();
    expect(await inventory(served.pool, show.id)).toMatchObject({ held: 4, pending_rows: 4 });
  });

  it('a client trickling its request is answered 408 and cut off after REQUEST_TIMEOUT_MS', async () => {
    const served = await app({ REQUEST_TIMEOUT_MS: '300' });
    const address = await served.app.listen({ host: '127.0.0.1', port: 0 });
    const socket = connect(Number(new URL(address).port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write(
      `POST /api/shows HTTP/1.1\r\nHost: x\r\nAuthorization: ${admin.authorization}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`,
    );
    // One byte every 100 ms keeps the socket busy, never idle; only the request deadline ends it.
    const trickle = setInterval(() => socket.write(' '), 100);
    try {
      const outcome = await Promise.race([closed.then(() => 'closed'), sleep(5_000).then(() => 'still open')]);
      expect(outcome).toBe('closed');
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
  });

  it('a throw after a group committed does not wedge the show: its next requests are served', async () => {
    let calls = 0;
    const throwing = await app(
      {},
      {
        onHoldGroupCommitted: () => {
          calls++;
          if (calls === 1) throw new Error('scheduler bug');
        },
      },
    );
    const show = await createShow(throwing.app, { total_seats: 10 });
    expect((await book(show.id, {}, throwing)).statusCode).toBe(201);
    expect((await book(show.id, {}, throwing)).statusCode).toBe(201);
    expect(calls).toBe(2);
  });
});

describe('a group that fails part way', () => {
  it('answers each request as what committed: a seated hold an earlier statement of the group wrote is 201, not 503', async () => {
    const seller = await app({ HOLD_TTL_SECONDS: '60' });
    const showId = await createSeatedShow(seller.app, [{ label: 'A', seats: 4 }], 'S');
    const seatHold = (payload: object) =>
      seller.app.inject({ method: 'POST', url: `/api/shows/${showId}/book`, payload });
    // A hold on S-A-1 that lapsed without this process knowing (its deadline moved into the past).
    const lapsed = await seatHold({ seat_ids: ['S-A-1'] });
    expect(lapsed.statusCode).toBe(201);
    const paid = await seatHold({ seat_ids: ['S-A-4'] });
    await seller.pool.query(
      `UPDATE bookings SET created_at = created_at - interval '1 hour', expires_at = now() - interval '1 second'
       WHERE id = $1`,
      [lapsed.json().id],
    );
    // A fault for the group's second statement: the hold of customer "doomed" cannot be written.
    await seller.pool.query(`CREATE FUNCTION public.refuse_doomed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.customer_ref = 'doomed' THEN RAISE EXCEPTION 'injected fault'; END IF; RETURN NEW; END $$`);
    await seller.pool.query(
      'CREATE TRIGGER refuse_doomed BEFORE INSERT ON bookings FOR EACH ROW EXECUTE FUNCTION public.refuse_doomed()',
    );
    // One group: "doomed" asks for S-A-1 (taken, as this process believes), "fine" for S-A-2. The
    // first statement expires the lapsed hold and holds S-A-2 (committed); S-A-1 came free, so
    // "doomed" is chosen again, and that second statement fails. (A confirm before them, waiting on
    // the show's lock, makes them wait together; a confirm expires no one else's hold.)
    const lock = await lockShow(seller.database.url, showId);
    const first = act(paid.json().id, 'confirm', paid.json().hold_token, seller);
    await lockWaiters(seller.pool, 1);
    const doomed = seatHold({ seat_ids: ['S-A-1'], customer_ref: 'doomed' });
    const fine = seatHold({ seat_ids: ['S-A-2'] });
    await sleep(200);
    await lock.release();
    expect((await first).statusCode).toBe(200);
    const [doomedAnswer, fineAnswer] = await Promise.all([doomed, fine]);
    expectProblem(doomedAnswer, 503, 'service_unavailable');
    expect(fineAnswer.statusCode, fineAnswer.body).toBe(201);
    const { rows } = await seller.pool.query<{ id: string; status: string; seat_ids: string[] }>(
      "SELECT id, status, seat_ids FROM bookings WHERE show_id = $1 AND status <> 'EXPIRED' ORDER BY seat_ids",
      [showId],
    );
    expect(rows).toEqual([
      { id: fineAnswer.json().id, status: 'PENDING', seat_ids: ['S-A-2'] },
      { id: paid.json().id, status: 'CONFIRMED', seat_ids: ['S-A-4'] },
    ]);
    // The token answered works: the committed hold is the client's.
    expect((await act(fineAnswer.json().id, 'confirm', fineAnswer.json().hold_token, seller)).statusCode).toBe(200);
  });
});

describe('hold groups of several shows share one statement', () => {
  it('a show locked elsewhere does not stall the batch it is in: its group waits alone, the rest are served', async () => {
    // A pool of 4: at most 2 hold statements in flight; groups ready beyond that share the next one.
    const narrow = await app({ DB_POOL_SIZE: '4' });
    const [slow1, slow2, a, b, busy] = await Promise.all(
      Array.from({ length: 5 }, () => createShow(narrow.app, { total_seats: 5 })),
    );
    const locks = [await lockShow(narrow.database.url, slow1!.id), await lockShow(narrow.database.url, slow2!.id)];
    const busyLock = await lockShow(narrow.database.url, busy!.id);
    // Both statement slots wait on locked shows…
    const stuck = [book(slow1!.id, {}, narrow), book(slow2!.id, {}, narrow)];
    await lockWaiters(narrow.pool, 2);
    // …so these three groups are ready together and will share the next statement.
    const batch = [book(a!.id, {}, narrow), book(b!.id, {}, narrow), book(busy!.id, {}, narrow)];
    await sleep(50);
    await locks[0]!.release();
    const [first, second] = await Promise.all(batch.slice(0, 2));
    // Answered while `busy` is still locked: SKIP LOCKED left it out of the batch.
    expect([first!.statusCode, second!.statusCode]).toEqual([201, 201]);
    await locks[1]!.release();
    await busyLock.release();
    expect((await Promise.all([...stuck, batch[2]!])).map((answer) => answer.statusCode)).toEqual([201, 201, 201]);
    for (const show of [slow1, slow2, a, b, busy]) {
      expect(await inventory(narrow.pool, show!.id)).toMatchObject({ held: 1, pending_rows: 1 });
    }
  });
});

describe("one show's on-sale does not starve another", () => {
  it('confirms piling up on a locked show leave connections for reads and holds on other shows', async () => {
    const narrow = await app({ DB_POOL_SIZE: '3', HOLD_TTL_SECONDS: '60' });
    const hot = await createShow(narrow.app, { total_seats: 40 });
    const quiet = await createShow(narrow.app, { total_seats: 10 });
    const holds = await Promise.all(Array.from({ length: 40 }, () => hold(narrow.app, hot.id)));
    const lock = await lockShow(narrow.database.url, hot.id);
    const confirms = holds.map((held) => act(held.id, 'confirm', held.hold_token, narrow));
    await lockWaiters(narrow.pool, 1);
    await sleep(100);
    // While every confirm of the hot show waits, the quiet show is served from the same pool.
    const read = await narrow.app.inject({ method: 'GET', url: `/api/shows/${quiet.id}` });
    expect(read.statusCode).toBe(200);
    expect((await book(quiet.id, {}, narrow)).statusCode).toBe(201);
    await lock.release();
    expect((await Promise.all(confirms)).map((r) => r.statusCode)).toEqual(holds.map(() => 200));
    expect(await inventory(narrow.pool, hot.id)).toMatchObject({ held: 0, confirmed: 40, confirmed_rows: 40 });
  });
});

describe('the periodic sweep', () => {
  it('a pass asked for while one runs shares it instead of running beside it', async () => {
    const { housekeeping } = ctx.services;
    const first = housekeeping.run();
    const second = housekeeping.run();
    expect(second).toBe(first);
    await first;
    const next = housekeeping.run();
    expect(next).not.toBe(first);
    await next;
  });
});
