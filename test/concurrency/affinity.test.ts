import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers.js';
import { Nginx, nginxBinary, type AccessLogEntry } from '../support/nginx.js';
import {
  createShows,
  deleteQueueKeys,
  serviceEnv,
  startAll,
  startApi,
  type ServiceProcess,
} from '../support/processes.js';
import { SseStream } from '../support/sse.js';

// The shipped load balancer, deploy/nginx.conf, run for real with Debian's nginx in front of
// two API processes (its `server api-N:3000` lines pointed at them): every request about a
// show reaches one process, and when that process dies its shows move to the other.
// nginx missing fails the test (CI installs it).
const SHOWS = 30;
const SEATS = 20;

let database: TestDatabase | undefined;
let apis: ServiceProcess[] = [];
let nginx: Nginx | undefined;
const queuePrefix = `affinity-${randomBytes(4).toString('hex')}`;
/** Upstream address (as nginx logs it) → API process name. */
const names = new Map<string, string>();

beforeAll(async () => {
  nginxBinary(); // throws, before anything starts, when nginx is not installed
  database = await createTestDatabase();
  // Holds last long enough to be confirmed whatever the machine's pace.
  const env = { ...serviceEnv(database.url, inject('redisUrl'), queuePrefix), HOLD_TTL_SECONDS: '120' };
  apis = await startAll([startApi('api-1', env), startApi('api-2', env)]);
  for (const api of apis) names.set(new URL(api.url!).host, api.name);
  nginx = await Nginx.start(Object.fromEntries(apis.map((api) => [api.name, new URL(api.url!).host])));
});

afterAll(async () => {
  const steps = await Promise.allSettled([nginx?.close(), ...apis.map((api) => api.stop())]);
  await database?.drop();
  await deleteQueueKeys(inject('redisUrl'), queuePrefix);
  for (const step of steps) if (step.status === 'rejected') throw step.reason;
});

interface Call {
  requestId: string;
  what: string;
  status: number;
  body: any;
  echoedId: string | null;
}

let sequence = 0;

