import type pg from 'pg';
import { seatLine, seatsOk, type SeatIntegrity } from './integrity.js';
import { log, waitFor } from './log.js';
import { thousands } from './report.js';
import { goal, type Goal } from './scenario.js';

/** What POST /api/shows takes as seat_map: sections, each with its rows best first. */
interface SeatMapBody {
  sections: { name: string; rows: { label: string; seats: number; category?: string }[] }[];
}

/** A section of `rows` rows of `seats` seats each, labelled 1, 2, …; its first `premium` rows are "premium", the rest the API's default category ("standard"). */
function section(name: string, rows: number, seats: number, premium = 0): SeatMapBody['sections'][number] {
  return {
    name,
    rows: Array.from({ length: rows }, (_, i) => ({
      label: String(i + 1),
      seats,
      ...(i < premium ? { category: 'premium' } : {}),
    })),
  };
}

/**
 * The bench's seat map: 100,000 seats (the most a show has) in 300 rows of 100 to 1,000 seats,
 * best first, in two categories (premium: the first 10 rows of the stalls, 10,000 seats;
 * standard: the rest). About 9 kB as JSON, under the API's default BODY_LIMIT_BYTES (16 kB).
 */
export const SEAT_MAP: SeatMapBody = {
  sections: [
    section('Stalls', 40, 1_000, 10), // 40,000
    section('Circle', 60, 500), // 30,000
    section('Balcony', 100, 200), // 20,000
    section('Gallery', 100, 100), // 10,000
  ],
};

export const SEAT_MAP_SEATS = SEAT_MAP.sections.reduce((n, s) => n + s.rows.reduce((m, row) => m + row.seats, 0), 0);
export const SEAT_MAP_ROWS = SEAT_MAP.sections.reduce((n, s) => n + s.rows.length, 0);

/**
 * A seated show with SEAT_MAP, made through the API (POST /api/shows with the admin key): one
 * INSERT of its 100,000 seat rows, which takes a moment. Answers its id.
 */
export async function createSeatedShow(url: string, adminKey: string, title: string): Promise<string> {
  const started = Date.now();
  const response = await fetch(`${url}/api/shows`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      title,
      start_time: new Date(Date.now() + 30 * 24 * 3600 * 1000).toISOString(),
      seat_map: SEAT_MAP,
    }),
  });
  const text = await response.text();
  if (response.status !== 201) throw new Error(`creating the seated show "${title}": ${response.status} ${text}`);
  const { id } = JSON.parse(text) as { id: string };
  log(
    `  seated show "${title}": ${thousands(SEAT_MAP_SEATS)} seats in ${SEAT_MAP_ROWS} rows, created in ${Date.now() - started} ms`,
  );
  return id;
}

/** GET /api/shows/:id/seats once: the size of the answer and the seats it shows by state. */
export async function readSeatMap(
  url: string,
  showId: string,
): Promise<{ status: number; bytes: number; ms: number; seats: number; byState: Record<string, number> }> {
  const started = performance.now();
  const response = await fetch(`${url}/api/shows/${showId}/seats`);
  const body = Buffer.from(await response.arrayBuffer());
  const ms = Math.round(performance.now() - started);
  const byState: Record<string, number> = {};
  let seats = 0;
  if (response.status === 200) {
    const map = JSON.parse(body.toString('utf8')) as { sections: { rows: { status: string }[] }[] };
    for (const row of map.sections.flatMap((s) => s.rows)) {
      for (const state of row.status) byState[state] = (byState[state] ?? 0) + 1;
      seats += row.status.length;
    }
  }
  return { status: response.status, bytes: body.length, ms, seats, byState };
}

/** Seats per hold of the seated scenarios: best available of 2 ({"seats":2}). */
export const SEATS_PER_HOLD = 2;

/**
 * Most hold requests a seated scenario sends to one show: 45,000 holds of 2 are 90% of its
 * 100,000 seats, so it never sells out while measured (50,000 holds would take them all). wrk
 * stops at this count, before --duration if the API is that fast: the rates are over the time
 * it ran, and the row says so.
 */
export const MAX_SEATED_HOLDS = Math.floor((0.9 * SEAT_MAP_SEATS) / SEATS_PER_HOLD);

/**
 * Waits until the show's seats stop changing (shows.seat_version unchanged for 300 ms, 10 s at
 * most): wrk stops with requests still in flight, whose holds the API still commits after it.
 */
export async function seatsSettled(db: pg.Pool, showId: string): Promise<boolean> {
  const version = async () =>
    (await db.query<{ v: string }>('SELECT seat_version::text AS v FROM shows WHERE id = $1', [showId])).rows[0]?.v;
  let last: string | undefined = '';
  return waitFor(
    async () => {
      const now = await version();
      const same = now === last;
      last = now;
      return same;
    },
    10_000,
    300,
  );
}

/**
 * The seats goal of a seated load on one show: each 201 is one booking of SEATS_PER_HOLD seats
 * in state H (a request still in flight when wrk stopped may have held too, unseen), and the
 * seat checks all pass.
 */
export function seatsGoal(label: string, held: number, inFlight: number, seats: SeatIntegrity): Goal {
  const exact =
    seats.bookings >= held && seats.bookings <= held + inFlight && seats.held === SEATS_PER_HOLD * seats.bookings;
  return goal(
    `${label}: seats in the database`,
    `${thousands(held)} answered 201 (${inFlight} more in flight when wrk stopped); ${seatLine(seats)}`,
    `a booking of ${SEATS_PER_HOLD} seats H per 201, in flight ones aside; the other counts 0`,
    exact && seatsOk(seats),
  );
}
