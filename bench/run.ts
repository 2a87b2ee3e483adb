/**
 * `npm run bench`: load scenarios against the booking API, driven by wrk (apt-get install wrk),
 * with integrity checks read from the database and Redis; written to bench/results/ as
 * latest.md, latest.json and a timestamped copy of each.
 *
 *   npm run bench                         start the service (build, DATABASE_URL, REDIS_URL) and run every scenario
 *   npm run bench -- --baseline           also run pgbench with the per-request hold transaction, for the ratios
 *   npm run bench -- --url http://…       target a running service (needs DATABASE_URL of its database and BENCH_ADMIN_KEY)
 *   npm run bench -- --duration 5 --scenarios hot,read
 *   npm run bench -- --profile --scenarios hot   run the API under --cpu-prof and print where its CPU went
 *   npm run bench -- --out DIR            write the results elsewhere
 *
 * Scenarios (--scenarios, comma-separated; the default is all of them, in this order):
 *   hot      one show of 10,000,000 seats, 64 connections, --duration: holds/s, p50, p99, API CPU µs/request
 *   sellout  5,000 seats, 256 connections, exactly 15,000 requests: exactly 5,000 holds, "sold out in X ms" (goal < 500 ms)
 *   many     100 shows, 64 connections, each hold on a random one, --duration: holds/s, API CPU µs per hold
 *   read     GET /api/shows/:id, 64 connections, --duration: req/s, API CPU µs/request
 *   mix      on-sale mix, 64 connections, --duration: each hold confirmed (60%), cancelled (10%) or abandoned
 *   seated   the hot seated show: a fresh show of 100,000 seats (300 rows of 100–1,000 seats, 2 categories, made
 *            through POST /api/shows), 64 connections holding the best available 2, --duration but at most 45,000
 *            requests (90% of the seats: it never sells out; the row says when wrk stopped there): holds/s, p50,
 *            p99, API CPU µs/request; goals ≥ 0.5× hot's holds/s of the same run (when hot ran), p99 ≤ 50 ms, no
 *            409; the show's seats checked in the database (see checkSeats in bench/lib/integrity.ts)
 *   seatmap  the seat map under hot load: a fresh 100,000-seat show, 48 connections holding as in seated while
 *            16 read GET /api/shows/:id/seats of the same show, --duration: reads/s, p50, p99, size of the map;
 *            holds/s meanwhile; API CPU over both
 *   wave     expiry wave: 10,000 holds falling due within 1–2 s under a hold load, with its own API
 *            (HOLD_TTL_SECONDS=5) and worker: expiry lateness p99 (goal ≤ 1 s), holds p99 (goal ≤ 50 ms),
 *            expiry jobs added. Takes about 20 s whatever --duration says.
 *   streams  5,000 open GET /api/shows/:id/availability/stream on a hot show (10,000,000 seats) while 64 connections
 *            hold on it for --duration: holds/s, p50, p99 as hot; API RSS before, with the streams open and its peak;
 *            availability updates per stream; update delay (arrival − changed_at) p50 and p99 (goal p99 ≤ 1 s)
 * Each scenario is a file in bench/scenarios/ (the Scenario interface of bench/lib/scenario.ts);
 * its wrk scripts are in bench/lua/, the shared helpers in bench/lib/.
 *
 * Every scenario's row also gets the mean hold-group size and lock-hold time: from GET /metrics
 * (seat_hold_group_size, seat_hold_group_duration_seconds) scraped before and after it when the
 * API has that endpoint, else the group size from the database (lock-hold n/a).
 *
 * Talks only to 127.0.0.1 (or the --url given). Every load is bounded in time and count.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { freshDatabase } from './lib/database.js';
import { checkIntegrity, integrityLines, integrityOk, type Integrity } from './lib/integrity.js';
import { log } from './lib/log.js';
import { baselineLines, runBaselines, type Baselines } from './lib/pgbench.js';
import { bareLines, cpuLines, runBareBaseline, type BareBaseline } from './lib/bare-baseline.js';
import { RssSampler } from './lib/proc.js';
import { printProfile } from './lib/profile.js';
import { deleteQueue } from './lib/queue.js';
import { goalLine, groupSourceLine, machineLine, markdown, writeResults } from './lib/report.js';
import { goal, type ScenarioOutcome } from './lib/scenario.js';
import { externalService, startService, type ServiceEnv } from './lib/service.js';
import { requireWrk } from './lib/wrk.js';
import { scenarios as allScenarios } from './scenarios/index.js';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    baseline: { type: 'boolean', default: false },
    duration: { type: 'string', default: '10' },
    scenarios: { type: 'string', default: allScenarios.map((s) => s.name).join(',') },
    out: { type: 'string', default: 'bench/results' },
    profile: { type: 'boolean', default: false },
  },
});

const seconds = Number(args.duration);
const chosen = args.scenarios.split(',').filter(Boolean);
const unknown = chosen.filter((name) => !allScenarios.some((s) => s.name === name));
if (!Number.isFinite(seconds) || seconds < 1 || unknown.length > 0) {
  log(
    unknown.length > 0
      ? `unknown scenario ${unknown.join(', ')}; known: ${allScenarios.map((s) => s.name).join(', ')}`
      : '--duration must be a number of seconds, at least 1',
  );
  process.exit(2);
}
const scenarios = allScenarios.filter((s) => chosen.includes(s.name));
requireWrk();

const baseDatabaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const database = args.url ? undefined : await freshDatabase(baseDatabaseUrl);
const env: ServiceEnv = {
  databaseUrl: database?.url ?? baseDatabaseUrl,
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  queuePrefix: `bench-${Date.now()}`,
  adminKey: process.env.BENCH_ADMIN_KEY ?? 'bench-admin-key-0123456789',
  holdTtlSeconds: 3600, // nothing expires mid-run: every hold is counted
};
const profileDir = path.join(args.out, 'profiles');
const service = args.url
  ? externalService(args.url)
  : await startService(env, args.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []).catch(
      async (error: unknown) => {
        await database?.drop();
        throw error;
      },
    );
const db = new pg.Pool({ connectionString: env.databaseUrl, max: 4 });
db.on('error', (error) => log(`bench database connection: ${error.message}`));
const rss = new RssSampler();
rss.watch('API', service.pid);

const outcomes: ScenarioOutcome[] = [];
/** The API's peak RSS (MB) during each scenario: which one grows it. */
const rssByScenario: Record<string, number> = {};
let integrity: Integrity;
let baselines: Baselines | undefined;
let bare: BareBaseline | undefined;
try {
  for (const scenario of scenarios) {
    log(`\n== ${scenario.name}: ${scenario.setsUp}`);
    const earlier = outcomes.flatMap((o) => o.rows);
    rss.startPeriod();
    outcomes.push(await scenario.run({ seconds, service, env, db, rss, earlier }));
    const peak = rss.periodPeak('API');
    if (peak !== undefined) rssByScenario[scenario.name] = Math.round(peak);
  }
  integrity = await checkIntegrity(db, args.url ? undefined : { redisUrl: env.redisUrl, prefix: env.queuePrefix });
  if (args.baseline) {
    baselines = await runBaselines(db, env.databaseUrl, seconds);
    bare = await runBareBaseline(seconds);
  }
} finally {
  rss.stop();
  await service.stop(); // the CPU profile is written as the process exits
  await db.end();
  await database?.drop();
  if (!args.url) await deleteQueue(env.redisUrl, env.queuePrefix);
}
if (args.profile) printProfile(profileDir);

