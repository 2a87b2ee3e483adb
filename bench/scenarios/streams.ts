import { insertShow } from '../lib/database.js';
import { log, sleep } from '../lib/log.js';
import { groupMeter } from '../lib/metrics.js';
import { rssMbOf } from '../lib/proc.js';
import { thousands } from '../lib/report.js';
import { goal, rowOf, type Scenario } from '../lib/scenario.js';
import { percentile, StreamFleet } from '../lib/streams.js';
import { runWrk, unexpected } from '../lib/wrk.js';

/** Open streams on the hot show: what the issue asks one process to carry. */
const STREAMS = 5_000;

export const streams: Scenario = {
  name: 'streams',
  setsUp: `one show of 10,000,000 seats (as hot), and ${thousands(STREAMS)} open GET /api/shows/:id/availability/stream on it`,
  measures:
    `the hot-show hold load (64 connections, --duration) while ${thousands(STREAMS)} streams follow the show: holds/s, p50, ` +
    'p99, API CPU µs/request; the API RSS before the streams, with them open, and its peak under the load; availability ' +
    'events per stream; the update delay (arrival − changed_at) p50 and p99 over every update of every stream',
  async run({ seconds, service, env, db }) {
    const show = await insertShow(db, 'streamed show', 10_000_000);
    const rssBefore = rssMbOf(service.pid);
    const fleet = new StreamFleet(`${service.url}/api/shows/${show}/availability/stream`, STREAMS);
    const opening = Date.now();
    await fleet.open();
    const openedIn = Date.now() - opening;
    await sleep(1_000);
    const rssOpen = rssMbOf(service.pid);
    log(
      `streams: ${thousands(fleet.withSnapshot())} open in ${(openedIn / 1000).toFixed(1)} s, API RSS ${rssBefore.toFixed(0)} → ${rssOpen.toFixed(0)} MB`,
    );

    let rssPeak = rssOpen;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssMbOf(service.pid))), 250);
    const groups = await groupMeter(service.url, env.adminKey);
    const snapshots = Uint32Array.from(fleet.events);
    let result;
    try {
      result = await runWrk({
        title: `hot show with ${thousands(STREAMS)} streams open: 64 connections, ${seconds}s`,
        url: service.url,
        script: 'hold.lua',
        connections: 64,
        seconds,
        shows: [show],
        cpuOf: service.pid,
      });
      await sleep(1_000); // the last updates arrive
    } finally {
      clearInterval(sampler);
      fleet.close();
    }
    const perStream = Array.from(fleet.events, (n, i) => n - snapshots[i]!).sort((a, b) => a - b);
    const p50 = percentile(fleet.delays, 50);
    const p99 = percentile(fleet.delays, 99);
    const held = result.statuses['201'] ?? 0;
    const ms = (value: number | undefined) => (value === undefined ? 'n/a' : `${value.toFixed(0)} ms`);
    return {
      rows: [
        rowOf(result, {
          scenario: 'streams',
          label: `hot show, ${thousands(STREAMS)} streams open`,
          connections: 64,
          ok: held,
          errors: unexpected(result, 201) + fleet.lost,
          groups: await groups(db, [show]),
          note: `${thousands(held)} holds; updates per stream ${perStream[0]}–${perStream.at(-1)}; errors include ${fleet.lost} streams lost`,
        }),
      ],
      goals: [
        goal(
          `update delay p99 over ${thousands(STREAMS)} streams under the hot load`,
          `${ms(p99)} (p50 ${ms(p50)}, ${thousands(fleet.delays.length)} updates)`,
          '≤ 1,000 ms',
          p99 !== undefined && p99 <= 1_000 && fleet.lost === 0,
        ),
      ],
      lines: [
        `streams: API RSS ${rssBefore.toFixed(0)} MB before ${thousands(STREAMS)} streams, ${rssOpen.toFixed(0)} MB with them open (idle), peak ${rssPeak.toFixed(0)} MB under the hold load; ` +
          `${thousands(fleet.withSnapshot())} opened in ${(openedIn / 1000).toFixed(1)} s; availability updates per stream min ${perStream[0]}, median ${perStream[perStream.length >> 1]}, max ${perStream.at(-1)} ` +
          `(at most one per SSE_MIN_INTERVAL_MS); delay = arrival in the bench process − changed_at, so it includes the bench's own event-loop lag`,
      ],
      data: {
        streams: STREAMS,
        lost: fleet.lost,
        openedInMs: openedIn,
        rssMb: { before: rssBefore, open: rssOpen, peak: rssPeak },
        updatesPerStream: { min: perStream[0], median: perStream[perStream.length >> 1], max: perStream.at(-1) },
        delayMs: { p50, p99, updates: fleet.delays.length },
      },
    };
  },
};
