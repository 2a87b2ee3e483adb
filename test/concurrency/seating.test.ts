import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShowRepository } from '../../src/repositories/show.repository.js';
import { buildTestApp, sleep, startTestApp, type TestContext } from '../helpers.js';
import { createShow, seatIdsOf } from '../support/api.js';
import { request, type HttpAnswer as Answer } from '../support/http.js';
import { inventory } from '../support/database.js';
import type { SeatMapInput as SeatMap } from '../../src/domain/seat-map.js';

// Seated shows over real HTTP on 127.0.0.1, many sockets at once as on an on-sale. Two apps
// (each its own database): holds that last the default 2 minutes, so that nothing frees a
// seat while the on-sale is checked, and holds that last 3 s, to race confirms, cancels and
// new holds against expiry.
let lasting: TestContext;
let lastingBase: string;
let expiring: TestContext;
let expiringBase: string;
beforeAll(async () => {
  [lasting, expiring] = await Promise.all([
    startTestApp({ DB_POOL_SIZE: '20' }),
    // Holds that lapse while the test runs: the racing actions below are timed around their deadlines.
    startTestApp({ HOLD_TTL_SECONDS: '3', DB_POOL_SIZE: '20' }),
  ]);
  [lastingBase, expiringBase] = await Promise.all([
    lasting.app.listen({ host: '127.0.0.1', port: 0 }),
    expiring.app.listen({ host: '127.0.0.1', port: 0 }),
  ]);
});
afterAll(() => Promise.all([lasting?.close(), expiring?.close()]));

/** A row of a map as the tests reason about it: seat ids are `${section}-${label}-${n}`, n from 1. */
interface Row {
  section: string;
  label: string;
  category: string;
  seats: number;
}

function rowsOf(map: SeatMap): Row[] {
  return map.sections.flatMap((section) =>
    section.rows.map((row) => ({
      section: section.name,
      label: row.label,
      category: row.category ?? 'standard',
      seats: row.seats,
    })),
  );
}

function parseSeat(id: string): { row: string; n: number } {
  const [section, label, n] = id.split('-') as [string, string, string];
  return { row: `${section}-${label}`, n: Number(n) };
}

/** A seated show of this map, on the app whose holds last 2 minutes. */
const createSeatedShow = (map: SeatMap) => createShow(lasting.app, { title: 'Seated on-sale', seat_map: map });

/** What GET /seats should answer when exactly the seats of `state` are not free. */
function expectedSeatStates(map: SeatMap, state: Map<string, string>) {
  return map.sections.map((section) => ({
    name: section.name,
    rows: section.rows.map((row) => ({
      label: row.label,
      category: row.category ?? 'standard',
      seats: row.seats,
      status: Array.from(
        { length: row.seats },
        (_, i) => state.get(`${section.name}-${row.label}-${i + 1}`) ?? 'F',
      ).join(''),
    })),
  }));
}

/** The seats table's rows that are not plainly free, as seat id → [state, owner]. */
async function takenSeatRows(ctx: TestContext, showId: string, map: SeatMap) {
  const ids = seatIdsOf(map);
  const { rows } = await ctx.pool.query<{ seat_no: number; state: string; booking_id: string | null }>(
    `SELECT seat_no, state, booking_id FROM seats WHERE show_id = $1 AND (state <> 'F' OR booking_id IS NOT NULL)
     ORDER BY seat_no`,
    [showId],
  );
  return new Map(rows.map((row) => [ids[row.seat_no]!, [row.state, row.booking_id]]));
}

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32): the same mix of requests every run. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Ask = { seat_ids: string[] } | { seats: number; category?: string; section?: string };

