import { checkSeats } from '../lib/integrity.js';
import { groupMeter } from '../lib/metrics.js';
import { goal, rowOf, type Scenario } from '../lib/scenario.js';
import { thousands } from '../lib/report.js';
import {
  createSeatedShow,
  MAX_SEATED_HOLDS,
  SEAT_MAP_ROWS,
  SEAT_MAP_SEATS,
  SEATS_PER_HOLD,
  seatsGoal,
  seatsSettled,
} from '../lib/seating.js';
import { runWrk, unexpected } from '../lib/wrk.js';

/** Of the hot show's holds/s in the same run. */
const RATE_GOAL = 0.5;
const P99_GOAL_MS = 50;

export const seated: Scenario = {
  name: 'seated',
  setsUp:
    `one seated show, made fresh through POST /api/shows: ${thousands(SEAT_MAP_SEATS)} seats in ${SEAT_MAP_ROWS} rows ` +
    'of 100 to 1,000 seats (4 sections), 2 categories',
  measures:
    `64 connections holding the best available ${SEATS_PER_HOLD} seats ({"seats":${SEATS_PER_HOLD}}) for --duration, ` +
    `at most ${thousands(MAX_SEATED_HOLDS)} requests (90% of the seats: the show never sells out while measured): ` +
    `holds/s, p50, p99, API CPU µs/request; goals: ≥ ${RATE_GOAL}× the hot show's holds/s of the same run, p99 ≤ ${P99_GOAL_MS} ms, ` +
    'no 409; then the seats, from the database: held seats = seats of PENDING bookings, each owned by exactly one, each booking one block of a row',
  async run({ seconds, service, env, db, earlier }) {
    const show = await createSeatedShow(service.url, env.adminKey, 'hot seated show');
    const groups = await groupMeter(service.url, env.adminKey);
    const result = await runWrk({
      title: `hot seated show: ${thousands(SEAT_MAP_SEATS)} seats, best available ${SEATS_PER_HOLD}, 64 connections, ${seconds}s`,
      url: service.url,
      script: 'hold.lua',
      connections: 64,
      seconds,
      limit: MAX_SEATED_HOLDS,
      shows: [show],
      args: { seats: SEATS_PER_HOLD },
      cpuOf: service.pid,
    });
    const held = result.statuses['201'] ?? 0;
    const refused = result.statuses['409'] ?? 0;
    const capped = result.requests >= MAX_SEATED_HOLDS;
    await seatsSettled(db, show);
    const seats = await checkSeats(db, [show]);
    const row = rowOf(result, {
      scenario: 'seated',
      label: 'hot seated show',
      connections: 64,
      ok: held,
      errors: unexpected(result, 201),
      groups: await groups(db, [show]),
      note:
        `${thousands(held)} holds of ${SEATS_PER_HOLD} adjacent seats (best available) of ${thousands(SEAT_MAP_SEATS)}` +
        (capped
          ? `; stopped at the cap of ${thousands(MAX_SEATED_HOLDS)} requests after ${result.seconds.toFixed(1)} s`
          : ''),
    });
    const hot = earlier.find((r) => r.scenario === 'hot');
    const ratio = hot ? row.okPerSecond / (hot.okPerSecond || 1) : undefined;
    return {
      rows: [row],
      goals: [
        ...(hot && ratio !== undefined
          ? [
              goal(
                'hot seated show: holds/s, seated / hot',
                `${row.okPerSecond} / ${hot.okPerSecond} = ${ratio.toFixed(2)}`,
                `≥ ${RATE_GOAL}`,
                ratio >= RATE_GOAL,
              ),
            ]
          : []),
        goal(
          'hot seated show: holds p99',
          `${row.p99} ms (p50 ${row.p50} ms)`,
          `≤ ${P99_GOAL_MS} ms`,
          row.p99 <= P99_GOAL_MS,
        ),
        goal(
          'hot seated show: 409 answers (the show must not sell out while measured)',
          String(refused),
          '0',
          refused === 0,
        ),
        seatsGoal('hot seated show', held, result.sent - result.requests, seats),
      ],
      lines: [
        ...(hot ? [] : ['hot seated show: the hot show did not run in this run, so there is no seated / hot ratio']),
        ...(capped
          ? [
              `hot seated show: wrk stopped at ${thousands(MAX_SEATED_HOLDS)} requests after ${result.seconds.toFixed(1)} s of the ${seconds} s ` +
                'asked (one show has seats for no more): its rates are over the time it ran',
            ]
          : []),
      ],
      data: { holds: held, refused, capped, seats, seatedOverHot: ratio },
    };
  },
};
