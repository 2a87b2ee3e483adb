import { randomUUID } from 'node:crypto';
import { sleep } from '../helpers.js';

export interface Answer {
  status: number;
  body: any;
}

/** What the customers saw, for the invariant checks. */
export interface LoadReport {
  /** Bookings whose confirm answered 200 and that the customer did not cancel afterwards. */
  confirmed: Map<string, number>;
  /** Final answers by status. */
  statuses: Map<number, number>;
  /** Every 5xx seen, retried or not, with its problem code. */
  serverErrors: { status: number; code: string; path: string }[];
  /** Requests that reached no API at all (connection refused or reset), before retrying. */
  unreachable: number;
  holds: number;
  /** Holds granted on seated shows, with what they asked for. */
  seatedHolds: SeatedHold[];
  /** 409 seats_taken answers on seated shows, with the seats asked for. */
  seatsTaken: { showId: string; asked: string[]; taken: string[] }[];
}

/** A hold on a seated show: the seat ids it asked for, or how many best available; the seats it got. */
export interface SeatedHold {
  showId: string;
  id: string;
  asked: string[] | number;
  seatIds: string[];
}

export interface LoadOptions {
  /** The API processes; each customer starts on one and moves on when it fails. */
  urls: () => string[];
  showIds: string[];
  customers: number;
  durationMs: number;
  /** Give up on one request after this long (its outcome is then unknown to the customer). */
  requestDeadlineMs?: number;
  /**
   * Those of showIds that have a seat map. Their customers ask for their 1–3 seats best
   * available half the time, and otherwise name seats that a GET /seats snapshot showed free:
   * one of the three best blocks (best row first, then nearest its centre), as people pick
   * them, so that they contend; any free seats when no row has them together. A 409
   * seats_taken is then what sold_out is elsewhere.
   */
  seatedShowIds?: readonly string[];
}

type HoldBody = { seats: number } | { seat_ids: string[] };

/**
 * Virtual customers: each holds 1–3 seats, then confirms (about half), cancels, confirms
 * and then cancels, or walks away and lets the hold expire. Every request carries an
 * Idempotency-Key and is retried with it, on another API process, after a connection
 * failure, a 503 or a 409 idempotency_in_progress, as a well-behaved client would.
 */