describe('an on-sale of a seated show', () => {
  // 10 rows of 20: Stalls A–C premium, Stalls D–F and Circle A–D standard.
  const map: SeatMap = {
    sections: [
      {
        name: 'Stalls',
        rows: ['A', 'B', 'C', 'D', 'E', 'F'].map((label, i) => ({
          label,
          seats: 20,
          category: i < 3 ? 'premium' : 'standard',
        })),
      },
      { name: 'Circle', rows: ['A', 'B', 'C', 'D'].map((label) => ({ label, seats: 20 })) },
    ],
  };
  const rows = rowsOf(map);
  const rowByKey = new Map(rows.map((row) => [`${row.section}-${row.label}`, row]));

  it('1,000 concurrent holds on 200 seats: no seat twice, every answer exact, seats = bookings = counters', async () => {
    const show = await createSeatedShow(map);
    const random = seeded(20_240_601);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    // The seats everyone wants: row centres, which best available also takes first.
    const popular = ['Stalls-A-10', 'Stalls-A-11', 'Stalls-B-10', 'Stalls-D-11', 'Circle-A-10', 'Circle-A-11'];
    const asks: Ask[] = Array.from({ length: 1_000 }, () => {
      const kind = random();
      if (kind < 0.2) return { seat_ids: [pick(popular)] };
      if (kind < 0.45) {
        const row = pick(rows);
        const count = 2 + Math.floor(random() * 3);
        const start = 7 + Math.floor(random() * 5);
        const numbers =
          random() < 0.5
            ? // A block near the centre: overlaps other blocks and best available.
              Array.from({ length: count }, (_, i) => start + i)
            : // Seats across the row, in no particular order: they leave gaps.
              [...new Set(Array.from({ length: count }, () => 1 + Math.floor(random() * row.seats)))];
        return { seat_ids: numbers.map((n) => `${row.section}-${row.label}-${n}`) };
      }
      // Premium sells out to the last seat; elsewhere groups of 3 and 4 leave gaps they do not fit.
      const where = random();
      if (where < 0.3) return { seats: 1 + Math.floor(random() * 4), category: 'premium' };
      const seats = 3 + Math.floor(random() * 2);
      if (where < 0.55) return { seats, category: 'standard' };
      if (where < 0.75) return { seats, section: 'Circle' };
      return { seats };
    });

    const answers = await Promise.all(
      asks.map((ask) => request(lastingBase, 'POST', `/api/shows/${show.id}/book`, ask)),
    );

    // Chosen seats are held or refused as taken; best available is held or refused as sold out.
    const outcomes = answers.map((answer, i) => {
      const ask = asks[i]!;
      const outcome = answer.status === 201 ? 'held' : `${answer.status} ${answer.body.code}`;
      return { ask, answer, outcome, chosen: 'seat_ids' in ask };
    });
    const unexpected = outcomes.filter(
      ({ outcome, chosen }) => outcome !== 'held' && outcome !== (chosen ? '409 seats_taken' : '409 sold_out'),
    );
    expect(unexpected).toEqual([]);

    // No seat is in two holds.
    const owner = new Map<string, string>();
    const twice: string[] = [];
    for (const { answer } of outcomes.filter(({ outcome }) => outcome === 'held')) {
      expect(answer.body).toMatchObject({ status: 'PENDING', seats: answer.body.seat_ids.length });
      for (const seatId of answer.body.seat_ids as string[]) {
        if (owner.has(seatId)) twice.push(seatId);
        owner.set(seatId, answer.body.id);
      }
    }
    expect(twice).toEqual([]);

    const order = new Map(seatIdsOf(map).map((seatId, seatNo) => [seatId, seatNo]));
    const bySeat = (a: string, b: string) => order.get(a)! - order.get(b)!;
    for (const { ask, answer, outcome } of outcomes) {
      if (outcome === 'held' && 'seat_ids' in ask) {
        // Exactly the seats asked for.
        expect([...answer.body.seat_ids].sort(bySeat)).toEqual([...ask.seat_ids].sort(bySeat));
      } else if (outcome === 'held' && 'seats' in ask) {
        // N adjacent seats of one row, in the category and section asked for.
        const seats = (answer.body.seat_ids as string[]).map(parseSeat);
        expect(seats).toHaveLength(ask.seats);
        const row = rowByKey.get(seats[0]!.row)!;
        expect(seats.map((seat) => seat.row)).toEqual(seats.map(() => seats[0]!.row));
        expect(seats.map((seat) => seat.n)).toEqual(seats.map((_, i) => seats[0]!.n + i));
        if (ask.category) expect(row.category).toBe(ask.category);
        if (ask.section) expect(row.section).toBe(ask.section);
      } else if (outcome === '409 seats_taken' && 'seat_ids' in ask) {
        // It names some of the seats it asked for, and only ones a hold really has (nothing frees a seat here).
        const taken = answer.body.taken_seat_ids as string[];
        expect(taken.length).toBeGreaterThan(0);
        expect(new Set(taken).size).toBe(taken.length);
        expect(
          taken.filter((seatId) => !ask.seat_ids.includes(seatId)),
          'taken seats not asked for',
        ).toEqual([]);
        expect(
          taken.filter((seatId) => !owner.has(seatId)),
          'taken seats that no hold has',
        ).toEqual([]);
      }
    }

    // The seats as GET /seats shows them and as the seats table has them: exactly the held ones.
    const held = new Map([...owner.keys()].map((seatId) => [seatId, 'H']));
    const seen = await request(lastingBase, 'GET', `/api/shows/${show.id}/seats`);
    expect(seen.status).toBe(200);
    expect(seen.body.sections).toEqual(expectedSeatStates(map, held));
    expect(await takenSeatRows(lasting, show.id, map)).toEqual(
      new Map([...owner].map(([seatId, bookingId]) => [seatId, ['H', bookingId]])),
    );
    const { rows: bookings } = await lasting.pool.query<{ id: string; status: string; seat_ids: string[] }>(
      'SELECT id, status, seat_ids FROM bookings WHERE show_id = $1',
      [show.id],
    );
    const heldAnswers = outcomes.filter(({ outcome }) => outcome === 'held').map(({ answer }) => answer.body);
    expect(new Map(bookings.map((row) => [row.id, [row.status, row.seat_ids]]))).toEqual(
      new Map(heldAnswers.map((body) => [body.id, ['PENDING', body.seat_ids]])),
    );

    // A sold_out was right: seats only get taken here, so a row with N adjacent free seats
    // now had them then. Its available_seats counted at least the seats still free now.
    const freeNow = (row: Row) =>
      Array.from({ length: row.seats }, (_, i) => !owner.has(`${row.section}-${row.label}-${i + 1}`));
    const longestFreeRun = (row: Row) => {
      let longest = 0;
      let run = 0;
      for (const free of freeNow(row)) {
        run = free ? run + 1 : 0;
        longest = Math.max(longest, run);
      }
      return longest;
    };
    for (const { ask, answer, outcome } of outcomes) {
      if (outcome !== '409 sold_out' || !('seats' in ask)) continue;
      const candidates = rows.filter(
        (row) =>
          (ask.category === undefined || row.category === ask.category) &&
          (ask.section === undefined || row.section === ask.section),
      );
      const blocks = candidates
        .filter((row) => longestFreeRun(row) >= ask.seats)
        .map((row) => `${row.section}-${row.label}`);
      expect(blocks, `rows with ${ask.seats} adjacent free seats for ${JSON.stringify(ask)}`).toEqual([]);
      const freeSeats = candidates.reduce((sum, row) => sum + freeNow(row).filter(Boolean).length, 0);
      expect(answer.body.available_seats).toBeGreaterThanOrEqual(freeSeats);
    }

    // Counters: the show's, its categories', and what the seat rows and bookings add up to.
    const heldIn = (category: string) =>
      [...owner.keys()].filter((seatId) => rowByKey.get(parseSeat(seatId).row)!.category === category).length;
    const read = await request(lastingBase, 'GET', `/api/shows/${show.id}`);
    expect(read.body).toMatchObject({
      total_seats: 200,
      available_seats: 200 - owner.size,
      available_by_category: { premium: 60 - heldIn('premium'), standard: 140 - heldIn('standard') },
    });
    expect(await inventory(lasting.pool, show.id)).toEqual({
      total: 200,
      held: owner.size,
      confirmed: 0,
      pending_rows: owner.size,
      confirmed_rows: 0,
    });
    const { mismatches, seatMismatches } = await new ShowRepository(lasting.pool).counterMismatches();
    expect(mismatches).toEqual([]);
    expect(seatMismatches).toEqual([]);

    // Every kind of answer happened: six popular seats among ~200 asks for them must refuse
    // most, and ~550 best-available asks of at least one seat cannot all fit in 200 seats.
    const count = (outcome: string, chosen: boolean) =>
      outcomes.filter((o) => o.outcome === outcome && o.chosen === chosen).length;
    expect(count('409 seats_taken', true)).toBeGreaterThan(0);
    expect(count('409 sold_out', false)).toBeGreaterThan(0);
    expect(count('held', true)).toBeGreaterThan(0);
    expect(count('held', false)).toBeGreaterThan(0);
    // Groups of 3 and 4 leave gaps: some refusals had seats free, only not together, so the
    // sold_out check above is not vacuous.
    expect(
      outcomes.filter((o) => o.outcome === '409 sold_out' && o.answer.body.available_seats > 0).length,
    ).toBeGreaterThan(0);
  });
});

