import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventFromRow, type WebhookEvent } from '../../src/domain/events.js';
import { OutboxRepository, type OutboxPosition } from '../../src/repositories/outbox.repository.js';
import { sleep, startTestApp, type TestContext } from '../helpers.js';
import { admin, createSeatedShow, createShow, hold } from '../support/api.js';
import { lapse } from '../support/clock.js';

// The outbox: every change writes its events in its own transaction, whatever path made it.
let ctx: TestContext;
let outbox: OutboxRepository;
let position: OutboxPosition;
beforeAll(async () => {
  ctx = await startTestApp();
  outbox = new OutboxRepository(ctx.pool);
  position = await outbox.head();
});
afterAll(() => ctx.close());

/**
 * The events committed since the last call, as the API sends them (JSON, as a receiver parses it).
 * Read in commit order up to every transaction begun before the call: another test file's
 * transaction still running (the horizon is the cluster's) holds the read back until it ends.
 */
async function newEvents(): Promise<WebhookEvent[]> {
  return readEvents(true);
}

/** The events readable now: up to the oldest transaction still running, or (wait) every one begun before the call. */
async function readEvents(wait: boolean): Promise<WebhookEvent[]> {
  const { rows } = await ctx.pool.query<{ end: string }>('SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS end');
  const end = BigInt(rows[0]!.end);
  const events: WebhookEvent[] = [];
  for (const started = Date.now(); ;) {
    const page = await outbox.eventsAfter(position, 1000);
    position = page.next;
    events.push(...page.rows.map((row) => JSON.parse(JSON.stringify(eventFromRow(row))) as WebhookEvent));
    if (page.rows.length === 1000) continue;
    if (!wait || BigInt(position.tx) >= end) return events;
    if (Date.now() - started > 20_000) throw new Error(`the outbox's horizon stayed behind ${end} for 20 s`);
    await sleep(10);
  }
}

const types = (events: WebhookEvent[]) => events.map((event) => event.type);
const showIdOf = (event: WebhookEvent): string | undefined => {
  const data = event.data as { show?: { id: string }; booking?: { show_id: string }; block?: { show_id: string } };
  return data.show?.id ?? data.booking?.show_id ?? data.block?.show_id;
};
function withoutToken(held: { hold_token?: string }) {
  const booking = { ...held };
  delete booking.hold_token;
  return booking;
}
const post = (url: string, headers: Record<string, string> = {}, payload?: object) =>
  ctx.app.inject({ method: 'POST', url, headers, ...(payload ? { payload } : {}) });

