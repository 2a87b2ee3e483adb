import { insertShow } from '../lib/database.js';
import { rowOf, type Scenario } from '../lib/scenario.js';
import { runWrk, unexpected } from '../lib/wrk.js';

export const read: Scenario = {
  name: 'read',
  setsUp: 'one show of 1,000 seats',
  measures: 'GET /api/shows/:id, 64 connections for --duration: req/s, p50, p99, API CPU µs/request',
  async run({ seconds, service, db }) {
    const show = await insertShow(db, 'read', 1_000);
    const result = await runWrk({
      title: `read: GET a show, 64 connections, ${seconds}s`,
      url: service.url,
      script: 'read.lua',
      connections: 64,
      seconds,
      shows: [show],
      cpuOf: service.pid,
    });
    return {
      rows: [
        rowOf(result, {
          scenario: 'read',
          label: 'read',
          connections: 64,
          ok: result.statuses['200'] ?? 0,
          errors: unexpected(result, 200),
          note: 'GET /api/shows/:id',
        }),
      ],
    };
  },
};