/** One request through nginx, with an X-Request-Id of its own to find it in nginx's access log. */
async function call(method: 'GET' | 'POST', path: string, headers: Record<string, string> = {}, body?: unknown) {
  const requestId = `affinity-${++sequence}-${randomBytes(4).toString('hex')}`;
  const response = await fetch(`${nginx!.url}${path}`, {
    method,
    headers: {
      'x-request-id': requestId,
      ...headers,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? null : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  const call: Call = {
    requestId,
    what: `${method} ${path}`,
    status: response.status,
    body: parseBody(text),
    echoedId: response.headers.get('x-request-id'),
  };
  return call;
}

/** Opens the show's availability stream through nginx, reads its first event, closes it. */
async function stream(path: string) {
  const requestId = `affinity-${++sequence}-${randomBytes(4).toString('hex')}`;
  const opened = await SseStream.open(`${nginx!.url}${path}`, { 'x-request-id': requestId });
  const first = opened.status === 200 ? await opened.next('availability', () => true, 0, 15_000) : undefined;
  opened.close();
  const call: Call = {
    requestId,
    what: `GET ${path}`,
    status: opened.status,
    body: first?.data,
    echoedId: (opened.headers['x-request-id'] as string | undefined) ?? null,
  };
  return call;
}

/** JSON from the API; nginx's own error pages are HTML. */
function parseBody(text: string): any {
  try {
    return text === '' ? undefined : JSON.parse(text);
  } catch {
    return text.slice(0, 200);
  }
}

/** No 5xx (nginx's own 502/504 included), and each request reached the API with its X-Request-Id. */
function expectAnswered(calls: Call[]): void {
  const serverErrors = calls
    .filter((c) => c.status >= 500)
    .map((c) => `${c.what}: ${c.status} ${JSON.stringify(c.body)}`);
  expect(serverErrors).toEqual([]);
  // nginx passes the caller's X-Request-Id on; the API answers with the id it used.
  for (const c of calls) expect(c.echoedId, c.what).toBe(c.requestId);
}

const hold = (show: string) => call('POST', `/api/shows/${show}/book`, {}, { seats: 1 });
const confirm = (booking: { id: string; hold_token: string }) =>
  call('POST', `/api/bookings/${booking.id}/confirm`, { 'x-hold-token': booking.hold_token });

/** The API process that answered (the last server nginx tried), by name. */
function answeredBy(entry: AccessLogEntry): string {
  const address = entry.upstream.split(',').at(-1)!.trim();
  return names.get(address) ?? address;
}

/** Each show's calls, as nginx logged them. */
async function logged(callsByShow: Map<string, Call[]>): Promise<Map<string, AccessLogEntry[]>> {
  const all = [...callsByShow.values()].flat();
  const entries = await nginx!.entriesFor(all.map((c) => c.requestId));
  return new Map([...callsByShow].map(([show, calls]) => [show, calls.map((c) => entries.get(c.requestId)!)]));
}

let showIds: string[] = [];
/** Show id → the API process that served it before any failure. */
const home = new Map<string, string>();

it('routes every request about a show (by show id or booking id) to one API process; the rest round-robin', async () => {
  showIds = await createShows(nginx!.url, SHOWS, SEATS);
  const callsByShow = new Map<string, Call[]>();
  const streamsByShow = new Map<string, Call[]>();
  await Promise.all(
    showIds.map(async (show) => {
      const calls: Call[] = [];
      for (let i = 0; i < 3; i++) calls.push(await hold(show));
      const holds = calls.map((c) => c.body);
      for (const booking of holds) calls.push(await confirm(booking));
      calls.push(await call('GET', `/api/bookings/${holds[0].id}`, { 'x-hold-token': holds[0].hold_token }));
      calls.push(await call('GET', `/api/shows/${show}`));
      callsByShow.set(show, calls);
      // The SSE stream's own location (unbuffered) is round-robin: every process follows the
      // outbox, so a hot show's thousands of streams need not load the process serving its holds.
      streamsByShow.set(show, [await stream(`/api/shows/${show}/availability/stream`)]);
    }),
  );
  expectAnswered([...callsByShow.values(), ...streamsByShow.values()].flat());
  for (const [show, calls] of callsByShow) {
    expect(
      calls.map((c) => c.status),
      show,
    ).toEqual([201, 201, 201, 200, 200, 200, 200, 200]);
    expect(calls.at(-1)!.body.available_seats, show).toBe(SEATS - 3);
    const [opened] = streamsByShow.get(show)!;
    expect(opened!.status, show).toBe(200);
    expect(opened!.body, show).toMatchObject({ show_id: show, available_seats: SEATS - 3 });
  }
  const streamed = [...(await logged(streamsByShow)).values()].flat();
  expect(new Set(streamed.map(answeredBy))).toEqual(new Set(['api-1', 'api-2']));

  const entries = await logged(callsByShow);
  for (const [show, showEntries] of entries) {
    expect(new Set(showEntries.map((entry) => entry.show_key)), show).toEqual(new Set([show.slice(0, 8)]));
    // One upstream per show, tried first time: no request moved on to another server.
    const upstreams = new Set(showEntries.map((entry) => entry.upstream));
    expect(upstreams.size, `${show}: ${[...upstreams].join(' | ')}`).toBe(1);
    home.set(show, answeredBy(showEntries[0]!));
  }
  const showsPerApi = new Map<string, number>();
  for (const api of home.values()) showsPerApi.set(api, (showsPerApi.get(api) ?? 0) + 1);
  console.log(`affinity: shows per API process ${JSON.stringify(Object.fromEntries(showsPerApi))}`);
  expect([...showsPerApi.keys()].sort()).toEqual(['api-1', 'api-2']);

  // Creating shows names no show: round-robin over both processes, with an empty key.
  const creates = nginx!.accessLog().filter((entry) => entry.method === 'POST' && entry.uri === '/api/shows');
  expect(creates).toHaveLength(SHOWS);
  expect(new Set(creates.map((entry) => entry.show_key))).toEqual(new Set(['']));
  const createsPerApi = new Map<string, number>();
  for (const entry of creates) createsPerApi.set(answeredBy(entry), (createsPerApi.get(answeredBy(entry)) ?? 0) + 1);
  expect([...createsPerApi.keys()].sort()).toEqual(['api-1', 'api-2']);
  for (const count of createsPerApi.values()) expect(count).toBeGreaterThanOrEqual(SHOWS / 2 - 2);
});

it("after an API process is SIGKILLed, its shows move to the other with no 5xx; the other's shows stay", async () => {
  expect(home.size, 'needs the shows of the test above').toBe(SHOWS);
  const [victim, survivor] = apis as [ServiceProcess, ServiceProcess];
  // A hold per show taken before the crash, confirmed after it (by booking id).
  const pending = new Map<string, any>();
  for (const show of showIds) {
    const answer = await hold(show);
    expect(answer.status).toBe(201);
    pending.set(show, answer.body);
  }

  await victim.kill();

  const callsByShow = new Map<string, Call[]>();
  const started = Date.now();
  await Promise.all(
    showIds.map(async (show) => {
      const calls: Call[] = [await confirm(pending.get(show))];
      for (let i = 0; i < 2; i++) calls.push(await hold(show));
      for (const booking of calls.slice(1).map((c) => c.body)) calls.push(await confirm(booking));
      calls.push(await call('GET', `/api/shows/${show}`));
      callsByShow.set(show, calls);
    }),
  );
  const listing = await Promise.all([1, 2, 3, 4].map(() => call('GET', '/api/shows')));
  console.log(`failover: ${SHOWS * 6} requests after the kill in ${Date.now() - started} ms`);

  expectAnswered([...callsByShow.values(), listing].flat());
  for (const [show, calls] of callsByShow) {
    expect(
      calls.map((c) => c.status),
      show,
    ).toEqual([200, 201, 201, 200, 200, 200]);
    expect(calls.at(-1)!.body.available_seats, show).toBe(SEATS - 6);
  }
  for (const c of listing) expect(c.status).toBe(200);

  const entries = await logged(callsByShow);
  let retried = 0;
  for (const [show, showEntries] of entries) {
    for (const entry of showEntries) {
      expect(answeredBy(entry), `${show} (${home.get(show)})`).toBe(survivor.name);
      if (home.get(show) === survivor.name) {
        // Stayed where it was: never even tried on the dead process.
        expect(entry.upstream, show).toBe(new URL(survivor.url!).host);
      } else if (entry.upstream.includes(',')) {
        retried++;
      }
    }
  }
  // Requests that nginx first sent to the dead process (connection refused) and then passed
  // on, until it marked the process failed (max_fails): some, but not all of the moved shows'.
  console.log(`failover: ${retried} request(s) tried on the dead process first, then passed on`);
  expect(retried).toBeGreaterThan(0);
  const listingEntries = await nginx!.entriesFor(listing.map((c) => c.requestId));
  for (const c of listing) expect(answeredBy(listingEntries.get(c.requestId)!)).toBe(survivor.name);
});