describe('the outbox', () => {
  it('records show.created with the show as GET /api/shows/:id answers it', async () => {
    await newEvents();
    const show = await createShow(ctx.app, { total_seats: 3 });
    const events = await newEvents();
    expect(types(events)).toEqual(['show.created']);
    const current = (await ctx.app.inject({ url: `/api/shows/${show.id}` })).json();
    expect(events[0]!.data).toEqual({ show: current });
    expect(events[0]!.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('records each booking change with the booking as the API answered it, and never its token', async () => {
    const show = await createShow(ctx.app, { total_seats: 2 });
    await newEvents();

    const first = await hold(ctx.app, show.id);
    const [held] = await newEvents();
    expect(held).toMatchObject({ type: 'booking.held', data: { booking: withoutToken(first) } });
    expect(held!.timestamp).toBe(first.updated_at);
    expect(JSON.stringify(held)).not.toContain(first.hold_token);

    const extended = (await post(`/api/bookings/${first.id}/extend`, { 'x-hold-token': first.hold_token })).json();
    const confirmed = (await post(`/api/bookings/${first.id}/confirm`, { 'x-hold-token': first.hold_token })).json();
    const second = await hold(ctx.app, show.id);
    const cancelled = (await post(`/api/bookings/${second.id}/cancel`, { 'x-hold-token': second.hold_token })).json();
    const events = await newEvents();
    expect(types(events)).toEqual([
      'booking.extended',
      'booking.confirmed',
      'booking.held',
      'show.sold_out',
      'booking.cancelled',
      'show.back_on_sale',
    ]);
    expect(events[0]!.data).toEqual({ booking: extended });
    expect(events[1]!.data).toEqual({ booking: confirmed });
    expect(events[2]!.data).toEqual({ booking: withoutToken(second) });
    expect(events[3]!.data).toMatchObject({ show: { id: show.id, available_seats: 0 } });
    expect(events[4]!.data).toEqual({ booking: cancelled });
    expect(events[5]!.data).toMatchObject({ show: { id: show.id, available_seats: 1 } });
  });

  it('records booking.expired when a hold is swept, and nothing for a hold that was refused', async () => {
    const show = await createShow(ctx.app, { total_seats: 1 });
    const first = await hold(ctx.app, show.id);
    expect((await post(`/api/shows/${show.id}/book`, {}, { seats: 1 })).statusCode).toBe(409);
    await newEvents();
    await lapse(ctx.pool, first.id);
    await ctx.services.expiry.sweep();
    const events = await newEvents();
    expect(types(events)).toEqual(['booking.expired', 'show.back_on_sale']);
    expect(events[0]!.data).toMatchObject({ booking: { id: first.id, status: 'EXPIRED' } });
  });

  it('records one booking.held per hold of a group committed together, in one statement', async () => {
    const show = await createShow(ctx.app, { total_seats: 40 });
    await newEvents();
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => post(`/api/shows/${show.id}/book`, {}, { seats: 1 })),
    );
    const heldIds = answers.filter((answer) => answer.statusCode === 201).map((answer) => answer.json().id as string);
    expect(heldIds).toHaveLength(40);
    const events = await newEvents();
    expect(types(events).filter((type) => type === 'booking.held')).toHaveLength(40);
    expect(types(events).filter((type) => type !== 'booking.held')).toEqual(['show.sold_out']);
    expect(new Set(events.flatMap((event) => ('booking' in event.data ? [event.data.booking.id] : [])))).toEqual(
      new Set(heldIds),
    );
  });

  it('records show.updated when the admin changes a show, and nothing for a change that failed', async () => {
    const show = await createShow(ctx.app, { total_seats: 5 });
    await newEvents();
    const patch = (payload: object) =>
      ctx.app.inject({ method: 'PATCH', url: `/api/shows/${show.id}`, headers: admin, payload });
    expect((await patch({ title: 'Macbeth' })).statusCode).toBe(200);
    expect((await patch({ start_time: '2001-01-01T00:00:00Z' })).statusCode).toBe(422);
    const events = await newEvents();
    expect(types(events)).toEqual(['show.updated']);
    expect(events[0]!.data).toEqual({ show: (await ctx.app.inject({ url: `/api/shows/${show.id}` })).json() });
  });

  it('records blocks, releases and comps of a seated show with their seats', async () => {
    const show = { id: await createSeatedShow(ctx.app) };
    const [createdEvent] = await newEvents();
    expect(createdEvent).toMatchObject({
      type: 'show.created',
      data: { show: { seating: 'assigned', available_by_category: { standard: 4 } } },
    });
    const block = await post(`/api/shows/${show.id}/blocks`, admin, { seat_ids: ['Stalls-A-1', 'Stalls-A-2'] });
    expect(block.statusCode).toBe(201);
    const comp = await post(`/api/shows/${show.id}/comps`, admin, { seat_ids: ['Stalls-A-3'] });
    expect(comp.statusCode).toBe(201);
    const release = await ctx.app.inject({
      method: 'DELETE',
      url: `/api/shows/${show.id}/blocks/${block.json().id}`,
      headers: admin,
    });
    expect(release.statusCode).toBe(204);
    const events = await newEvents();
    expect(types(events)).toEqual(['show.seats_blocked', 'booking.confirmed', 'show.seats_released']);
    expect(events[0]!.data).toEqual({ block: block.json() });
    expect(events[1]!.data).toEqual({ booking: comp.json() });
    expect(events[2]!.data).toMatchObject({ block: { id: block.json().id, seat_ids: ['Stalls-A-1', 'Stalls-A-2'] } });
  });

  it('a comp that takes every seat of a block is its booking.confirmed, never show.seats_released', async () => {
    const seated = { id: await createSeatedShow(ctx.app) };
    const general = await createShow(ctx.app, { total_seats: 5 });
    const seatedBlock = await post(`/api/shows/${seated.id}/blocks`, admin, { seat_ids: ['Stalls-A-1', 'Stalls-A-2'] });
    const generalBlock = await post(`/api/shows/${general.id}/blocks`, admin, { seats: 2 });
    await newEvents();
    const seatedComp = await post(`/api/shows/${seated.id}/comps`, admin, { seat_ids: ['Stalls-A-1', 'Stalls-A-2'] });
    const generalComp = await post(`/api/shows/${general.id}/comps`, admin, {
      seats: 2,
      block_id: generalBlock.json().id,
    });
    expect([seatedComp.statusCode, generalComp.statusCode]).toEqual([201, 201]);
    // The seats were sold, not put back on sale: receivers are told exactly that.
    const events = await newEvents();
    expect(types(events)).toEqual(['booking.confirmed', 'booking.confirmed']);
    expect(events.map((event) => event.data)).toEqual([
      { booking: seatedComp.json() },
      { booking: generalComp.json() },
    ]);
    // The blocks are used up: no longer listed, and nothing to release.
    for (const [show, block] of [
      [seated.id, seatedBlock],
      [general.id, generalBlock],
    ] as const) {
      const list = await ctx.app.inject({ method: 'GET', url: `/api/shows/${show}/blocks`, headers: admin });
      expect(list.json()).toEqual([]);
      const release = await ctx.app.inject({
        method: 'DELETE',
        url: `/api/shows/${show}/blocks/${block.json().id}`,
        headers: admin,
      });
      expect(release.statusCode).toBe(404);
    }
    expect(await newEvents()).toEqual([]);
    const available = await ctx.app.inject({ method: 'GET', url: `/api/shows/${general.id}` });
    expect(available.json()).toMatchObject({ total_seats: 5, available_seats: 3 });
  });

  it('reads in commit order: a transaction still running holds back every event after it', async () => {
    const show = await createShow(ctx.app, { total_seats: 5 });
    const other = await createShow(ctx.app, { total_seats: 5 });
    // The outbox is read up to the oldest transaction running in the whole cluster (other test
    // files run beside this one): read until both shows' creations are in, whatever else comes.
    const ofThese = (events: WebhookEvent[]) =>
      events.filter((event) => [show.id, other.id].includes(showIdOf(event) ?? ''));
    const until = async (count: number) => {
      const read: WebhookEvent[] = [];
      for (let tries = 0; ofThese(read).length < count && tries < 200; tries++) {
        read.push(...(await newEvents()));
        if (ofThese(read).length < count) await sleep(25);
      }
      return ofThese(read);
    };
    const seen = await until(2);
    expect(types(seen)).toEqual(['show.created', 'show.created']);
    const client = await ctx.pool.connect();
    try {
      await client.query('BEGIN');
      // Takes its transaction id (and a seq) first, commits last.
      await client.query(`UPDATE shows SET title = 'Slow' WHERE id = $1`, [show.id]);
      await hold(ctx.app, other.id);
      expect(ofThese(await readEvents(false))).toEqual([]);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    expect(types(await until(2))).toEqual(['show.updated', 'booking.held']);
  });
});
