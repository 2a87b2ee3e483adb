// Scratch: DB-side cost of the hot statements, base (416a59a) vs main, alternating, one process.
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';

const builds = {
  base: { dir: '/work/base', db: 'dbbench_base' },
  main: { dir: '/work/main', db: 'dbbench_main' },
} as const;
const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
await admin.connect();
const ctx: Record<string, { pool: pg.Pool; repo: any; gaShow: string; seatShow: string; version: string; mapVersion: number; next: number }> = {};
for (const [name, b] of Object.entries(builds)) {
  await admin.query(`DROP DATABASE IF EXISTS ${b.db} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${b.db}`);
  const url = `postgres://postgres@127.0.0.1:5432/${b.db}`;
  const { migrate } = await import(`${b.dir}/src/db/migrate.ts`);
  await migrate(url);
  const { BookingRepository } = await import(`${b.dir}/src/repositories/booking.repository.ts`);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const ga = await pool.query(`INSERT INTO shows (title, start_time, total_seats) VALUES ('ga', now() + interval '1 day', 100000) RETURNING id`);
  // a seated show of 100,000 seats: 100 rows of 1000
  const rows = Array.from({ length: 100 }, (_, i) => ({ label: `R${i}`, seats: 1000, category: 'standard' }));
  const seated = await pool.query(`INSERT INTO shows (title, start_time, total_seats, seat_map) VALUES ('s', now() + interval '1 day', 100000, $1) RETURNING id`, [JSON.stringify({ sections: [{ name: 'S', rows }] })]);
  const sid = seated.rows[0].id;
  await pool.query(`INSERT INTO show_categories (show_id, category, name, total_seats) VALUES ($1, 1, 'standard', 100000)`, [sid]);
  await pool.query(`INSERT INTO seats (show_id, seat_no, category) SELECT $1, n, 1 FROM generate_series(0, 99999) n`, [sid]);
  ctx[name] = { pool, repo: new BookingRepository(pool), gaShow: ga.rows[0].id, seatShow: sid, version: '0', mapVersion: 0, next: 0 };
}

const GROUP = 32;
function gaHolds() {
  return Array.from({ length: GROUP }, () => ({ id: randomUUID(), seats: 1, tokenHash: randomBytes(32), customerRef: undefined }));
}
async function hot(name: string) {
  const c = ctx[name]!;
  const t = performance.now();
  await c.repo.holdGroup(c.pool, c.gaShow, gaHolds(), 3600, null);
  return performance.now() - t;
}
async function seated(name: string) {
  const c = ctx[name]!;
  const holds = Array.from({ length: GROUP }, () => {
    const a = c.next; c.next += 2;
    return { id: randomUUID(), seatNos: [a, a + 1], seatIds: [`x${a}`, `x${a + 1}`], tokenHash: randomBytes(32), customerRef: undefined };
  });
  const t = performance.now();
  const results = await c.repo.holdSeats(c.pool, c.seatShow, { map: c.mapVersion, seats: c.version }, holds, 3600, null);
  const dt = performance.now() - t;
  if (results[0].outcome !== 'held') throw new Error(`${name} seated: ${results[0].outcome}`);
  c.version = results[0].versionAfter;
  return dt;
}
async function mixed(name: string) {
  // 32 holds then, in one transaction under the lock, confirm 20 of them and hold 12 more (as a mixed group does)
  const c = ctx[name]!;
  const made = await c.repo.holdGroup(c.pool, c.gaShow, gaHolds(), 3600, null);
  const ids = made.slice(0, 20).map((r: any) => r.booking.id);
  const client = await c.pool.connect();
  const t = performance.now();
  await client.query('BEGIN');
  const { rows } = await client.query(`SELECT clock_timestamp()::text AS now FROM shows WHERE id = $1 FOR UPDATE`, [c.gaShow]);
  const now = rows[0].now;
  await client.query('SELECT id FROM bookings WHERE id = ANY($1) AND show_id = $2', [ids, c.gaShow]);
  await c.repo.applyMoves(client, c.gaShow, ids.map((id: string) => ({ id, from: 'PENDING', to: 'CONFIRMED' })), now);
  await c.repo.holdGroup(client, c.gaShow, gaHolds().slice(0, 12), 3600, now);
  await client.query('COMMIT');
  const dt = performance.now() - t;
  client.release();
  return dt;
}
async function moves(name: string) {
  const c = ctx[name]!;
  const made = await c.repo.holdGroup(c.pool, c.gaShow, gaHolds(), 3600, null);
  const ids = made.slice(0, 20).map((r: any) => r.booking.id);
  const client = await c.pool.connect();
  await client.query('BEGIN');
  const { rows } = await client.query(`SELECT clock_timestamp()::text AS now FROM shows WHERE id = $1 FOR UPDATE`, [c.gaShow]);
  const t = performance.now();
  await c.repo.applyMoves(client, c.gaShow, ids.map((id: string) => ({ id, from: 'PENDING', to: 'CONFIRMED' })), rows[0].now);
  const dt = performance.now() - t;
  await client.query('COMMIT');
  client.release();
  return dt;
}
async function holdInTx(name: string) {
  const c = ctx[name]!;
  const client = await c.pool.connect();
  await client.query('BEGIN');
  const { rows } = await client.query(`SELECT clock_timestamp()::text AS now FROM shows WHERE id = $1 FOR UPDATE`, [c.gaShow]);
  const t = performance.now();
  await c.repo.holdGroup(client, c.gaShow, gaHolds().slice(0, 12), 3600, rows[0].now);
  const dt = performance.now() - t;
  await client.query('COMMIT');
  client.release();
  return dt;
}
const all = { hot, seated, mixed, moves, holdInTx } as const;
const scenarios = Object.fromEntries(Object.entries(all).filter(([k]) => (process.env.ONLY ?? Object.keys(all).join(",")).split(",").includes(k)));
const totals: Record<string, Record<string, number[]>> = {};
for (const [s] of Object.entries(scenarios)) totals[s] = { base: [], main: [] };
for (let round = 0; round < 12; round++) {
  for (const [s, fn] of Object.entries(scenarios)) {
    for (const name of round % 2 ? ['base', 'main'] : ['main', 'base']) {
      let sum = 0;
      for (let i = 0; i < 25; i++) sum += await fn(name);
      if (round > 1) totals[s]![name]!.push(sum / 25);
    }
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [s, t] of Object.entries(totals)) {
  const b = median(t.base!), m = median(t.main!);
  console.log(`${s}: base ${b.toFixed(3)} ms, main ${m.toFixed(3)} ms, main/base ${(m / b).toFixed(3)}`);
}
for (const c of Object.values(ctx)) await c.pool.end();
for (const b of Object.values(builds)) await admin.query(`DROP DATABASE IF EXISTS ${b.db} WITH (FORCE)`);
await admin.end();
