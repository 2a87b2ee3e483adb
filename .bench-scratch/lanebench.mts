// Scratch: the lanes of each build (base 416a59a, main) with their database, no HTTP; alternating.
import pg from 'pg';
const builds = { base: '/work/base', main: '/work/main' } as const;
const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
await admin.connect();
const ctx: Record<string, any> = {};
for (const [name, dir] of Object.entries(builds)) {
  const db = `lanebench_${name}`;
  await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${db}`);
  const url = `postgres://postgres@127.0.0.1:5432/${db}`;
  const { migrate } = await import(`${dir}/src/db/migrate.ts`);
  await migrate(url);
  const { loadConfig } = await import(`${dir}/src/config.ts`);
  const { createPool, poolLimits } = await import(`${dir}/src/db/pool.ts`);
  const { createServices } = await import(`${dir}/src/services.ts`);
  const { createLogger } = await import(`${dir}/src/logger.ts`);
  const config = loadConfig({ NODE_ENV: 'production', LOG_LEVEL: 'silent', DATABASE_URL: url, ADMIN_API_KEY: 'x'.repeat(24), HOLD_TTL_SECONDS: '3600' }, '/nonexistent/.env');
  const pool = createPool(url, poolLimits(config));
  const services = createServices({ config, pool, logger: createLogger(config, 'bench') });
  const show = await services.shows.create({ title: 'b', start_time: new Date(Date.now() + 864e5).toISOString(), total_seats: 100000 });
  const seated = await services.shows.create({ title: 's', start_time: new Date(Date.now() + 864e5).toISOString(), seat_map: { sections: [{ name: 'S', rows: Array.from({ length: 100 }, (_, i) => ({ label: `R${i}`, seats: 1000 })) }] } });
  ctx[name] = { pool, services, show: show.id, seated: seated.id };
}
const admin_ = { isAdmin: true, presentedCredentials: true };
async function mix(name: string) {
  const { services, show } = ctx[name];
  const held = await Promise.all(Array.from({ length: 32 }, () => services.bookings.hold(show, { seats: 1 })));
  const t = performance.now();
  await Promise.all([
    ...held.slice(0, 20).map((h: any) => services.bookings.confirm(h.booking.id, admin_)),
    ...held.slice(20, 24).map((h: any) => services.bookings.cancel(h.booking.id, admin_)),
    ...Array.from({ length: 32 }, () => services.bookings.hold(show, { seats: 1 })),
  ]);
  return performance.now() - t;
}
async function seatedHolds(name: string) {
  const { services, seated } = ctx[name];
  const t = performance.now();
  await Promise.all(Array.from({ length: 64 }, () => services.bookings.hold(seated, { seats: 2 })));
  return performance.now() - t;
}
async function hot(name: string) {
  const { services, show } = ctx[name];
  const t = performance.now();
  await Promise.all(Array.from({ length: 64 }, () => services.bookings.hold(show, { seats: 1 })));
  return performance.now() - t;
}
const scenarios: Record<string, (n: string) => Promise<number>> = { hot, seated: seatedHolds, mix };
const totals: Record<string, Record<string, number[]>> = {};
for (const s of Object.keys(scenarios)) totals[s] = { base: [], main: [] };
for (let round = 0; round < 14; round++) {
  for (const [s, fn] of Object.entries(scenarios)) {
    for (const name of round % 2 ? ['base', 'main'] : ['main', 'base']) {
      let sum = 0;
      for (let i = 0; i < 15; i++) sum += await fn(name);
      if (round > 1) totals[s]![name]!.push(sum / 15);
    }
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [s, t] of Object.entries(totals)) {
  const b = median(t.base!), m = median(t.main!);
  console.log(`${s}: base ${b.toFixed(2)} ms, main ${m.toFixed(2)} ms, main/base ${(m / b).toFixed(3)}`);
}
for (const c of Object.values(ctx)) await c.pool.end();
for (const name of Object.keys(builds)) await admin.query(`DROP DATABASE IF EXISTS lanebench_${name} WITH (FORCE)`);
await admin.end();
process.exit(0);
