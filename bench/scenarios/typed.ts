import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { insertShow } from '../lib/database.js';
import { groupMeter } from '../lib/metrics.js';
import { goal, rowOf, type Scenario } from '../lib/scenario.js';
import { thousands } from '../lib/report.js';
import { runWrk, unexpected } from '../lib/wrk.js';

/** Typed holds against the plain hot show's rate in the same run (issue 22). */
const RATE_GOAL = 0.8;

/** What buyers ask for: lines of 1 to 4 tickets over three types. */
const BODIES = [
  [['adult', 1]],
  [['adult', 2]],
  [
    ['adult', 2],
    ['child', 2],
  ],
  [
    ['adult', 1],
    ['child', 1],
  ],
  [['early', 1]],
  [
    ['early', 2],
    ['child', 1],
  ],
  [
    ['adult', 1],
    ['early', 1],
    ['child', 2],
  ],
  [['child', 3]],
].map((lines) => JSON.stringify({ tickets: lines.map(([type, quantity]) => ({ type, quantity })) }));

export const typed: Scenario = {
  name: 'typed',
  setsUp:
    'one show of 10,000,000 seats (as hot) selling three ticket types: adult, child (at most 4), early bird (until tomorrow)',
  measures:
    '64 connections holding tickets by type (lines of 1–4 tickets) for --duration: holds/s beside the plain hot show of the same run',
  async run({ seconds, service, env, db, earlier }) {
    const show = await insertShow(db, 'typed on-sale', 10_000_000);
    await db.query(
      `INSERT INTO ticket_types (show_id, code, position, name, price, max_per_booking, available_until)
       VALUES ($1, 'adult', 2, 'Adult', 4500, NULL, NULL), ($1, 'child', 3, 'Child', 2500, 4, NULL),
              ($1, 'early', 4, 'Early bird', 3500, NULL, now() + interval '1 day')`,
      [show],
    );
    const bodies = path.join(tmpdir(), `seat-hold-typed-${process.pid}.txt`);
    writeFileSync(bodies, `${BODIES.join('\n')}\n`);
    const groups = await groupMeter(service.url, env.adminKey);
    const result = await runWrk({
      title: `typed on-sale: 10,000,000 seats, three types, 64 connections, ${seconds}s`,
      url: service.url,
      script: 'hold.lua',
      connections: 64,
      seconds,
      shows: [show],
      args: { bodies },
      cpuOf: service.pid,
    });
    const held = result.statuses['201'] ?? 0;
    const row = rowOf(result, {
      scenario: 'typed',
      label: 'typed on-sale',
      connections: 64,
      ok: held,
      errors: unexpected(result, 201),
      groups: await groups(db, [show]),
      note: `${thousands(held)} holds of 1–4 tickets by type`,
    });
    const hot = earlier.find((r) => r.scenario === 'hot');
    const ratio = hot ? row.okPerSecond / (hot.okPerSecond || 1) : undefined;
    return {
      rows: [row],
      goals:
        hot && ratio !== undefined
          ? [
              goal(
                'typed on-sale: holds/s, typed / hot',
                `${row.okPerSecond} / ${hot.okPerSecond} = ${ratio.toFixed(2)}`,
                `≥ ${RATE_GOAL}`,
                ratio >= RATE_GOAL,
              ),
            ]
          : [],
      lines: hot ? [] : ['typed on-sale: the hot show did not run in this run, so there is no typed / hot ratio'],
    };
  },
};
