/**
 * `npm run bench`: load scenarios against the booking API, with an oversold check read from
 * the database, written to bench/results/ as JSON and Markdown.
 *
 *   npm run bench                         start the service (build, DATABASE_URL, REDIS_URL) and run every scenario
 *   npm run bench -- --baseline           also run pgbench with the per-request hold transaction, for the ratio
 *   npm run bench -- --url http://…       target a running service (needs DATABASE_URL of its database and BENCH_ADMIN_KEY)
 *   npm run bench -- --duration 5 --scenarios hot,read
 *   npm run bench -- --profile --scenarios hot   run the API under --cpu-prof and print where its CPU went
 *
 * Talks only to 127.0.0.1 (or the --url given). Every load is bounded in time or count.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import pg from 'pg';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    baseline: { type: 'boolean', default: false },
    duration: { type: 'string', default: '10' },
    scenarios: { type: 'string', default: 'hot,sellout,many,read' },
    out: { type: 'string', default: 'bench/results' },
    profile: { type: 'boolean', default: false },
  },
});

const duration = Number(args.duration);
const adminKey = process.env.BENCH_ADMIN_KEY ?? 'bench-admin-key-0123456789';
const baseDatabaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const queuePrefix = `bench-${Date.now()}`;

interface Row {
  scenario: string;
  connections: number;
  requests: number;
  /** CPU time (user + system) of the API process per request: steadier than ok/s on a shared machine. */
  apiCpuUsPerRequest?: number;
  okPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  note: string;
}

function log(message: string) {
  process.stderr.write(`${message}\n`);
}

