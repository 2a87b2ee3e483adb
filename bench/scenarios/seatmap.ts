import { checkSeats } from '../lib/integrity.js';
import { groupMeter } from '../lib/metrics.js';
import { cpuMeter } from '../lib/proc.js';
import { goal, rowOf, type Scenario } from '../lib/scenario.js';
import { thousands } from '../lib/report.js';
import {
  createSeatedShow,
  MAX_SEATED_HOLDS,
  readSeatMap,
  SEAT_MAP_ROWS,
  SEAT_MAP_SEATS,
  SEATS_PER_HOLD,
  seatsGoal,
  seatsSettled,
} from '../lib/seating.js';
import { runWrk, unexpected } from '../lib/wrk.js';

/**
 * 48 + 16: the 64 connections of the other scenarios, three quarters of them still holding, so
 * the holds meanwhile compare with the seated show's alone. 16 readers reading back to back ask
 * for far more maps than real visitors do (a page reloads its map every few seconds): the
 * point is what a heavy read does to the holds.
 */
const HOLD_CONNECTIONS = 48;
const READ_CONNECTIONS = 16;

export const seatmap: Scenario = {
  name: 'seatmap',
  setsUp: `one seated show, made fresh through POST /api/shows, with the same map (${thousands(SEAT_MAP_SEATS)} seats, ${SEAT_MAP_ROWS} rows)`,
  measures:
    `the seat map under the hot seated load, on the same show: ${HOLD_CONNECTIONS} connections hold the best available ` +
    `${SEATS_PER_HOLD} seats (at most ${thousands(MAX_SEATED_HOLDS)} requests) while ${READ_CONNECTIONS} read ` +
    'GET /api/shows/:id/seats, both for --duration (the reads stop when the holds do): reads/s, p50, p99 and size of the map; ' +
    'holds/s, p50, p99 meanwhile; API CPU over both; then one more read of the map, whose held seats must be those of the database',
  async run({ seconds, service, env, db, earlier }) {
    const show = await createSeatedShow(service.url, env.adminKey, 'seat-map show');
    const groups = await groupMeter(service.url, env.adminKey);
    const cpu = cpuMeter(service.pid);
    const holdsDone = new AbortController();
    const [holds, reads] = await Promise.all([
      runWrk({
        title: `seat map: ${HOLD_CONNECTIONS} connections holding the best available ${SEATS_PER_HOLD}, ${seconds}s`,
        url: service.url,
        script: 'hold.lua',
        connections: HOLD_CONNECTIONS,
        seconds,
        limit: MAX_SEATED_HOLDS,
        shows: [show],
        args: { seats: SEATS_PER_HOLD },
      }).finally(() => holdsDone.abort()),
      runWrk({
        title: `seat map: ${READ_CONNECTIONS} connections reading GET /api/shows/:id/seats of the same show, ${seconds}s`,
        url: service.url,
        script: 'read.lua',
        connections: READ_CONNECTIONS,
        seconds,
        shows: [show],
        args: { path: 'seats' },
        stop: holdsDone.signal,
      }),
    ]);
    const cpuMs = cpu();
    const held = holds.statuses['201'] ?? 0;
    const refused = holds.statuses['409'] ?? 0;
    const capped = holds.requests >= MAX_SEATED_HOLDS;
    const read = reads.statuses['200'] ?? 0;
    await seatsSettled(db, show);
    const map = await readSeatMap(service.url, show);
    const seats = await checkSeats(db, [show]);
    const holdRow = rowOf(holds, {
      scenario: 'seatmap',
      label: 'seat map: holds meanwhile',
      connections: HOLD_CONNECTIONS,
      ok: held,
      errors: unexpected(holds, 201),
      groups: await groups(db, [show]),
      note:
        `${thousands(held)} holds of ${SEATS_PER_HOLD} on the show being read` +
        (capped
          ? `; stopped at the cap of ${thousands(MAX_SEATED_HOLDS)} requests after ${holds.seconds.toFixed(1)} s`
          : ''),
    });
    const readRow = rowOf(reads, {
      scenario: 'seatmap',
      label: 'seat map: GET /seats',
      connections: READ_CONNECTIONS,
      ok: read,
      errors: unexpected(reads, 200),
      note: `${thousands(read)} maps of ${thousands(map.bytes)} bytes (body), while the holds ran`,
    });

    // The API's CPU over both loads (one process serves both): per request, and per second.
    const requests = holds.requests + reads.requests;
    const wall = Math.max(holds.seconds, reads.seconds) || 1;
    const cpuLine =
      cpuMs === undefined
        ? 'API CPU n/a (--url)'
        : `API CPU ${Math.round((cpuMs * 1000) / (requests || 1))} µs per request of either kind, ` +
          `${((cpuMs / 1000 / wall) * 100).toFixed(0)}% of a core`;
    // What a read costs, if the seated show ran: the CPU less its µs per hold for the holds.
    const seated = earlier.find((r) => r.scenario === 'seated');
    const perRead =
      cpuMs !== undefined && seated?.apiCpuUsPerRequest !== undefined && reads.requests > 0
        ? Math.round((cpuMs * 1000 - seated.apiCpuUsPerRequest * holds.requests) / reads.requests)
        : undefined;
    const mapHeld = map.byState.H ?? 0;
    const mapExact = map.status === 200 && map.seats === SEAT_MAP_SEATS && mapHeld === seats.held;
    return {
      rows: [holdRow, readRow],
      goals: [
        goal(
          'seat map: 409 answers to the holds (the show must not sell out while measured)',
          String(refused),
          '0',
          refused === 0,
        ),
        goal(
          'seat map: the map read once more after the load',
          `${map.status}, ${thousands(map.bytes)} bytes in ${map.ms} ms, ${thousands(map.seats)} seats of which ${thousands(mapHeld)} H; the database: ${thousands(seats.held)} H`,
          `every seat, the same held seats as the database`,
          mapExact,
        ),
        seatsGoal('seat map', held, holds.sent - holds.requests, seats),
      ],
      lines: [
        `seat map under hot load: ${readRow.okPerSecond} reads/s (p50 ${readRow.p50} ms, p99 ${readRow.p99} ms) of ` +
          `${thousands(map.bytes)} bytes (${((readRow.okPerSecond * map.bytes) / 2 ** 20).toFixed(1)} MiB/s) with ${READ_CONNECTIONS} connections; ` +
          `meanwhile ${holdRow.okPerSecond} holds/s (p50 ${holdRow.p50} ms, p99 ${holdRow.p99} ms) with ${HOLD_CONNECTIONS}` +
          (seated ? `, ${(holdRow.okPerSecond / (seated.okPerSecond || 1)).toFixed(2)}× the seated show's alone` : '') +
          `; ${cpuLine}` +
          (perRead === undefined ? '' : `; ≈ ${thousands(perRead)} µs per read (less the seated row's µs per hold)`),
        ...(capped
          ? [
              `seat map: the holds stopped at ${thousands(MAX_SEATED_HOLDS)} requests after ${holds.seconds.toFixed(1)} s of the ${seconds} s ` +
                'asked (one show has seats for no more), and the reads with them',
            ]
          : []),
      ],
      data: {
        holds: held,
        refused,
        capped,
        reads: read,
        mapBytes: map.bytes,
        apiCpuMs: cpuMs,
        apiCpuUsPerRead: perRead,
        seats,
      },
    };
  },
};
