import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPool, poolLimits, type Pool } from '../../src/adapters/postgres/pool.js';
import { ShowRepository } from '../../src/repositories/show.repository.js';
import { buildTestApp, sleep, startTestApp, type TestContext } from '../helpers.js';
import { Api } from '../support/api.js';
import type { Services } from '../../src/composition-root.js';
import type { FastifyInstance } from 'fastify';

// GET /api/shows, /api/shows/:id and /seats answered from memory (SharedReads, sendShared): once
// per change of the show, whichever process made it, never a process's own change late, and never
// past a hold's deadline. The other API test files read with SHOW_CACHE_MAX_AGE_MS=0.

/** Waits until the process follows the outbox: before, every read goes to the database. */
async function following(services: Services): Promise<void> {
  for (const started = Date.now(); !services.showChanges!.current(); await sleep(5)) {
    if (Date.now() - started > 5_000) throw new Error('the process did not start following the outbox');
  }
}

/** A second API process on the same database. */
async function otherProcess(ctx: TestContext): Promise<{ app: FastifyInstance; api: Api; close(): Promise<void> }> {
  const pool: Pool = createPool(ctx.database.url, poolLimits(ctx.config));
  const other = await buildTestApp(ctx.config, pool);
  return {
    app: other.app,
    api: new Api(other.app),
    async close() {
      await other.app.close();
      await pool.end();
    },
  };
}

/** An app reading with these settings, following the outbox before its describe's first test. */
function cachingApp(settings: Record<string, string>): { ctx: TestContext; api: Api } {
  const app = {} as { ctx: TestContext; api: Api };
  beforeAll(async () => {
    app.ctx = await startTestApp(settings);
    app.api = new Api(app.ctx.app);
    await following(app.ctx.services);
  });
  afterAll(() => app.ctx.close());
  return app;
}

