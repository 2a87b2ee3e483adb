import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, poolLimits, type Pool } from '../../src/adapters/postgres/pool.js';
import { ShowRepository } from '../../src/repositories/show.repository.js';
import { buildTestApp, expectProblem, startTestApp, type TestContext } from '../helpers.js';
import { admin, futureIso } from '../support/api.js';
import { lockShow, lockWaiters } from '../support/locks.js';

// A seat is known to clients by its id (S-A-1) and to the database by its number in the map, and a
// new map (PATCH, through any process) renumbers every seat. Every path that numbers seats does it
// against the show's locked row: a process whose remembered map is out of date never sells one seat
// under another's name, and never refuses a seat that exists.

let p1: TestContext;
let p2: { app: TestContext['app']; pool: Pool };
beforeAll(async () => {
  p1 = await startTestApp();
  const pool = createPool(p1.database.url, poolLimits(p1.config));
  p2 = { app: (await buildTestApp(p1.config, pool)).app, pool };
});
afterAll(async () => {
  await p2.app.close();
  await p2.pool.end();
  await p1.close();
});

const rows = (...labels: string[]) => labels.map((label) => ({ label, seats: 5 }));

async function createShow(): Promise<string> {
  const response = await p1.app.inject({
    method: 'POST',
    url: '/api/shows',
    headers: admin,
    payload: {
      title: 'Renumbered',
      start_time: futureIso(),
      seat_map: { sections: [{ name: 'S', rows: rows('A', 'B') }] },
    },
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<{ id: string }>().id;
}

/** PATCH through the second process: a new map with these rows (row Z before A renumbers every seat). */
async function remapThroughP2(showId: string, ...labels: string[]): Promise<void> {
  const response = await p2.app.inject({
    method: 'PATCH',
    url: `/api/shows/${showId}`,
    headers: admin,
    payload: { seat_map: { sections: [{ name: 'S', rows: rows(...labels) }] } },
  });
  expect(response.statusCode, response.body).toBe(200);
}

/** Each row's seat states by `<section>-<row>`, read from the database (no process's memory). */
async function seatMap(showId: string): Promise<Record<string, string>> {
  const response = await p2.app.inject({ method: 'GET', url: `/api/shows/${showId}/seats` });
  const body = response.json<{ sections: { name: string; rows: { label: string; status: string }[] }[] }>();
  return Object.fromEntries(body.sections.flatMap((s) => s.rows.map((r) => [`${s.name}-${r.label}`, r.status])));
}

describe('a seat renumbered by a new map through another process', () => {
  it('a comp waiting for the lock sells the seat it names, never the seat that now has its old number', async () => {
    const showId = await createShow();
    // P1 remembers the map: seat S-A-1 is number 0.
    expect(
      (await p1.app.inject({ method: 'GET', url: `/api/shows/${showId}/blocks`, headers: admin })).statusCode,
    ).toBe(200);
    await remapThroughP2(showId, 'Z', 'A', 'B'); // S-Z-1 is number 0 now, S-A-1 number 5
    const lock = await lockShow(p1.database.url, showId);
    const comp = p1.app.inject({
      method: 'POST',
      url: `/api/shows/${showId}/comps`,
      headers: admin,
      payload: { seat_ids: ['S-A-1'] },
    });
    await lockWaiters(p1.pool, 1);
    const hold = p1.app.inject({ method: 'POST', url: `/api/shows/${showId}/book`, payload: { seat_ids: ['S-A-2'] } });
    // The hold waits for the lock too (or, numbered on the old map and refused at once, is answered).
    await Promise.race([hold, lockWaiters(p1.pool, 2)]);
    await lock.release();
    const [comped, held] = await Promise.all([comp, hold]);
    expect(comped.statusCode, comped.body).toBe(201);
    expect(comped.json()).toMatchObject({ status: 'CONFIRMED', seat_ids: ['S-A-1'], comp: true });
    // The comp sold the seat it names, S-A-1, not the seat with S-A-1's old number (S-Z-1 now); the
    // hold, numbered on the old map too, is numbered again on the new one, not refused.
    expect(await seatMap(showId)).toEqual({ 'S-Z': 'FFFFF', 'S-A': 'SHFFF', 'S-B': 'FFFFF' });
    expect(held.statusCode, held.body).toBe(201);
    expect(held.json()).toMatchObject({ status: 'PENDING', seat_ids: ['S-A-2'] });
    // A buyer after them cannot have the comp's seat.
    expectProblem(
      await p2.app.inject({ method: 'POST', url: `/api/shows/${showId}/book`, payload: { seat_ids: ['S-A-1'] } }),
      409,
      'seats_taken',
    );
    const confirmed = await p1.pool.query<{ seat_id: string; n: number }>(
      `SELECT seat_id, count(*)::int AS n FROM bookings, unnest(seat_ids) AS seat_id
       WHERE show_id = $1 AND status IN ('CONFIRMED', 'PENDING') GROUP BY seat_id ORDER BY seat_id`,
      [showId],
    );
    expect(confirmed.rows).toEqual([
      { seat_id: 'S-A-1', n: 1 },
      { seat_id: 'S-A-2', n: 1 },
    ]);
    const checked = await new ShowRepository(p1.pool).counterMismatches();
    expect(checked.mismatches).toEqual([]);
    expect(checked.seatMismatches).toEqual([]);
  });

  it('a block numbered on a remembered map keeps the seats it names', async () => {
    const showId = await createShow();
    expect(
      (await p1.app.inject({ method: 'GET', url: `/api/shows/${showId}/blocks`, headers: admin })).statusCode,
    ).toBe(200);
    await remapThroughP2(showId, 'Z', 'A', 'B');
    const block = await p1.app.inject({
      method: 'POST',
      url: `/api/shows/${showId}/blocks`,
      headers: admin,
      payload: { seat_ids: ['S-B-5'] },
    });
    expect(block.statusCode, block.body).toBe(201);
    expect(block.json()).toMatchObject({ seat_ids: ['S-B-5'] });
    expect(await seatMap(showId)).toEqual({ 'S-Z': 'FFFFF', 'S-A': 'FFFFF', 'S-B': 'FFFFB' });
  });

  it('a hold of a seat the new map added is held by a process that remembered the old map, not refused as unknown', async () => {
    const showId = await createShow();
    // P1 remembers the map by holding on it.
    expect(
      (await p1.app.inject({ method: 'POST', url: `/api/shows/${showId}/book`, payload: { seat_ids: ['S-A-1'] } }))
        .statusCode,
    ).toBe(201);
    await remapThroughP2(showId, 'A', 'B', 'C');
    for (const seat of ['S-C-1', 'S-C-2', 'S-C-3']) {
      const response = await p1.app.inject({
        method: 'POST',
        url: `/api/shows/${showId}/book`,
        payload: { seat_ids: [seat] },
      });
      expect(response.statusCode, response.body).toBe(201);
    }
    // Best available in a category the new map added.
    await remapThroughP2(showId, 'A', 'B', 'C');
    const patched = await p2.app.inject({
      method: 'PATCH',
      url: `/api/shows/${showId}`,
      headers: admin,
      payload: {
        seat_map: {
          sections: [{ name: 'S', rows: [...rows('A', 'B', 'C'), { label: 'D', seats: 5, category: 'box' }] }],
        },
      },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    const box = await p1.app.inject({
      method: 'POST',
      url: `/api/shows/${showId}/book`,
      payload: { seats: 2, category: 'box' },
    });
    expect(box.statusCode, box.body).toBe(201);
    expect(box.json()).toMatchObject({ seat_ids: ['S-D-2', 'S-D-3'] });
    // A seat no map has is still 400, once the map is known to be current.
    expectProblem(
      await p1.app.inject({ method: 'POST', url: `/api/shows/${showId}/book`, payload: { seat_ids: ['S-E-1'] } }),
      400,
      'validation_failed',
    );
  });
});
