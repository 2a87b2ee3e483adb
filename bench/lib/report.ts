import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import type { Goal, Row } from './scenario.js';

/** 15000 → "15,000". */
export const thousands = (n: number): string => n.toLocaleString('en-US');

const mark = (met: boolean) => (met ? '✓' : '✗');

export function goalLine(g: Goal): string {
  return `${g.label}: ${g.value} (goal ${g.target} ${mark(g.met)})`;
}

export function machineLine(): string {
  return `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

const cell = (value: number | undefined, digits = 0) => (value === undefined ? 'n/a' : value.toFixed(digits));

/** The table: one row per scenario row; group columns say "n/a" where nothing measured them. */
export function table(rows: Row[]): string {
  const lines = [
    '| scenario | conns | requests | holds/s (read: req/s) | confirms/s | p50 ms | p99 ms | errors | API CPU µs/req | mean group | lock-hold ms | notes |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows.map((r) =>
      [
        r.label,
        r.connections,
        r.requests,
        r.okPerSecond,
        r.confirmsPerSecond ?? '–',
        r.p50,
        r.p99,
        r.errors,
        cell(r.apiCpuUsPerRequest),
        r.groupSource === undefined ? '–' : cell(r.meanGroup, 1),
        r.groupSource === undefined ? '–' : cell(r.lockHoldMs, 2),
        r.note,
      ].join(' | '),
    ),
  ];
  return lines.map((line) => (line.startsWith('|') ? line : `| ${line} |`)).join('\n');
}

/** Where the group columns come from, as one summary line. */
export function groupSourceLine(rows: Row[]): string {
  return rows.some((r) => r.groupSource === 'metrics')
    ? 'mean group and lock-hold: from GET /metrics (Δsum/Δcount of seat_hold_group_size and seat_hold_group_duration_seconds)'
    : 'mean group: from the database (holds per distinct show and created_at); lock-hold n/a: the API has no /metrics';
}

/** The table, then one bullet per summary line. */
export function markdown(rows: Row[], lines: string[]): string {
  return `${table(rows)}\n\n${lines.map((line) => `- ${line}`).join('\n')}\n`;
}

/** Writes <out>/latest.md, latest.json and a timestamped copy of each. */
export function writeResults(out: string, markdown: string, json: unknown): void {
  mkdirSync(out, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const text = JSON.stringify(json, null, 2);
  for (const name of ['latest', stamp]) {
    writeFileSync(path.join(out, `${name}.json`), text);
    writeFileSync(path.join(out, `${name}.md`), markdown);
  }
}
