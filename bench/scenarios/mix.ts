import { insertShow } from '../lib/database.js';
import { groupMeter } from '../lib/metrics.js';
import { rowOf, type Scenario } from '../lib/scenario.js';
import { thousands } from '../lib/report.js';
import { runWrk, unexpected } from '../lib/wrk.js';

const CONFIRM = 0.6;
const CANCEL = 0.1;

export const mix: Scenario = {
  name: 'mix',
  setsUp: 'one show of 10,000,000 seats',
  measures:
    `on-sale mix, 64 connections for --duration: each hold answered 201 is confirmed (${CONFIRM * 100}%), ` +
    `cancelled (${CANCEL * 100}%) or abandoned (the rest) with its id and hold_token (X-Hold-Token); ` +
    'holds/s, confirms/s, cancels/s, p99 (of all requests), errors',
  async run({ seconds, service, env, db }) {
    const show = await insertShow(db, 'on-sale mix', 10_000_000);
    const groups = await groupMeter(service.url, env.adminKey);
    const result = await runWrk({
      title: `on-sale mix: hold, then confirm ${CONFIRM * 100}% / cancel ${CANCEL * 100}% / abandon, 64 connections, ${seconds}s`,
      url: service.url,
      script: 'mix.lua',
      connections: 64,
      seconds,
      shows: [show],
      args: { confirm: CONFIRM, cancel: CANCEL },
      cpuOf: service.pid,
    });
    const held = result.counts.held ?? 0;
    const confirmed = result.counts.confirmed ?? 0;
    const cancelled = result.counts.cancelled ?? 0;
    const cancelsPerSecond = Math.round(cancelled / (result.seconds || 1));
    return {
      rows: [
        rowOf(result, {
          scenario: 'mix',
          label: 'on-sale mix',
          connections: 64,
          ok: held,
          confirms: confirmed,
          cancels: cancelled,
          // A 200 that is neither CONFIRMED nor CANCELLED is unexpected too.
          errors: unexpected(result, 200, 201) + (result.statuses['200'] ?? 0) - confirmed - cancelled,
          groups: await groups(db, [show]),
          note: `${thousands(held)} holds, ${thousands(confirmed)} confirmed, ${thousands(cancelled)} cancelled (${cancelsPerSecond}/s), ${thousands(result.counts.abandoned ?? 0)} abandoned; p50 and p99 of all requests`,
        }),
      ],
    };
  },
};
