import type pg from 'pg';
import type { GroupStats } from './metrics.js';
import type { RssSampler } from './proc.js';
import type { Service, ServiceEnv } from './service.js';
import type { WrkResult } from './wrk.js';

/** One row of the table. */
export interface Row {
  /** The scenario's name (--scenarios). */
  scenario: string;
  /** What the row shows, as the table says it. */
  label: string;
  connections: number;
  /** Answers received. */
  requests: number;
  /** Holds granted (201) per second; for reads, 200s per second. */
  okPerSecond: number;
  confirmsPerSecond?: number;
  cancelsPerSecond?: number;
  p50: number;
  p99: number;
  /** Answers of an unexpected status (5xx always) and socket errors. */
  errors: number;
  /** CPU (user + system) of the API process per request: steadier than ok/s on a shared machine. */
  apiCpuUsPerRequest?: number;
  meanGroup?: number;
  lockHoldMs?: number;
  /** Where meanGroup and lockHoldMs come from: the /metrics histograms, or the database. */
  groupSource?: GroupStats['source'];
  note: string;
}

/** A target the bench checks, shown with ✓ or ✗. */
export interface Goal {
  label: string;
  value: string;
  target: string;
  met: boolean;
}

export interface ScenarioOutcome {
  rows: Row[];
  goals?: Goal[];
  /** More lines for the summary under the table. */
  lines?: string[];
  /** More facts for latest.json. */
  data?: Record<string, unknown>;
}

/** What the runner hands each scenario. */
export interface BenchContext {
  /** --duration, in seconds: how long each timed load runs. */
  seconds: number;
  /** The API under test (HOLD_TTL_SECONDS=3600: nothing expires mid-run). */
  service: Service;
  /** How that service was started: a scenario that starts its own processes starts them alike. */
  env: ServiceEnv;
  db: pg.Pool;
  rss: RssSampler;
  /** The rows of the scenarios that ran before this one in this run (seated compares itself with hot). */
  earlier: readonly Row[];
}

/** Every scenario, one file each in bench/scenarios/. */
export interface Scenario {
  /** Its name for --scenarios. */
  name: string;
  /** What it sets up. */
  setsUp: string;
  /** What it measures, and its row(s) in the table. */
  measures: string;
  run(context: BenchContext): Promise<ScenarioOutcome>;
}

/** A table row from one wrk run: rates over wrk's run time, CPU per answer. */
export function rowOf(
  result: WrkResult,
  row: Pick<Row, 'scenario' | 'label' | 'connections' | 'errors' | 'note'> & {
    ok: number;
    groups?: GroupStats;
    confirms?: number;
    cancels?: number;
  },
): Row {
  const perSecond = (n: number) => Math.round(n / (result.seconds || 1));
  return {
    scenario: row.scenario,
    label: row.label,
    connections: row.connections,
    requests: result.requests,
    okPerSecond: perSecond(row.ok),
    ...(row.confirms === undefined ? {} : { confirmsPerSecond: perSecond(row.confirms) }),
    ...(row.cancels === undefined ? {} : { cancelsPerSecond: perSecond(row.cancels) }),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: row.errors,
    ...(result.cpuMs === undefined
      ? {}
      : { apiCpuUsPerRequest: Math.round((result.cpuMs * 1000) / (result.requests || 1)) }),
    ...(row.groups?.meanGroup === undefined ? {} : { meanGroup: row.groups.meanGroup }),
    ...(row.groups?.lockHoldMs === undefined ? {} : { lockHoldMs: row.groups.lockHoldMs }),
    ...(row.groups ? { groupSource: row.groups.source } : {}),
    note: row.note,
  };
}

export const goal = (label: string, value: string, target: string, met: boolean): Goal => ({
  label,
  value,
  target,
  met,
});