describe('reads served from memory, with changes read from the outbox only every 50 s', () => {
  const app = cachingApp({ SHOW_CACHE_MAX_AGE_MS: '60000', SHOW_CHANGES_POLL_MS: '50000' });

  it("share one read until the show changes, but never one older than the process's own change", async () => {
    const other = await otherProcess(app.ctx);
    try {
      const show = await app.api.seatedShow([['A', 3]]);
      const row = async () => (await app.api.seatStates(show.id))['S-A'];
      const listed = async () =>
        (await app.api.get<{ id: string; available_seats: number }[]>('/api/shows?limit=100'))
          .json()
          .find((listedShow) => listedShow.id === show.id)?.available_seats;
      expect(await row()).toBe('FFF');
      expect(await app.api.available(show.id)).toBe(3);
      expect(await listed()).toBe(3);
      await other.api.held(show.id, { seat_ids: ['S-A-1'] });
      // This process has not read the outbox since (nor will it for 50 s): the three reads are the ones from before.
      expect(await row()).toBe('FFF');
      expect(await app.api.available(show.id)).toBe(3);
      expect(await listed()).toBe(3);
      // A hold through this process: its next reads show it (and what they had missed).
      await app.api.held(show.id, { seat_ids: ['S-A-3'] });
      expect(await row()).toBe('HFH');
      expect(await app.api.available(show.id)).toBe(1);
      expect(await listed()).toBe(1);
    } finally {
      await other.close();
    }
  });

  it('a page of shows is read again after any change this process makes to any show, a new show included', async () => {
    const first = await app.api.show({ total_seats: 5 });
    const page = async () =>
      (await app.api.get<{ id: string; available_seats: number }[]>('/api/shows?limit=100')).json();
    expect((await page()).find((show) => show.id === first.id)?.available_seats).toBe(5);
    await app.api.held(first.id, { seats: 2 });
    expect((await page()).find((show) => show.id === first.id)?.available_seats).toBe(3);
    const second = await app.api.show({ total_seats: 7 });
    expect((await page()).map((show) => show.id)).toContain(second.id);
  });

  it('while this process changes the show, requests during a read share the next one: one read at a time, none stale', async () => {
    // The real read, counted; the first one, once it has read, waits at a gate until the test opens it.
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with the repository as `this`
    const realRead = ShowRepository.prototype.seatStatesNow;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let reads = 0;
    let parked = false;
    const counted = vi.spyOn(ShowRepository.prototype, 'seatStatesNow').mockImplementation(async function (
      this: ShowRepository,
      id: string,
    ) {
      const first = ++reads === 1;
      const states = await realRead.call(this, id);
      if (first) {
        parked = true;
        await gate;
      }
      return states;
    });
    try {
      const show = await app.api.seatedShow([['A', 3]]);
      const row = async () => (await app.api.seatStates(show.id))['S-A'];
      const first = row();
      while (!parked) await sleep(1);
      // A hold through this process after that read: every later request must show it.
      await app.api.held(show.id, { seat_ids: ['S-A-1'] });
      const later = Promise.all([row(), row(), row()]);
      await sleep(50); // the three are waiting, not reading
      expect(reads).toBe(1);
      open();
      expect(await first).toBe('FFF');
      expect(await later).toEqual(['HFF', 'HFF', 'HFF']);
      expect(reads).toBe(2);
      // Nothing changed since: served from memory.
      expect(await row()).toBe('HFF');
      expect(reads).toBe(2);
    } finally {
      counted.mockRestore();
    }
  });

  it('every change this process makes shows in its next reads: holds, confirms, cancels, extends, PATCH, blocks, releases, comps', async () => {
    const show = await app.api.seatedShow([['A', 6]]);
    const reads = async () => {
      const [one, map, page] = await Promise.all([
        app.api.showNow(show.id),
        app.api.seatStates(show.id),
        app.api.get<{ id: string; title: string; available_seats: number }[]>('/api/shows?limit=100'),
      ]);
      const listed = page.json().find((listedShow) => listedShow.id === show.id)!;
      return {
        title: one.title,
        available: one.available_seats,
        row: map['S-A'],
        listed: [listed.title, listed.available_seats],
      };
    };
    expect(await reads()).toEqual({ title: 'Seated', available: 6, row: 'FFFFFF', listed: ['Seated', 6] });
    const first = await app.api.held(show.id, { seat_ids: ['S-A-1'] });
    expect(await reads()).toMatchObject({ available: 5, row: 'HFFFFF', listed: ['Seated', 5] });
    await app.api.confirmed(first);
    expect(await reads()).toMatchObject({ available: 5, row: 'SFFFFF' });
    const second = await app.api.held(show.id, { seat_ids: ['S-A-2'] });
    expect((await reads()).row).toBe('SHFFFF');
    expect((await app.api.extend(second)).statusCode).toBe(200);
    expect((await app.api.cancel(second)).statusCode).toBe(200);
    expect(await reads()).toMatchObject({ available: 5, row: 'SFFFFF' });
    const block = await app.api.blocked(show.id, { seat_ids: ['S-A-5', 'S-A-6'] });
    expect(await reads()).toMatchObject({ available: 3, row: 'SFFFBB', listed: ['Seated', 3] });
    expect((await app.api.comp(show.id, { seat_ids: ['S-A-5'] })).statusCode).toBe(201);
    expect((await reads()).row).toBe('SFFFSB');
    expect((await app.api.release(show.id, block.id)).statusCode).toBe(204);
    expect(await reads()).toMatchObject({ available: 4, row: 'SFFFSF' });
    expect((await app.api.patchShow(show.id, { title: 'Renamed' })).statusCode).toBe(200);
    expect(await reads()).toMatchObject({ title: 'Renamed', listed: ['Renamed', 4] });
  });

  it('ETag and 304; large answers compressed as the client accepts, the same data in every coding', async () => {
    const show = await app.api.seatedShow([
      ['A', 500],
      ['B', 500],
    ]);
    const url = `/api/shows/${show.id}/seats`;
    const plain = await app.ctx.app.inject({ method: 'GET', url });
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(plain.headers['cache-control']).toBe('no-cache');
    expect(plain.headers.vary).toBe('accept-encoding');
    const etag = plain.headers.etag as string;
    expect(etag).toMatch(/^"[\w-]{27}"$/);
    expect(plain.json<{ sections: { rows: { status: string }[] }[] }>().sections[0]!.rows[0]!.status).toBe(
      'F'.repeat(500),
    );

    const br = await app.ctx.app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.etag).toBe(etag.replace(/"$/, '-br"'));
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe(plain.body);
    expect(br.rawPayload.length).toBeLessThan(plain.body.length / 5);
    const gzip = await app.ctx.app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'gzip, br;q=0' } });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gzip.rawPayload).toString()).toBe(plain.body);

    // The tag of the representation it would send: 304, no body, that tag (weak comparison).
    for (const [given, accept] of [
      [etag, ''],
      [`W/${etag}`, ''],
      [`"other", ${br.headers.etag as string}`, 'br'],
      [gzip.headers.etag as string, 'gzip'],
    ] as const) {
      const again = await app.ctx.app.inject({
        method: 'GET',
        url,
        headers: { 'if-none-match': given, 'accept-encoding': accept },
      });
      expect(again.statusCode).toBe(304);
      expect(again.body).toBe('');
      expect(again.headers.etag).toBe(accept ? etag.replace(/"$/, `-${accept}"`) : etag);
    }
    // Another coding's tag: the whole answer (a cache must not update the variant it stored with this one).
    const other = await app.ctx.app.inject({
      method: 'GET',
      url,
      headers: { 'if-none-match': br.headers.etag as string },
    });
    expect(other.statusCode).toBe(200);
    expect(other.headers.etag).toBe(etag);
    // A small answer: not compressed, no Vary.
    const small = await app.ctx.app.inject({
      method: 'GET',
      url: `/api/shows/${show.id}`,
      headers: { 'accept-encoding': 'br' },
    });
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(small.headers.vary).toBeUndefined();
    expect(small.headers.etag).toMatch(/^"[\w-]{27}"$/);

    // A change: a new tag, and the old one answers 200.
    await app.api.held(show.id, { seat_ids: ['S-A-1'] });
    const changed = await app.ctx.app.inject({ method: 'GET', url, headers: { 'if-none-match': etag } });
    expect(changed.statusCode).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
  });

  it('answers problems as before: an unknown show, a show without a map, a bad cursor', async () => {
    const unknown = await app.api.get('/api/shows/00000000-0000-4000-8000-000000000000');
    expect(unknown.statusCode).toBe(404);
    const general = await app.api.show();
    expect((await app.api.seats(general.id)).statusCode).toBe(409);
    expect((await app.api.get('/api/shows?cursor=nonsense')).statusCode).toBe(400);
  });
});

describe("another process's changes", () => {
  // Answers live a minute here, the wait below 20 s: only the follower can make another process's change show.
  const app = cachingApp({ SHOW_CACHE_MAX_AGE_MS: '60000', SHOW_CHANGES_POLL_MS: '20' });

  it('are read from the outbox within SHOW_CHANGES_POLL_MS, and read again', async () => {
    const other = await otherProcess(app.ctx);
    try {
      const show = await app.api.seatedShow([['A', 3]]);
      expect(await app.api.available(show.id)).toBe(3);
      await other.api.held(show.id, { seat_ids: ['S-A-2'] });
      const seen = Date.now();
      // Within the poll, or, when another test file's transaction holds the outbox's horizon back
      // (the cluster's), as soon as that transaction ends.
      while ((await app.api.available(show.id)) !== 2) {
        expect(Date.now() - seen).toBeLessThan(20_000);
        await sleep(5);
      }
      expect((await app.api.seatStates(show.id))['S-A']).toBe('FHF');
    } finally {
      await other.close();
    }
  });
});

describe('a hold lapsing', () => {
  const app = cachingApp({ SHOW_CACHE_MAX_AGE_MS: '60000', SHOW_CHANGES_POLL_MS: '50000', HOLD_TTL_SECONDS: '3' });

  it('frees its seats in the next read, with no change to tell of it', async () => {
    const show = await app.api.seatedShow([['A', 3]]);
    const hold = await app.api.held(show.id, { seat_ids: ['S-A-1'] });
    expect((await app.api.seatStates(show.id))['S-A']).toBe('HFF');
    expect(await app.api.available(show.id)).toBe(2);
    // No expiry job runs here (no Redis, no sweep): only the deadline passes.
    await sleep(Math.max(0, Date.parse(hold.expires_at) - Date.now()) + 20);
    expect((await app.api.seatStates(show.id))['S-A']).toBe('FFF');
    expect(await app.api.available(show.id)).toBe(3);
  });
});

describe('with CORS', () => {
  const app = cachingApp({ SHOW_CACHE_MAX_AGE_MS: '60000', CORS_ORIGINS: 'https://shop.example' });

  it("a large answer varies by Origin and Accept-Encoding both: a cache never gives one origin's answer to another", async () => {
    const show = await app.api.seatedShow([['A', 1000]]);
    const answer = await app.ctx.app.inject({
      method: 'GET',
      url: `/api/shows/${show.id}/seats`,
      headers: { origin: 'https://shop.example', 'accept-encoding': 'br' },
    });
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['access-control-allow-origin']).toBe('https://shop.example');
    expect(
      String(answer.headers.vary)
        .split(/,\s*/)
        .map((name) => name.toLowerCase()),
    ).toEqual(expect.arrayContaining(['origin', 'accept-encoding']));
  });
});