const rows = outcomes.flatMap((o) => o.rows);
const goals = outcomes.flatMap((o) => o.goals ?? []);
const peakRss = rss.peak('API');
const wavePeak = rss.peak('wave API');
const lines = [
  ...(baselines ? baselineLines(baselines, rows) : []),
  ...(bare ? bareLines(bare, rows) : []),
  ...cpuLines(rows),
  ...goals.map(goalLine),
  ...outcomes.flatMap((o) => o.lines ?? []),
  groupSourceLine(rows),
  ...integrityLines(integrity),
  ...(Object.keys(rssByScenario).length > 0
    ? [
        `API peak RSS by scenario, in the order run: ${Object.entries(rssByScenario)
          .map(([name, mb]) => `${name} ${mb} MB`)
          .join(', ')}`,
      ]
    : []),
  peakRss === undefined
    ? 'API peak RSS: n/a (--url)'
    : goalLine(
        goal(
          'API peak RSS',
          `${peakRss.toFixed(0)} MB${wavePeak === undefined ? '' : `; the expiry wave's own API ${wavePeak.toFixed(0)} MB`}`,
          '≤ 200 MB',
          Math.max(peakRss, wavePeak ?? 0) <= 200,
        ),
      ),
  `machine: ${machineLine()}; load from wrk; ${new Date().toISOString()}`,
];
const text = markdown(rows, lines);
process.stdout.write(`\n${text}`);
writeResults(args.out, text, {
  rows,
  goals,
  baselines,
  bare,
  integrity,
  peakRssMb: peakRss,
  rssByScenarioMb: rssByScenario,
  wavePeakRssMb: wavePeak,
  scenarios: Object.fromEntries(scenarios.map((s, i) => [s.name, outcomes[i]?.data ?? {}])),
  machine: machineLine(),
});
if (!integrityOk(integrity)) {
  log('INTEGRITY CHECK FAILED');
  process.exitCode = 1;
}