function withDatabase(url: string, name: string) {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function freshDatabase(): Promise<string> {
  const name = 'seat_hold_bench';
  const admin = new pg.Client({ connectionString: baseDatabaseUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return withDatabase(baseDatabaseUrl, name);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function startService(databaseUrl: string): Promise<{ url: string; child: ChildProcess }> {
  log('building…');
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  const port = await freePort();
  const profileArgs = args.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.join(args.out, 'profiles')}`] : [];
  const child = spawn(process.execPath, [...profileArgs, 'dist/server.js'], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: queuePrefix,
      ADMIN_API_KEY: adminKey,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      HOLD_TTL_SECONDS: '3600', // nothing expires mid-run: every hold is counted
      DB_POOL_SIZE: process.env.DB_POOL_SIZE ?? '10',
      RATE_LIMIT_MAX: '0', // every load client comes from 127.0.0.1
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 120; i++) {
    try {
      if ((await fetch(`${url}/health/ready`)).ok) return { url, child };
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  child.kill('SIGKILL');
  throw new Error('the service did not become ready');
}

async function insertShow(db: pg.Pool, title: string, seats: number): Promise<string> {
  // Straight into the table: the API caps total_seats at 100000, the hot-show scenario needs 10 million.
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO shows (title, start_time, total_seats) VALUES ($1, now() + interval '30 days', $2) RETURNING id`,
    [title, seats],
  );
  return rows[0]!.id;
}

function rssOf(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** CPU ms (user + system) the process has used so far, from /proc; undefined with --url. */
function cpuMsOf(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th, in ticks of 10 ms.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

let apiPid: number | undefined;
type LoadResult = autocannon.Result & { apiCpuMs?: number };

async function load(
  title: string,
  options: autocannon.Options,
  onResponse?: (status: number) => void,
): Promise<LoadResult> {
  log(`\n${title}`);
  const cpuBefore = cpuMsOf(apiPid);
  // Without a callback autocannon returns an instance that is also a promise of the result.
  const instance = autocannon({
    ...options,
    ...(onResponse
      ? {
          requests: (options.requests ?? [{}]).map((request) => ({
            ...request,
            onResponse: (status: number) => onResponse(status),
          })),
        }
      : {}),
  }) as unknown as autocannon.Instance & Promise<autocannon.Result>;
  autocannon.track(instance, { renderProgressBar: true, renderResultsTable: false, renderLatencyTable: false });
  const result = await instance;
  const cpuAfter = cpuMsOf(apiPid);
  return Object.assign(result, {
    ...(cpuBefore !== undefined && cpuAfter !== undefined ? { apiCpuMs: cpuAfter - cpuBefore } : {}),
  });
}

/**
 * ok: answers that did what the scenario asks (201 holds, 200 reads); unexpected: answers
 * that count as errors (5xx always; any non-ok where none is expected).
 */
function row(
  scenario: string,
  connections: number,
  result: LoadResult,
  ok: number,
  unexpected: number,
  note = '',
): Row {
  return {
    scenario,
    connections,
    requests: result.requests.total,
    ...(result.apiCpuMs === undefined
      ? {}
      : { apiCpuUsPerRequest: Math.round((result.apiCpuMs * 1000) / (result.requests.total || 1)) }),
    okPerSecond: Math.round(ok / (result.duration || 1)),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + unexpected,
    note,
  };
}

function counter(expected: number, tolerated: number[] = []) {
  const counts = { ok: 0, unexpected: 0 };
  return {
    counts,
    onResponse: (status: number) => {
      if (status === expected) counts.ok++;
      else if (status >= 500 || !tolerated.includes(status)) counts.unexpected++;
    },
  };
}

/** The per-request design's hold transaction, as pgbench runs it; showId is a UUID the bench generated. */
async function pgbenchBaseline(databaseUrl: string, showId: string): Promise<number> {
  const script = path.join(tmpdir(), `seat-hold-pgbench-${process.pid}.sql`);
  writeFileSync(
    script,
    `BEGIN;
SELECT total_seats, held_seats, confirmed_seats FROM shows WHERE id = '${showId}' FOR UPDATE;
UPDATE shows SET held_seats = held_seats + 1 WHERE id = '${showId}';
INSERT INTO bookings (id, show_id, seats, hold_token_hash, created_at, expires_at, updated_at)
  VALUES (gen_random_uuid(), '${showId}', 1, sha256(random()::text::bytea), now(), now() + interval '1 hour', now());
COMMIT;
`,
  );
  log(`\npgbench: the per-request hold transaction on one hot row, 64 clients, ${duration}s`);
  const output = execFileSync(
    'pgbench',
    ['-n', '-c', '64', '-j', '2', '-T', String(duration), '-f', script, databaseUrl],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const tps = /tps = ([\d.]+)/.exec(output);
  if (!tps) throw new Error(`could not read pgbench output:\n${output}`);
  return Number(tps[1]);
}

/** Self time of the newest CPU profile, by function and by package. */
function printProfile(dir: string) {
  const newest = readdirSync(dir)
    .filter((name) => name.endsWith('.cpuprofile'))
    .map((name) => path.join(dir, name))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (!newest) return;
  const profile = JSON.parse(readFileSync(newest, 'utf8')) as {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
    samples: number[];
    timeDeltas: number[];
  };
  const nodes = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, index) => {
    const frame = nodes.get(id)!;
    const time = profile.timeDeltas[index] ?? 0;
    const where = frame.url.includes('node_modules/')
      ? frame.url.split('node_modules/')[1]!
      : frame.url.replace(/^.*\/(dist|src)\//, '$1/');
    const pkg = frame.url.includes('node_modules/')
      ? where
          .split('/')
          .slice(0, where.startsWith('@') ? 2 : 1)
          .join('/')
      : where.startsWith('dist/')
        ? 'seat-hold (dist/)'
        : frame.url === ''
          ? frame.functionName
          : 'node internals';
    const key = `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + time);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + time);
    total += time;
  });
  const top = (map: Map<string, number>, count: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([key, time]) => `  ${((100 * time) / total).toFixed(1).padStart(5)}%  ${key}`)
      .join('\n');
  process.stdout.write(
    `\nCPU profile ${newest}\nby package:\n${top(byPackage, 12)}\nby function:\n${top(byFunction, 15)}\n`,
  );
}

async function main() {
  const scenarios = new Set(args.scenarios.split(','));
  const databaseUrl = args.url ? baseDatabaseUrl : await freshDatabase();
  const service = args.url ? { url: args.url, child: undefined } : await startService(databaseUrl);
  apiPid = service.child?.pid;
  // Whatever happens, the service this run started does not outlive it.
  process.on('exit', () => service.child?.kill('SIGKILL'));
  const db = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  const rows: Row[] = [];
  let peakRss = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssOf(service.child?.pid));
  }, 250);
  const bookBody = JSON.stringify({ seats: 1 });
  const bookRequest = (showId: string): autocannon.Request => ({
    method: 'POST',
    path: `/api/shows/${showId}/book`,
    headers: { 'content-type': 'application/json' },
    body: bookBody,
  });
  const benchShows: string[] = [];

  try {
    if (scenarios.has('hot')) {
      const show = await insertShow(db, 'hot show', 10_000_000);
      benchShows.push(show);
      const { counts, onResponse } = counter(201);
      const result = await load(
        `hot show: 10,000,000 seats, 64 connections, ${duration}s`,
        { url: service.url, connections: 64, duration, requests: [bookRequest(show)] },
        onResponse,
      );
      rows.push(row('hot show', 64, result, counts.ok, counts.unexpected, `${counts.ok} holds`));
    }

    if (scenarios.has('sellout')) {
      const show = await insertShow(db, 'sell-out', 5_000);
      benchShows.push(show);
      const { counts, onResponse } = counter(201, [409]);
      let soldOutAt = 0;
      const started = Date.now();
      const result = await load(
        'sell-out: 5,000 seats, 256 connections, 15,000 requests',
        { url: service.url, connections: 256, amount: 15_000, requests: [bookRequest(show)] },
        (status) => {
          onResponse(status);
          if (status === 201 && counts.ok === 5_000) soldOutAt = Date.now() - started;
        },
      );
      const created = counts.ok;
      const { rows: count } = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM bookings WHERE show_id = $1',
        [show],
      );
      const exact = count[0]!.n === 5_000 && created === 5_000;
      rows.push(
        row(
          'sell-out',
          256,
          result,
          created,
          counts.unexpected,
          `sold out in ${soldOutAt} ms; ${count[0]!.n} holds ${exact ? '(exactly 5,000)' : '(NOT 5,000)'}`,
        ),
      );
    }

    if (scenarios.has('many')) {
      const shows: string[] = [];
      for (let i = 0; i < 100; i++) shows.push(await insertShow(db, `show ${i}`, 1_000_000));
      benchShows.push(...shows);
      const { counts, onResponse } = counter(201);
      let next = 0;
      const result = await load(
        `many shows: 100 shows, 64 connections, ${duration}s`,
        {
          url: service.url,
          connections: 64,
          duration,
          requests: [
            {
              ...bookRequest(shows[0]!),
              setupRequest: (request) => ({ ...request, path: `/api/shows/${shows[next++ % shows.length]}/book` }),
            },
          ],
        },
        onResponse,
      );
      rows.push(row('many shows', 64, result, counts.ok, counts.unexpected, `${counts.ok} holds`));
    }

    if (scenarios.has('read')) {
      const show = benchShows[0] ?? (await insertShow(db, 'read', 100));
      const { counts, onResponse } = counter(200);
      const result = await load(
        `read: GET a show, 64 connections, ${duration}s`,
        { url: service.url, connections: 64, duration, requests: [{ method: 'GET', path: `/api/shows/${show}` }] },
        onResponse,
      );
      rows.push(row('read', 64, result, counts.ok, counts.unexpected, 'GET /api/shows/:id'));
    }
  } finally {
    clearInterval(sampler);
  }

  // Read from the database: no show may have more seats held or sold than it has, and
  // every show's counters must equal its rows.
  const { rows: check } = await db.query<{ oversold: number; mismatched: number; pending: number; groups: number }>(
    `WITH rows AS (
       SELECT s.id, s.total_seats, s.held_seats, s.confirmed_seats,
              COALESCE(sum(b.seats) FILTER (WHERE b.status = 'PENDING'), 0) AS pending_seats,
              COALESCE(sum(b.seats) FILTER (WHERE b.status = 'CONFIRMED'), 0) AS confirmed_rows
       FROM shows s LEFT JOIN bookings b ON b.show_id = s.id GROUP BY s.id)
     SELECT count(*) FILTER (WHERE held_seats + confirmed_seats > total_seats)::int AS oversold,
            count(*) FILTER (WHERE held_seats <> pending_seats OR confirmed_seats <> confirmed_rows)::int AS mismatched,
            (SELECT count(*) FROM bookings WHERE status = 'PENDING')::int AS pending,
            (SELECT count(DISTINCT (show_id, expires_at)) FROM bookings WHERE status = 'PENDING')::int AS groups
     FROM rows`,
  );
  const integrity = check[0]!;

  // Every hold must have a BullMQ expiry: one delayed job per (show, deadline) group.
  let delayedJobs: number | undefined;
  if (!args.url) {
    const redis = new Redis(redisUrl);
    delayedJobs = await redis.zcard(`${queuePrefix}:hold-expiry:delayed`);
    const keys = await redis.keys(`${queuePrefix}:*`);
    for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
    redis.disconnect();
  }

  let baseline: number | undefined;
  if (args.baseline) baseline = await pgbenchBaseline(databaseUrl, await insertShow(db, 'pgbench', 10_000_000));

  if (service.child) {
    const exited = new Promise((resolve) => service.child.once('exit', resolve));
    service.child.kill('SIGTERM');
    await exited; // the CPU profile is written as the process exits
  }
  await db.end();
  if (args.profile) printProfile(path.join(args.out, 'profiles'));

  const hot = rows.find((r) => r.scenario === 'hot show');
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  const lines = [
    `| scenario | connections | requests | ok/s | p50 ms | p99 ms | errors | API CPU µs/req | notes |`,
    `| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |`,
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.connections} | ${r.requests} | ${r.okPerSecond} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.apiCpuUsPerRequest ?? 'n/a'} | ${r.note} |`,
    ),
  ];
  const summary = [
    `oversold shows: ${integrity.oversold} (must be 0); shows whose counters differ from their rows: ${integrity.mismatched}`,
    delayedJobs === undefined
      ? ''
      : `PENDING holds: ${integrity.pending} in ${integrity.groups} groups; BullMQ delayed expiry jobs: ${delayedJobs}`,
    `API peak RSS: ${peakRss ? `${peakRss.toFixed(0)} MB` : 'n/a (--url)'}`,
    baseline === undefined
      ? ''
      : `pgbench per-request hold transaction (64 clients, one hot row): ${baseline.toFixed(0)} tps; hot show / pgbench = ${hot ? (hot.okPerSecond / baseline).toFixed(1) : 'n/a'}×`,
    `machine: ${machine}; ${new Date().toISOString()}`,
  ].filter(Boolean);
  const markdown = `${lines.join('\n')}\n\n${summary.map((s) => `- ${s}`).join('\n')}\n`;
  process.stdout.write(`\n${markdown}`);

  mkdirSync(args.out, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const json = JSON.stringify({ rows, integrity, delayedJobs, peakRssMb: peakRss, baseline, machine }, null, 2);
  for (const name of ['latest', stamp]) {
    writeFileSync(path.join(args.out, `${name}.json`), json);
    writeFileSync(path.join(args.out, `${name}.md`), markdown);
  }
  if (integrity.oversold > 0 || integrity.mismatched > 0) {
    log('INTEGRITY CHECK FAILED');
    process.exitCode = 1;
  }
}

await main();
