import { log } from './log.js';
import { goalLine } from './report.js';
import { goal, type Row } from './scenario.js';
import { startBareFastify } from './service.js';
import { runWrk } from './wrk.js';

/** Bare Fastify's answers per second and CPU per answer, with the read scenario's load. */
export interface BareBaseline {
  perSecond: number;
  cpuUsPerRequest: number | undefined;
}

const CONNECTIONS = 64;

/** The ceiling of a read on this machine: Fastify and nothing else (bench/lib/bare-fastify.ts). */
export async function runBareBaseline(seconds: number): Promise<BareBaseline> {
  const bare = await startBareFastify();
  try {
    const result = await runWrk({
      title: `bare Fastify: GET a constant show, ${CONNECTIONS} connections, ${seconds}s`,
      url: bare.url,
      script: 'read.lua',
      connections: CONNECTIONS,
      seconds,
      shows: ['none'],
      args: { target: '/api/shows/00000000-0000-4000-8000-000000000000' },
      cpuOf: bare.pid,
    });
    const perSecond = Math.round((result.statuses['200'] ?? 0) / (result.seconds || 1));
    const cpuUsPerRequest =
      result.cpuMs === undefined ? undefined : Math.round((result.cpuMs * 1000) / (result.requests || 1));
    log(`  ${perSecond} req/s, ${cpuUsPerRequest ?? 'n/a'} µs of CPU per request`);
    return { perSecond, cpuUsPerRequest };
  } finally {
    await bare.stop();
  }
}

/** Each read of the run against bare Fastify (goal ≥ 0.7). */
export function bareLines(bare: BareBaseline, rows: Row[]): string[] {
  const reads = rows.filter((row) => row.scenario === 'read');
  return [
    `bare Fastify (no hooks, no database, a constant show): ${bare.perSecond} req/s, ${bare.cpuUsPerRequest ?? 'n/a'} µs of CPU per request`,
    ...reads.map((row) =>
      goalLine(
        goal(
          `${row.label} / bare Fastify`,
          `${row.okPerSecond} / ${bare.perSecond} = ${(row.okPerSecond / bare.perSecond).toFixed(2)}`,
          '≥ 0.7',
          row.okPerSecond / bare.perSecond >= 0.7,
        ),
      ),
    ),
  ];
}

/** API CPU per hot-show hold (goal ≤ 100 µs) and per read (≤ 50 µs), where the run has them. */
export function cpuLines(rows: Row[]): string[] {
  const budgets = rows.flatMap((row) =>
    row.apiCpuUsPerRequest === undefined
      ? []
      : row.scenario === 'hot'
        ? [{ row, limit: 100 }]
        : row.scenario === 'read'
          ? [{ row, limit: 50 }]
          : [],
  );
  return budgets.map(({ row, limit }) =>
    goalLine(
      goal(
        `API CPU per request, ${row.label}`,
        `${row.apiCpuUsPerRequest} µs`,
        `≤ ${limit} µs`,
        row.apiCpuUsPerRequest! <= limit,
      ),
    ),
  );
}
