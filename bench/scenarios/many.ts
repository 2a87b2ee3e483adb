import { insertShows } from '../lib/database.js';
import { groupMeter } from '../lib/metrics.js';
import { rowOf, type Scenario } from '../lib/scenario.js';
import { thousands } from '../lib/report.js';
import { runWrk, unexpected } from '../lib/wrk.js';

export const many: Scenario = {
  name: 'many',
  setsUp: '100 shows of 1,000,000 seats',
  measures:
    '64 connections for --duration, each request holding 1 seat on a random one of the 100 (the Lua script picks): holds/s, API CPU µs per hold',
  async run({ seconds, service, env, db }) {
    const shows = await insertShows(db, 'many', 100, 1_000_000);
    const groups = await groupMeter(service.url, env.adminKey);
    const result = await runWrk({
      title: `many shows: 100 shows, 64 connections, ${seconds}s`,
      url: service.url,
      script: 'hold.lua',
      connections: 64,
      seconds,
      shows,
      cpuOf: service.pid,
    });
    const held = result.statuses['201'] ?? 0;
    return {
      rows: [
        rowOf(result, {
          scenario: 'many',
          label: 'many shows',
          connections: 64,
          ok: held,
          errors: unexpected(result, 201),
          groups: await groups(db, shows),
          note: `${thousands(held)} holds over 100 shows`,
        }),
      ],
    };
  },
};
