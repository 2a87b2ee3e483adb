import { randomUUID } from 'node:crypto';
import {
  createSeatHoldClient,
  problemCodes,
  SeatHoldProblem,
  type ProblemCode,
  type SeatHoldClient,
} from '@seat-hold/client';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { problemCatalog, type ProblemCode as ServerProblemCode } from '../../src/errors.js';
import { ADMIN_KEY, startTestApp, type TestContext } from '../helpers.js';
import { futureIso } from '../support/api.js';

// The typed client (client/, generated from openapi.json) against the real app over HTTP:
// a change to the API that breaks the client fails here.

let ctx: TestContext;
let baseUrl: string;
let adminClient: SeatHoldClient;
let client: SeatHoldClient;
beforeAll(async () => {
  // Webhook URLs on 127.0.0.1 are accepted (nothing is sent: no worker runs here).
  ctx = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' });
  baseUrl = await ctx.app.listen({ host: '127.0.0.1', port: 0 });
  adminClient = createSeatHoldClient({ baseUrl, adminKey: ADMIN_KEY });
  client = createSeatHoldClient({ baseUrl });
});
afterAll(() => ctx.close());

const unknownId = '00000000-0000-4000-8000-000000000000';

/** Awaits a call that must fail with this problem; returns it. */
async function problem(call: Promise<unknown>, status: number, code: ProblemCode): Promise<SeatHoldProblem> {
  const error: unknown = await call.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(SeatHoldProblem);
  const thrown = error as SeatHoldProblem;
  expect({ status: thrown.status, code: thrown.code }).toEqual({ status, code });
  expect(thrown.title).toBe(problemCatalog[code].title);
  expect(thrown.detail).toEqual(expect.any(String));
  expect(thrown.requestId).toEqual(expect.any(String));
  return thrown;
}

describe('the problem codes of the client', () => {
  it('are the API catalogue', () => {
    expect([...problemCodes].sort()).toEqual(Object.keys(problemCatalog).sort());
    expectTypeOf<ProblemCode>().toEqualTypeOf<ServerProblemCode>();
    expectTypeOf<SeatHoldProblem['code']>().toEqualTypeOf<ProblemCode>();
  });
});