export async function runCustomers(options: LoadOptions): Promise<LoadReport> {
  const report: LoadReport = {
    confirmed: new Map(),
    statuses: new Map(),
    serverErrors: [],
    unreachable: 0,
    holds: 0,
    seatedHolds: [],
    seatsTaken: [],
  };
  const seated = new Set(options.seatedShowIds ?? []);
  const deadlineMs = options.requestDeadlineMs ?? 20_000;
  const stopAt = Date.now() + options.durationMs;

  async function send(home: number, path: string, headers: Record<string, string>, body?: unknown) {
    const key = randomUUID();
    const giveUpAt = Date.now() + deadlineMs;
    for (let attempt = 0; Date.now() < giveUpAt; attempt++) {
      const urls = options.urls();
      const url = urls[(home + attempt) % urls.length]!;
      let answer: Answer;
      try {
        const response = await fetch(`${url}${path}`, {
          method: 'POST',
          headers: {
            'idempotency-key': key,
            ...headers,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? null : JSON.stringify(body),
          signal: AbortSignal.timeout(10_000),
        });
        answer = { status: response.status, body: await response.json() };
      } catch {
        report.unreachable++;
        await sleep(50);
        continue;
      }
      if (answer.status >= 500) report.serverErrors.push({ status: answer.status, code: answer.body?.code, path });
      const retry = answer.status === 503 || answer.body?.code === 'idempotency_in_progress';
      if (!retry) {
        report.statuses.set(answer.status, (report.statuses.get(answer.status) ?? 0) + 1);
        return answer;
      }
      await sleep(answer.status === 503 ? 100 : 500);
    }
    return undefined;
  }

  /** One GET, on the customer's API; undefined when it could not be read (counted as for send). */
  async function read(home: number, path: string): Promise<Answer | undefined> {
    const urls = options.urls();
    try {
      const response = await fetch(`${urls[home % urls.length]!}${path}`, { signal: AbortSignal.timeout(10_000) });
      const answer: Answer = { status: response.status, body: await response.json() };
      if (answer.status >= 500) report.serverErrors.push({ status: answer.status, code: answer.body?.code, path });
      return answer;
    } catch {
      report.unreachable++;
      return undefined;
    }
  }

  /** What a customer of a seated show asks for: see seatedShowIds. */
  async function seatedBody(index: number, showId: string, count: number): Promise<HoldBody> {
    if (Math.random() < 0.5) return { seats: count };
    const snapshot = await read(index, `/api/shows/${showId}/seats`);
    if (snapshot?.status !== 200) return { seats: count };
    const blocks: { seatIds: string[]; row: number; offCentre: number }[] = [];
    const free: string[] = [];
    const rows = (snapshot.body.sections as { name: string; rows: { label: string; status: string }[] }[]).flatMap(
      (section) => section.rows.map((row) => ({ section: section.name, ...row })),
    );
    rows.forEach((row, rowIndex) => {
      const id = (i: number) => `${row.section}-${row.label}-${i + 1}`;
      for (let i = 0; i < row.status.length; i++) {
        if (row.status[i] !== 'F') continue;
        free.push(id(i));
        if (row.status.slice(i, i + count) === 'F'.repeat(count)) {
          const seatIds = Array.from({ length: count }, (_, k) => id(i + k));
          blocks.push({ seatIds, row: rowIndex, offCentre: Math.abs(2 * i + count - row.status.length) });
        }
      }
    });
    blocks.sort((a, b) => a.row - b.row || a.offCentre - b.offCentre);
    if (blocks.length > 0) return { seat_ids: blocks[Math.floor(Math.random() * Math.min(3, blocks.length))]!.seatIds };
    // No row has them together: any free seats (or best available, to be told it is sold out).
    if (free.length === 0) return { seats: count };
    const seatIds: string[] = [];
    while (seatIds.length < count && free.length > 0) seatIds.push(...free.splice(Math.random() * free.length, 1));
    return { seat_ids: seatIds };
  }

  async function customer(index: number) {
    while (Date.now() < stopAt) {
      const showId = options.showIds[index % options.showIds.length]!;
      const count = 1 + (index % 3);
      const body: HoldBody = seated.has(showId) ? await seatedBody(index, showId, count) : { seats: count };
      const held = await send(index, `/api/shows/${showId}/book`, {}, body);
      if (held?.status !== 201) {
        if (held?.status === 409 && held.body?.code === 'seats_taken' && 'seat_ids' in body) {
          report.seatsTaken.push({ showId, asked: body.seat_ids, taken: held.body.taken_seat_ids });
        }
        if (held?.status === 409) await sleep(20); // sold out (or taken) for now: seats come back as holds lapse
        continue;
      }
      report.holds++;
      if (seated.has(showId)) {
        const asked = 'seat_ids' in body ? body.seat_ids : body.seats;
        report.seatedHolds.push({ showId, id: held.body.id, asked, seatIds: held.body.seat_ids });
      }
      const { id, hold_token: token, seats } = held.body;
      const auth = { 'x-hold-token': token as string };
      const choice = Math.random();
      if (choice < 0.5) {
        const confirmed = await send(index, `/api/bookings/${id}/confirm`, auth);
        if (confirmed?.status === 200) report.confirmed.set(id, seats);
      } else if (choice < 0.65) {
        await send(index, `/api/bookings/${id}/cancel`, auth);
      } else if (choice < 0.75) {
        const confirmed = await send(index, `/api/bookings/${id}/confirm`, auth);
        if (confirmed?.status === 200) {
          const cancelled = await send(index, `/api/bookings/${id}/cancel`, auth);
          // No answer at all: the customer cannot know, so claims nothing about it.
          if (cancelled && cancelled.status !== 200) report.confirmed.set(id, seats);
        }
      }
      // else: walk away; the hold expires.
    }
  }

  await Promise.all(Array.from({ length: options.customers }, (_, index) => customer(index)));
  return report;
}
