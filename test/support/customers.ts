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
}

export interface LoadOptions {
  /** The API processes; each customer starts on one and moves on when it fails. */
  urls: () => string[];
  showIds: string[];
  customers: number;
  durationMs: number;
  /** Give up on one request after this long (its outcome is then unknown to the customer). */
  requestDeadlineMs?: number;
}

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
  };
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

  async function customer(index: number) {
    while (Date.now() < stopAt) {
      const showId = options.showIds[index % options.showIds.length]!;
      const held = await send(index, `/api/shows/${showId}/book`, {}, { seats: 1 + (index % 3) });
      if (held?.status !== 201) {
        if (held?.status === 409) await sleep(20); // sold out for now: seats come back as holds lapse
        continue;
      }
      report.holds++;
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