describe('the typed client', () => {
  it('manages webhook endpoints: create (secret once), list, get, update, test, deliveries, retry, delete', async () => {
    // No worker runs here: the ping stays pending, which is enough for the client's shapes.
    const created = await adminClient.createWebhook(
      { url: 'http://127.0.0.1:9/hook', events: ['booking.held'], description: 'payments' },
      { idempotencyKey: randomUUID() },
    );
    expectTypeOf(created.secret).toEqualTypeOf<string>();
    expect(created.secret).toMatch(/^whsec_/);
    expect(await adminClient.listWebhooks()).toEqual([expect.objectContaining({ id: created.id })]);
    expect(await adminClient.getWebhook(created.id)).not.toHaveProperty('secret');
    expect(await adminClient.updateWebhook(created.id, { events: ['*'], enabled: true })).toMatchObject({
      events: ['*'],
    });
    const pingDelivery = await adminClient.testWebhook(created.id);
    const { deliveries, nextCursor } = await adminClient.listDeliveries(created.id, { state: 'pending', limit: 10 });
    expect(nextCursor).toBeUndefined();
    expect(deliveries).toEqual([
      expect.objectContaining({ id: pingDelivery, event_type: 'ping', state: 'pending', attempts: 0, attempt_log: [] }),
    ]);
    await adminClient.retryDelivery(created.id, deliveries[0]!.id);
    await adminClient.deleteWebhook(created.id);
    await problem(adminClient.getWebhook(created.id), 404, 'webhook_not_found');
  });

  it('creates, lists and gets a show, holds (idempotently), confirms, cancels and reads bookings', async () => {
    const created = await adminClient.createShow(
      { title: 'Hamlet', start_time: futureIso(), total_seats: 5 },
      { idempotencyKey: randomUUID() },
    );
    expectTypeOf(created.available_seats).toEqualTypeOf<number>();
    expect(created).toMatchObject({ title: 'Hamlet', total_seats: 5, available_seats: 5 });

    const { shows, nextCursor } = await client.listShows({ limit: 200 });
    expect(shows.map((show) => show.id)).toContain(created.id);
    expect(nextCursor).toBeUndefined();
    expect(await client.getShow(created.id)).toEqual(created);

    const key = randomUUID();
    const held = await client.hold(created.id, { seats: 2 }, { idempotencyKey: key });
    expectTypeOf(held.hold_token).toEqualTypeOf<string>();
    expectTypeOf(held.status).toEqualTypeOf<'PENDING' | 'CONFIRMED' | 'EXPIRED' | 'CANCELLED'>();
    expect(held).toMatchObject({ show_id: created.id, seats: 2, status: 'PENDING' });
    expect(Object.keys(held).sort()).toEqual(
      [
        'id',
        'show_id',
        'seats',
        'currency',
        'lines',
        'total',
        'status',
        'expires_at',
        'created_at',
        'updated_at',
        'hold_token',
      ].sort(),
    );
    // The replay is the first answer, hold token included, and holds nothing more.
    expect(await client.hold(created.id, { seats: 2 }, { idempotencyKey: key })).toEqual(held);
    expect((await client.getShow(created.id)).available_seats).toBe(3);

    const confirmed = await client.confirm(held.id, { holdToken: held.hold_token, idempotencyKey: randomUUID() });
    expect(confirmed).toMatchObject({ id: held.id, status: 'CONFIRMED', seats: 2 });
    expect(await client.getBooking(held.id, { holdToken: held.hold_token })).toMatchObject({ status: 'CONFIRMED' });

    const other = await client.hold(created.id);
    expect(other.seats).toBe(1);
    const cancelled = await client.cancel(other.id, { holdToken: other.hold_token });
    expect(cancelled).toMatchObject({ id: other.id, status: 'CANCELLED' });
    // The admin key reads any booking.
    expect(await adminClient.getBooking(other.id)).toMatchObject({ status: 'CANCELLED' });
    expect((await client.getShow(created.id)).available_seats).toBe(3);
  });

  it('creates a seated show, reads its seats, holds chosen and best-available seats', async () => {
    const created = await adminClient.createShow({
      title: 'Seated',
      start_time: futureIso(),
      seat_map: { sections: [{ name: 'Stalls', rows: [{ label: 'A', seats: 6, category: 'premium' }] }] },
    });
    expect(created).toMatchObject({ seating: 'assigned', total_seats: 6, available_by_category: { premium: 6 } });
    const chosen = await client.hold(created.id, { seat_ids: ['Stalls-A-1'] });
    expectTypeOf(chosen.seat_ids).toEqualTypeOf<string[] | undefined>();
    expect(chosen.seat_ids).toEqual(['Stalls-A-1']);
    // Seats 3–4 are nearest the centre but would leave seat 2 alone between taken seats.
    expect((await client.hold(created.id, { seats: 2, category: 'premium' })).seat_ids).toEqual([
      'Stalls-A-2',
      'Stalls-A-3',
    ]);
    expect(client.availabilityStreamUrl(created.id)).toBe(`${baseUrl}/api/shows/${created.id}/availability/stream`);
    const seats = await client.getSeats(created.id);
    expect(seats.sections[0]!.rows[0]).toEqual({ label: 'A', category: 'premium', seats: 6, status: 'HHHFFF' });
    const taken = await problem(client.hold(created.id, { seat_ids: ['Stalls-A-1'] }), 409, 'seats_taken');
    expect(taken.extra.taken_seat_ids).toEqual(['Stalls-A-1']);
  });

  it('throws every error as a typed SeatHoldProblem', async () => {
    await problem(client.getShow(unknownId), 404, 'show_not_found');
    await problem(client.hold(unknownId), 404, 'show_not_found');

    const show = await adminClient.createShow({ title: 'Small', start_time: futureIso(), total_seats: 2 });
    await client.hold(show.id);
    const soldOut = await problem(client.hold(show.id, { seats: 2 }), 409, 'sold_out');
    expect(soldOut.extra).toEqual({ available_seats: 1, ticket_type: 'standard', available: 1 });
    expect(soldOut.body.available_seats).toBe(1);

    await problem(client.createShow({ title: 'No key', start_time: futureIso(), total_seats: 1 }), 401, 'unauthorized');
    const forbidden = createSeatHoldClient({ baseUrl, adminKey: 'wrong-key-0123456789' });
    await problem(
      forbidden.createShow({ title: 'Wrong key', start_time: futureIso(), total_seats: 1 }),
      401,
      'unauthorized',
    );

    const invalid = await problem(client.getShow('not-a-uuid'), 400, 'validation_failed');
    expect(invalid.body.errors).toContainEqual(expect.objectContaining({ path: 'params/id' }));
    await problem(client.hold(show.id, { seats: 0 }), 400, 'validation_failed');

    const booking = await client.hold(show.id, {}, { idempotencyKey: randomUUID() });
    await problem(client.confirm(booking.id), 401, 'unauthorized');
    await problem(client.confirm(booking.id, { holdToken: 'not-the-token' }), 403, 'forbidden');
    await problem(client.getBooking(unknownId, { holdToken: booking.hold_token }), 404, 'booking_not_found');
  });
});