describe('confirms, cancels and new holds racing expiry on a seated show', () => {
  // Stalls A–H of 20 (A–B premium) and a box of 10: 170 seats.
  const map: SeatMap = {
    sections: [
      {
        name: 'Stalls',
        rows: ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'].map((label, i) => ({
          label,
          seats: 20,
          category: i < 2 ? 'premium' : 'standard',
        })),
      },
      { name: 'Box', rows: [{ label: 'A', seats: 10, category: 'box' }] },
    ],
  };
  const rows = rowsOf(map);
  const categoryOf = new Map(rows.map((row) => [`${row.section}-${row.label}`, row.category]));

  type Role = 'cancel' | 'confirm' | 'confirm_then_cancel' | 'confirm_racing' | 'cancel_racing' | 'walk_away';
  const roles: Role[] = ['cancel', 'confirm', 'confirm_then_cancel', 'confirm_racing', 'cancel_racing', 'walk_away'];

  it('every booking ends in exactly one state, sold seats are S, every other seat F, counters matching', async () => {
    const show = await createShow(expiring.app, { title: 'Seated expiry', seat_map: map });
    const post = (path: string, body?: unknown, headers: Record<string, string> = {}) =>
      request(expiringBase, 'POST', path, body, headers);

    // Every seat held at once, by disjoint asks (so every one is granted): the stalls in
    // blocks of 1, 2 and 3 seats chosen by id, the box one seat at a time by best available.
    const asks: Ask[] = [];
    for (const row of rows.filter((r) => r.section === 'Stalls')) {
      for (let n = 1, size = 1; n <= row.seats; n += size, size = (size % 3) + 1) {
        const numbers = Array.from({ length: Math.min(size, row.seats - n + 1) }, (_, i) => n + i);
        asks.push({ seat_ids: numbers.map((k) => `${row.section}-${row.label}-${k}`) });
      }
    }
    for (let i = 0; i < 10; i++) asks.push({ seats: 1, category: 'box' });
    const holds = (await Promise.all(asks.map((ask) => post(`/api/shows/${show.id}/book`, ask)))).map((answer, i) => {
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
      return { ...(answer.body as { id: string; hold_token: string; expires_at: string; seat_ids: string[] }), i };
    });
    expect(new Set(holds.flatMap((held) => held.seat_ids)).size).toBe(170);

    // Who does what: cancels and confirms at once, confirms and cancels from 1.2 s before
    // their hold's deadline to 300 ms after (a busy machine answers a request in hundreds of ms:
    // the earliest still come in time, the last ones never do), and holds nobody acts on.
    const roleOf = (i: number) => roles[i % roles.length]!;
    const auth = (held: (typeof holds)[number]) => ({ 'x-hold-token': held.hold_token });
    const racing = (i: number) => -1200 + (Math.floor(i / roles.length) % 16) * 100;

    // Meanwhile the sweep runs and latecomers ask for seats: best available, or the seats of
    // a hold right when it may be confirmed, cancelled or expiring.
    let running = true;
    const sweeper = (async () => {
      while (running) {
        await expiring.services.expiry.sweep();
        await sleep(5);
      }
    })();
    const latecomers = (async () => {
      const answers: { ask: Ask; answer: Answer }[] = [];
      for (let k = 0; running; k++) {
        const ask: Ask =
          k % 3 === 0
            ? { seats: 1 + (k % 2) }
            : k % 3 === 1
              ? { seats: 1, category: 'box' }
              : { seat_ids: holds[(k * 7) % holds.length]!.seat_ids };
        answers.push({ ask, answer: await post(`/api/shows/${show.id}/book`, ask) });
        await sleep(10);
      }
      return answers;
    })();
    const acted = await Promise.all(
      holds.map(async (held) => {
        const role = roleOf(held.i);
        const path = (action: string) => `/api/bookings/${held.id}/${action}`;
        if (role === 'walk_away') return { held, role, answers: [] };
        if (role === 'confirm_racing' || role === 'cancel_racing') {
          await sleep(Math.max(0, new Date(held.expires_at).getTime() - Date.now() + racing(held.i)));
        }
        const first = await post(path(role.startsWith('cancel') ? 'cancel' : 'confirm'), undefined, auth(held));
        if (role !== 'confirm_then_cancel') return { held, role, answers: [first] };
        return { held, role, answers: [first, await post(path('cancel'), undefined, auth(held))] };
      }),
    );
    running = false;
    await sweeper;
    const late = await latecomers;
    const lateHolds = late.filter(({ answer }) => answer.status === 201).map(({ answer }) => answer.body);
    const lastDeadline = Math.max(...[...holds, ...lateHolds].map((held) => new Date(held.expires_at).getTime()));
    await sleep(Math.max(0, lastDeadline - Date.now() + 50));
    await expiring.services.expiry.sweep();

    // The answers: early actions succeed; racing ones succeed or find the hold expired, nothing else.
    const outcome = (answer: Answer) =>
      answer.status === 200 ? (answer.body.status as string) : `${answer.status} ${answer.body.code}`;
    const expected: Record<Role, string[][]> = {
      cancel: [['CANCELLED']],
      confirm: [['CONFIRMED']],
      confirm_then_cancel: [['CONFIRMED', 'CANCELLED']],
      confirm_racing: [['CONFIRMED'], ['409 hold_expired']],
      cancel_racing: [['CANCELLED'], ['409 hold_expired']],
      walk_away: [[]],
    };
    const odd = acted.filter(
      ({ role, answers }) =>
        !expected[role].some((allowed) => JSON.stringify(allowed) === JSON.stringify(answers.map(outcome))),
    );
    expect(odd).toEqual([]);
    // A confirm or cancel answers with the booking's seats.
    for (const { held, answers } of acted) {
      for (const answer of answers.filter((a) => a.status === 200)) expect(answer.body.seat_ids).toEqual(held.seat_ids);
    }
    const racedTo = (status: string) =>
      acted.filter(({ role, answers }) => role.endsWith('racing') && outcome(answers[0]!) === status).length;
    expect(racedTo('CONFIRMED') + racedTo('CANCELLED')).toBeGreaterThan(0);
    expect(racedTo('409 hold_expired')).toBeGreaterThan(0);

    // Latecomers: held, or refused as taken (chosen seats) or sold out (best available).
    const lateOdd = late.filter(
      ({ ask, answer }) =>
        answer.status !== 201 &&
        !(answer.status === 409 && answer.body.code === ('seat_ids' in ask ? 'seats_taken' : 'sold_out')),
    );
    expect(lateOdd).toEqual([]);
    expect(lateHolds.length).toBeGreaterThan(0);

    // Each booking is in the one state its answers say: the hold's own, then EXPIRED if nobody ended it.
    const finalStatus = (answers: Answer[]) => {
      const last = answers[answers.length - 1];
      return last?.status === 200 ? (last.body.status as string) : 'EXPIRED';
    };
    const { rows: bookings } = await expiring.pool.query<{ id: string; status: string; in_time: boolean }>(
      'SELECT id, status, updated_at < expires_at AS in_time FROM bookings WHERE show_id = $1',
      [show.id],
    );
    expect(new Map(bookings.map((row) => [row.id, row.status]))).toEqual(
      new Map([
        ...acted.map(({ held, answers }) => [held.id, finalStatus(answers)] as const),
        ...lateHolds.map((held) => [held.id as string, 'EXPIRED'] as const),
      ]),
    );
    // Decided by the database clock: each confirm or cancel before the hold's deadline (all of
    // them came right away or raced it), each expiry after it.
    expect(bookings.filter((row) => row.in_time !== (row.status !== 'EXPIRED'))).toEqual([]);

    // Seats: those of the confirmed bookings sold to them, every other seat free.
    const sold = new Map(
      acted
        .filter(({ answers }) => finalStatus(answers) === 'CONFIRMED')
        .flatMap(({ held }) => held.seat_ids.map((seatId) => [seatId, held.id] as const)),
    );
    expect(await takenSeatRows(expiring, show.id, map)).toEqual(
      new Map([...sold].map(([seatId, bookingId]) => [seatId, ['S', bookingId]])),
    );
    const seen = await request(expiringBase, 'GET', `/api/shows/${show.id}/seats`);
    expect(seen.body.sections).toEqual(expectedSeatStates(map, new Map([...sold.keys()].map((id) => [id, 'S']))));
    // No latecomer was given a seat that a hold confirmed in the end had all along.
    expect(lateHolds.flatMap((held) => held.seat_ids as string[]).filter((seatId) => sold.has(seatId))).toEqual([]);

    const soldIn = (category: string) =>
      [...sold.keys()].filter((seatId) => categoryOf.get(parseSeat(seatId).row) === category).length;
    expect((await request(expiringBase, 'GET', `/api/shows/${show.id}`)).body).toMatchObject({
      available_seats: 170 - sold.size,
      available_by_category: {
        premium: 40 - soldIn('premium'),
        standard: 120 - soldIn('standard'),
        box: 10 - soldIn('box'),
      },
    });
    expect(await inventory(expiring.pool, show.id)).toEqual({
      total: 170,
      held: 0,
      confirmed: sold.size,
      pending_rows: 0,
      confirmed_rows: sold.size,
    });
    const { mismatches, seatMismatches } = await new ShowRepository(expiring.pool).counterMismatches();
    expect(mismatches).toEqual([]);
    expect(seatMismatches).toEqual([]);
  });

  it('a hold extended through another API process keeps its seats, though this one saw its first deadline pass', async () => {
    // A second API process on the same database: its own queues, its own copy of the seat states.
    const other = await buildTestApp(expiring.config, expiring.pool);
    try {
      const small: SeatMap = { sections: [{ name: 'S', rows: [{ label: 'A', seats: 6 }] }] };
      const show = await createShow(expiring.app, { title: 'Extended', seat_map: small });
      const post = (path: string, body?: unknown, headers: Record<string, string> = {}) =>
        request(expiringBase, 'POST', path, body, headers);
      const held = await post(`/api/shows/${show.id}/book`, { seat_ids: ['S-A-3', 'S-A-4'] });
      expect(held.status).toBe(201);
      const token = { 'x-hold-token': held.body.hold_token as string };
      const deadline = new Date(held.body.expires_at as string).getTime();

      // Extended well before the deadline (1 s of the 3 s hold left: a loaded CI machine has taken
      // over 300 ms to answer a fresh process's first request), yet after this process last saw it.
      await sleep(Math.max(0, deadline - Date.now() - 1_000));
      const extended = await other.app.inject({
        method: 'POST',
        url: `/api/bookings/${held.body.id}/extend`,
        headers: token,
      });
      expect(extended.statusCode, extended.body).toBe(200);
      expect(new Date(extended.json<{ expires_at: string }>().expires_at).getTime()).toBeGreaterThan(deadline);

      // The process that granted the hold counts its seats free once the first deadline has
      // passed; an extension moves no seat, so only hold_seats (the seats are not free) tells it.
      await sleep(Math.max(0, deadline - Date.now() + 100));
      const clash = await post(`/api/shows/${show.id}/book`, { seat_ids: ['S-A-4', 'S-A-5'] });
      expect(clash).toMatchObject({ status: 409, body: { code: 'seats_taken', taken_seat_ids: ['S-A-4'] } });
      const confirmed = await post(`/api/bookings/${held.body.id}/confirm`, undefined, token);
      expect(confirmed).toMatchObject({ status: 200, body: { status: 'CONFIRMED', seat_ids: ['S-A-3', 'S-A-4'] } });
      const best = await post(`/api/shows/${show.id}/book`, { seats: 3 });
      expect(best).toMatchObject({ status: 409, body: { code: 'sold_out', available_seats: 4 } });

      expect(await takenSeatRows(expiring, show.id, small)).toEqual(
        new Map([
          ['S-A-3', ['S', held.body.id]],
          ['S-A-4', ['S', held.body.id]],
        ]),
      );
      expect(await inventory(expiring.pool, show.id)).toMatchObject({ held: 0, confirmed: 2, confirmed_rows: 2 });
      const { seatMismatches } = await new ShowRepository(expiring.pool).counterMismatches();
      expect(seatMismatches).toEqual([]);
    } finally {
      await other.app.close();
    }
  });
});
