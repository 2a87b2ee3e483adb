import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type pg from 'pg';
import { insertShow } from './database.js';
import { log } from './log.js';
import { goalLine } from './report.js';
import { goal, type Row } from './scenario.js';

/** The shows of the 100-row baseline get ids pgbench can compute from \set n random(1, 100). */
const MANY_PREFIX = 'b0000000-0000-4000-8000-';
const manyId = (n: number) => `${MANY_PREFIX}${String(n).padStart(12, '0')}`;

/** The per-request design's hold transaction on one show (`show` is an SQL expression of its id). */
function holdTransaction(show: string): string {
  return `BEGIN;
SELECT total_seats, held_seats, confirmed_seats FROM shows WHERE id = ${show} FOR UPDATE;
UPDATE shows SET held_seats = held_seats + 1 WHERE id = ${show};
INSERT INTO bookings (id, show_id, seats, hold_token_hash, created_at, expires_at, updated_at, currency, lines, total)
  VALUES (gen_random_uuid(), ${show}, 1, sha256(random()::text::bytea), now(), now() + interval '1 hour', now(),
          'EUR', '[{"type":"standard","name":"Admission","quantity":1,"unit_price":0}]', 0);
COMMIT;
`;
}

async function pgbench(databaseUrl: string, name: string, script: string, clients: number, seconds: number) {
  const file = path.join(tmpdir(), `seat-hold-pgbench-${process.pid}-${name}.sql`);
  writeFileSync(file, script);
  log(`\npgbench: the per-request hold transaction, ${name}, ${clients} clients, ${seconds}s`);
  const { stdout } = await promisify(execFile)(
    'pgbench',
    ['-n', '-c', String(clients), '-j', '2', '-T', String(seconds), '-f', file, databaseUrl],
    { encoding: 'utf8' },
  );
  const tps = /tps = ([\d.]+)/.exec(stdout);
  if (!tps) throw new Error(`could not read pgbench output:\n${stdout}`);
  log(`  ${Number(tps[1]).toFixed(0)} tps`);
  return Number(tps[1]);
}

export interface Baselines {
  /** One hot row, 32 clients. */
  hot32: number;
  /** One hot row, 64 clients. */
  hot64: number;
  /** Each transaction on a random one of 100 rows, 32 clients. */
  many32: number;
}

/** pgbench running the per-request design's hold transaction: what the API is compared with. */
export async function runBaselines(db: pg.Pool, databaseUrl: string, seconds: number): Promise<Baselines> {
  const hot = await insertShow(db, 'pgbench hot', 10_000_000);
  for (let n = 1; n <= 100; n++) await insertShow(db, `pgbench ${n}`, 1_000_000, manyId(n));
  const hotScript = holdTransaction(`'${hot}'`);
  const manyScript = `\\set n random(1, 100)\n${holdTransaction(`('${MANY_PREFIX}' || lpad(CAST(:n AS text), 12, '0'))::uuid`)}`;
  return {
    hot32: await pgbench(databaseUrl, 'one hot row', hotScript, 32, seconds),
    hot64: await pgbench(databaseUrl, 'one hot row', hotScript, 64, seconds),
    many32: await pgbench(databaseUrl, '100 rows', manyScript, 32, seconds),
  };
}

/** The baselines with the ratios of the API's hot show and many shows to them, and their goals. */
export function baselineLines(baselines: Baselines, rows: Row[]): string[] {
  const rate = (name: string) => rows.find((r) => r.scenario === name)?.okPerSecond;
  const ratio = (ours: number | undefined, theirs: number) => (ours === undefined ? undefined : ours / theirs);
  const times = (r: number | undefined) => (r === undefined ? 'n/a (scenario not run)' : `${r.toFixed(1)}×`);
  const pgbench = (what: string, tps: number) => `pgbench per-request hold transaction, ${what}: ${tps.toFixed(0)} tps`;
  const hot32 = ratio(rate('hot'), baselines.hot32);
  const many32 = ratio(rate('many'), baselines.many32);
  return [
    goalLine(
      goal(
        `${pgbench('one hot row, 32 clients', baselines.hot32)}; hot show / pgbench`,
        times(hot32),
        '≥ 8×',
        (hot32 ?? 0) >= 8,
      ),
    ),
    `${pgbench('one hot row, 64 clients', baselines.hot64)}; hot show / pgbench = ${times(ratio(rate('hot'), baselines.hot64))}`,
    goalLine(
      goal(
        `${pgbench('100 rows, 32 clients', baselines.many32)}; many shows / pgbench`,
        times(many32),
        '≥ 2×',
        (many32 ?? 0) >= 2,
      ),
    ),
  ];
}
