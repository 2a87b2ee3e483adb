import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import type { Pool } from '../../src/adapters/postgres/pool.js';
import { createTestDatabase, inspectionPool, type TestDatabase } from '../helpers.js';
import { runCustomers } from '../support/customers.js';
import { checkInvariants } from '../support/invariants.js';
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

// Two API processes and two workers, started as `npm start` and `npm run worker` would be,
// on one database and one Redis; customers spread over both APIs.
let database: TestDatabase;
let pool: Pool;
let processes: ServiceProcess[] = [];
const queuePrefix = `stress-${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = inspectionPool(database.url);
  const env = serviceEnv(database.url, inject('redisUrl'), queuePrefix);
  processes = await startAll([
    startApi('api-1', env),
    startApi('api-2', env),
    startWorker('worker-1', env),
    startWorker('worker-2', env),
  ]);
});

afterAll(async () => {
  await Promise.all(processes.map((process) => process.stop()));
  await pool?.end();
  await database?.drop();
  await deleteQueueKeys(inject('redisUrl'), queuePrefix);
});

it('two APIs and two workers: every show adds up, every 200 confirm stands, no hold outlives its deadline', async () => {
  const [api1, api2] = processes as [ServiceProcess, ServiceProcess];
  // Four small shows, which customers sell out (by the end nearly all confirmed), and one
  // that never sells out, so that holds are still live when the load stops.
  const showIds = [...(await createShows(api1.url!, 4, 40)), ...(await createShows(api1.url!, 1, 2_000))];
  // Two seated shows, whose seats both APIs choose, each from its own copy of the seat states:
  // 48 seats that customers sell out and 600 that they never do. Seven shows in all, an odd
  // number: customer i buys show i mod 7 on API i mod 2, so each show's customers use both APIs.
  const seatMap = (rows: number, seats: number) => ({
    sections: [
      {
        name: 'Stalls',
        rows: Array.from({ length: rows }, (_, i) => ({
          label: `R${i + 1}`,
          seats,
          category: i < rows / 3 ? 'premium' : 'standard',
        })),
      },
      { name: 'Circle', rows: [{ label: 'A', seats }] },
    ],
  });
  const seatedShowIds = [
    await createSeatedShow(api1.url!, seatMap(3, 12)),
    await createSeatedShow(api1.url!, seatMap(19, 30)),
  ];
  const report = await runCustomers({
    urls: () => [api1.url!, api2.url!],
    showIds: [...showIds, ...seatedShowIds],
    seatedShowIds,
    customers: 48,
    durationMs: 6_000,
  });
  expect(report.serverErrors).toEqual([]);
  expect(report.unreachable).toBe(0);
  // The small shows are small on purpose: customers contend, sell out, and buy what lapsed holds free.
  expect(report.holds).toBeGreaterThan(100);
  expect(report.statuses.get(409) ?? 0).toBeGreaterThan(0);
  expect(report.confirmed.size).toBeGreaterThan(20);
  // Checked right after the load, while the holds of its last HOLD_TTL_SECONDS (2 s) are live:
  // the live phase of the check must have seen some (on the big show at least).
  const { live } = await checkInvariants({
    pool,
    apiUrl: api2.url!,
    report,
    sweepIntervalSeconds: 1,
    boundLateness: true,
  });
  expect(live.activeSeats, 'seats of live holds the check saw').toBeGreaterThan(0);

  // The seated shows (seats = counters = bookings is in checkInvariants): every hold got
  // exactly the seats it named, or its number adjacent in one row; a seats_taken named only
  // seats it asked for; and the bookings confirmed with a 200 have their seats, sold, to themselves.
  const chosen = report.seatedHolds.filter((hold) => Array.isArray(hold.asked));
  const best = report.seatedHolds.filter((hold) => !Array.isArray(hold.asked));
  expect(chosen.length).toBeGreaterThan(0);
  expect(best.length).toBeGreaterThan(0);
  expect(report.seatsTaken.length).toBeGreaterThan(0);
  for (const hold of chosen) expect([...hold.seatIds].sort()).toEqual([...(hold.asked as string[])].sort());
  for (const hold of best) {
    const seats = hold.seatIds.map((id) => {
      const [section, row, n] = id.split('-') as [string, string, string];
      return { row: `${section}-${row}`, n: Number(n) };
    });
    expect(seats).toHaveLength(hold.asked as number);
    expect(seats).toEqual(seats.map((_, i) => ({ row: seats[0]!.row, n: seats[0]!.n + i })));
  }
  for (const { asked, taken } of report.seatsTaken) {
    expect(taken.length).toBeGreaterThan(0);
    expect(taken.filter((id) => !asked.includes(id))).toEqual([]);
  }
  const sold = new Map<string, string>();
  for (const hold of report.seatedHolds.filter((h) => report.confirmed.has(h.id))) {
    for (const seatId of hold.seatIds) {
      const seat = `${hold.showId} ${seatId}`;
      expect(sold.get(seat), `${seat} in two confirmed bookings`).toBeUndefined();
      sold.set(seat, hold.id);
    }
  }
  expect(sold.size).toBeGreaterThan(0);
  const { rows: owners } = await pool.query<{ seat: string; state: string; booking_id: string }>(
    `SELECT b.show_id || ' ' || b.seat_ids[i] AS seat, st.state, st.booking_id
     FROM bookings b, generate_subscripts(b.seat_nos, 1) AS i, seats st
     WHERE b.id = ANY($1::uuid[]) AND st.show_id = b.show_id AND st.seat_no = b.seat_nos[i]`,
    [[...new Set(sold.values())]],
  );
  expect(new Map(owners.map((row) => [row.seat, [row.state, row.booking_id]]))).toEqual(
    new Map([...sold].map(([seat, id]) => [seat, ['S', id]])),
  );
}, 60_000);
