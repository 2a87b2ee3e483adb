import { insertShow } from '../lib/database.js';
import { groupMeter } from '../lib/metrics.js';
import { rowOf, type Scenario } from '../lib/scenario.js';
import { thousands } from '../lib/report.js';
import { runWrk, unexpected } from '../lib/wrk.js';

export const hot: Scenario = {
  name: 'hot',
  setsUp: 'one show of 10,000,000 seats (inserted straight into shows: the API caps total_seats)',
  measures: '64 connections holding 1 seat each for --duration: holds/s, p50, p99, errors, API CPU µs/request',
  async run({ seconds, service, env, db }) {
    const show = await insertShow(db, 'hot show', 10_000_000);
    const groups = await groupMeter(service.url, env.adminKey);
    const result = await runWrk({
      title: `hot show: 10,000,000 seats, 64 connections, ${seconds}s`,
      url: service.url,
      script: 'hold.lua',
      connections: 64,
      seconds,
      shows: [show],
      cpuOf: service.pid,
    });
    const held = result.statuses['201'] ?? 0;
    return {
      rows: [
        rowOf(result, {
          scenario: 'hot',
          label: 'hot show',
          connections: 64,
          ok: held,
          errors: unexpected(result, 201),
          groups: await groups(db, [show]),
          note: `${thousands(held)} holds`,
        }),
      ],
    };
  },
};
