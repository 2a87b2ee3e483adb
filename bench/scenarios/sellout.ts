import { insertShow } from '../lib/database.js';
import { groupMeter } from '../lib/metrics.js';
import { goal, rowOf, type Scenario } from '../lib/scenario.js';
import { thousands } from '../lib/report.js';
import { runWrk, unexpected } from '../lib/wrk.js';

const SEATS = 5_000;
const REQUESTS = 15_000;
const GOAL_MS = 500;

export const sellout: Scenario = {
  name: 'sellout',
  setsUp: `one show of ${thousands(SEATS)} seats`,
  measures:
    `256 connections, exactly ${REQUESTS} hold requests (each wrk thread stops once its share is answered): ` +
    `exactly ${SEATS} holds granted, the rest 409, and "sold out in X ms" = max − min created_at of the show's bookings (goal < ${GOAL_MS} ms)`,
  async run({ service, env, db }) {
    const show = await insertShow(db, 'sell-out', SEATS);
    const groups = await groupMeter(service.url, env.adminKey);
    const result = await runWrk({
      title: `sell-out: ${thousands(SEATS)} seats, 256 connections, ${thousands(REQUESTS)} requests`,
      url: service.url,
      script: 'hold.lua',
      connections: 256,
      seconds: 60,
      limit: REQUESTS,
      shows: [show],
      cpuOf: service.pid,
    });
    const { rows } = await db.query<{ holds: number; ms: number | null }>(
      `SELECT count(*)::int AS holds, (extract(epoch FROM max(created_at) - min(created_at)) * 1000)::float8 AS ms
       FROM bookings WHERE show_id = $1`,
      [show],
    );
    const { holds, ms } = rows[0]!;
    const granted = result.statuses['201'] ?? 0;
    const exact = holds === SEATS && granted === SEATS;
    const soldOutMs = Math.round(ms ?? 0);
    return {
      rows: [
        rowOf(result, {
          scenario: 'sellout',
          label: 'sell-out',
          connections: 256,
          ok: granted,
          errors: unexpected(result, 201, 409),
          groups: await groups(db, [show]),
          note:
            `${thousands(result.requests)} requests; sold out in ${soldOutMs} ms; ` +
            `${thousands(holds)} holds ${exact ? `(exactly ${thousands(SEATS)})` : `(NOT ${thousands(SEATS)}: ${granted} answered 201)`}`,
        }),
      ],
      goals: [
        goal('sell-out', `sold out in ${soldOutMs} ms`, `< ${GOAL_MS} ms`, exact && soldOutMs < GOAL_MS),
        goal(
          'sell-out',
          `${thousands(holds)} holds, ${thousands(granted)} answered 201`,
          `exactly ${thousands(SEATS)}`,
          exact,
        ),
      ],
      data: { soldOutMs, holds, granted, requests: result.requests },
    };
  },
};
