import { rowOf, type Row, type Scenario } from '../lib/scenario.js';
import { thousands } from '../lib/report.js';
import { createSeatedShow, SEAT_MAP_SEATS } from '../lib/seating.js';
import { runWrk, unexpected } from '../lib/wrk.js';

const CONNECTIONS = 64;

/** The three reads an on-sale's waiting pages make, each its own wrk run, in the table in this order. */
const READS = [
  { label: 'read: a show', note: 'GET /api/shows/:id', args: {} },
  { label: 'read: the shows', note: 'GET /api/shows (the first page)', args: { target: '/api/shows' } },
  {
    label: 'read: the seat map',
    note: 'GET /api/shows/:id/seats, Accept-Encoding br,gzip (as browsers send)',
    args: { path: 'seats', accept: 'br,gzip' },
  },
] as const;

export const read: Scenario = {
  name: 'read',
  setsUp: `one seated show of ${thousands(SEAT_MAP_SEATS)} seats, made through POST /api/shows`,
  measures: `${READS.map((r) => r.note).join('; ')}: ${CONNECTIONS} connections for --duration each: req/s, p50, p99, API CPU µs/request`,
  async run({ seconds, service, env }) {
    const show = await createSeatedShow(service.url, env.adminKey, 'read show');
    const rows: Row[] = [];
    for (const { label, note, args } of READS) {
      const result = await runWrk({
        title: `${label}: ${note}, ${CONNECTIONS} connections, ${seconds}s`,
        url: service.url,
        script: 'read.lua',
        connections: CONNECTIONS,
        seconds,
        shows: [show],
        args,
        cpuOf: service.pid,
      });
      rows.push(
        rowOf(result, {
          scenario: 'read',
          label,
          connections: CONNECTIONS,
          ok: result.statuses['200'] ?? 0,
          errors: unexpected(result, 200),
          note,
        }),
      );
    }
    return { rows };
  },
};
