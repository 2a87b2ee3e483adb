import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShowRepository } from '../../src/repositories/show.repository.js';
import { sleep, startTestApp, type TestContext } from '../helpers.js';
import { createShow, seatIdsOf } from '../support/api.js';
import { isProblem, post, type HttpAnswer as Answer } from '../support/http.js';
import { lapse } from '../support/clock.js';
import { inventory } from '../support/database.js';
import type { SeatMapInput as SeatMap } from '../../src/domain/seat-map.js';

// The checkout (issue 11) under concurrency, over real HTTP on 127.0.0.1: per-customer limits,
// late confirms (late_confirm: reclaim) and extensions, each raced against what competes with
// it for the same seats. Two apps, each its own database: holds that last the default
// 2 minutes, so that nothing expires while limits are counted and late confirms race new holds
// on holds lapsed when the test says so, and holds that last 2 s (extended to at most 4 s after
// they were made), to race extensions against expiry in real time.
let lasting: TestContext;
let lastingBase: string;
let expiring: TestContext;
let expiringBase: string;
const TTL_MS = 2_000;
const MAX_LIFETIME_MS = 4_000;
beforeAll(async () => {
  [lasting, expiring] = await Promise.all([
    startTestApp({ DB_POOL_SIZE: '20' }),
    startTestApp({ HOLD_TTL_SECONDS: '2', HOLD_MAX_LIFETIME_SECONDS: '4', DB_POOL_SIZE: '20' }),
  ]);
  [lastingBase, expiringBase] = await Promise.all([
    lasting.app.listen({ host: '127.0.0.1', port: 0 }),
    expiring.app.listen({ host: '127.0.0.1', port: 0 }),
  ]);
});
afterAll(() => Promise.all([lasting?.close(), expiring?.close()]));

/** A hold as its 201 answers it. */
interface Held {
  id: string;
  seats: number;
  seat_ids?: string[];
  hold_token: string;
  status: string;
  customer_ref?: string;
  created_at: string;
  expires_at: string;
  updated_at: string;
}

const ms = (iso: string) => Date.parse(iso);
const auth = (held: Held) => ({ 'x-hold-token': held.hold_token });

/**
 * Who has each seat, two ways: the seats table (seat id → [state, booking]) and the live
 * bookings' rows (PENDING → H, CONFIRMED → S), with the seats that two live bookings both name.
 */
async function seatOwners(ctx: TestContext, showId: string, map: SeatMap) {
  const ids = seatIdsOf(map);
  const { rows: seatRows } = await ctx.pool.query<{ seat_no: number; state: string; booking_id: string | null }>(
    `SELECT seat_no, state, booking_id FROM seats WHERE show_id = $1 AND (state <> 'F' OR booking_id IS NOT NULL)
     ORDER BY seat_no`,
    [showId],
  );
  const table = new Map(seatRows.map((row) => [ids[row.seat_no]!, [row.state, row.booking_id]]));
  const { rows: bookings } = await ctx.pool.query<{ id: string; status: string; seat_ids: string[] }>(
    `SELECT id, status, seat_ids FROM bookings WHERE show_id = $1 AND status IN ('PENDING', 'CONFIRMED')`,
    [showId],
  );
  const byBookings = new Map<string, [string, string]>();
  const twice: string[] = [];
  for (const booking of bookings) {
    for (const seatId of booking.seat_ids) {
      if (byBookings.has(seatId)) twice.push(seatId);
      byBookings.set(seatId, [booking.status === 'PENDING' ? 'H' : 'S', booking.id]);
    }
  }
  return { table, byBookings, twice };
}

/** These shows' counters match their bookings and seats (only these: a failed test may leave its show behind). */
async function expectCountersMatch(ctx: TestContext, ...showIds: string[]) {
  const { mismatches, seatMismatches } = await new ShowRepository(ctx.pool).counterMismatches();
  expect(mismatches.filter((mismatch) => showIds.includes(mismatch.id))).toEqual([]);
  expect(seatMismatches.filter((mismatch) => showIds.includes(mismatch.id))).toEqual([]);
}

describe('a customer racing their own limit (max_seats_per_customer: 4)', () => {
  // Stalls for best available (category standard), the boxes for seats chosen by id: no
  // request here can be refused for its seats, so every refusal is the customer's limit.
  const map: SeatMap = {
    sections: [
      { name: 'Stalls', rows: ['A', 'B', 'C', 'D', 'E', 'F'].map((label) => ({ label, seats: 20 })) },
      { name: 'Box', rows: ['A', 'B'].map((label) => ({ label, seats: 20, category: 'box' })) },
    ],
  };

  interface Ask {
    who: string;
    size: number;
    body: Record<string, unknown>;
  }

  for (const seating of ['general admission', 'seated'] as const) {
    it(`${seating}: exactly 4 seats per customer however many holds race, others unaffected, rows agreeing`, async () => {
      const seated = seating === 'seated';
      const showId = (
        await createShow(lasting.app, {
          ...(seated ? { seat_map: map } : { total_seats: 1_000 }),
          max_seats_per_customer: 4,
        })
      ).id;
      const best = (size: number, who: string) =>
        seated ? { seats: size, category: 'standard', customer_ref: who } : { seats: size, customer_ref: who };
      const book = (ask: Ask) => post(lastingBase, `/api/shows/${showId}/book`, ask.body);

      // Round 1, all at once: alice 20 one-seat holds; carol 12 of 1–3 seats (four of each
      // size); ten other customers one hold each; and one hold that names no customer.
      const asks: Ask[] = [];
      let boxB = 1;
      for (let i = 0; i < 20; i++) {
        asks.push({
          who: 'alice',
          size: 1,
          body: seated && i % 2 === 1 ? { seat_ids: [`Box-A-${i}`], customer_ref: 'alice' } : best(1, 'alice'),
        });
        if (i < 12) {
          const size = (i % 3) + 1;
          const chosen = Array.from({ length: size }, (_, k) => `Box-B-${boxB + k}`);
          if (seated && i % 2 === 1) boxB += size;
          asks.push({
            who: 'carol',
            size,
            body: seated && i % 2 === 1 ? { seat_ids: chosen, customer_ref: 'carol' } : best(size, 'carol'),
          });
        }
        if (i < 10) asks.push({ who: `bob-${i}`, size: (i % 3) + 1, body: best((i % 3) + 1, `bob-${i}`) });
        if (i === 10) asks.push({ who: '', size: 1, body: seated ? { seats: 1, category: 'standard' } : { seats: 1 } });
      }
      const answers = await Promise.all(asks.map(book));

      const grantedTo = (who: string, among: Ask[], given: Answer[]) =>
        given.filter((answer, i) => among[i]!.who === who && answer.status === 201).map((a) => a.body as Held);
      const seatsOf = (holds: Held[]) => holds.reduce((sum, held) => sum + held.seats, 0);
      /** Answers that are neither a hold of what was asked nor the limit's refusal (0 ≤ seats_allowed < asked). */
      const odd = (among: Ask[], given: Answer[]) =>
        given.flatMap((answer, i) => {
          const ask = among[i]!;
          if (answer.status === 201) {
            const held = answer.body as Held;
            const chosen = ask.body.seat_ids as string[] | undefined;
            const right =
              held.status === 'PENDING' &&
              held.seats === ask.size &&
              held.customer_ref === ask.who &&
              (!seated ||
                (chosen
                  ? JSON.stringify(held.seat_ids) === JSON.stringify(chosen)
                  : held.seat_ids!.length === ask.size && held.seat_ids!.every((id) => id.startsWith('Stalls-'))));
            return right ? [] : [{ ask, answer }];
          }
          const allowed = answer.body.seats_allowed as number;
          const limited =
            isProblem(answer, 409, 'customer_limit_reached') &&
            Number.isInteger(allowed) &&
            allowed >= 0 &&
            allowed < ask.size;
          return limited && ask.who !== '' && !ask.who.startsWith('bob') ? [] : [{ ask, answer }];
        });

      const nameless = answers[asks.findIndex((ask) => ask.who === '')]!;
      expect(isProblem(nameless, 400, 'validation_failed'), JSON.stringify(nameless.body)).toBe(true);
      expect(nameless.body.errors).toEqual([{ path: 'body/customer_ref', message: 'is required on this show' }]);
      const named = asks.filter((ask) => ask.who !== '');
      const namedAnswers = answers.filter((_, i) => asks[i]!.who !== '');
      expect(odd(named, namedAnswers)).toEqual([]);

      // Exactly the limit, however the holds were grouped: alice's one-seat asks are refused
      // only once she has 4, so with seats_allowed 0. Carol has four one-seat asks: one is
      // refused only when she has 4, and if none is, those four alone reach 4.
      const alice = grantedTo('alice', asks, answers);
      const carol = grantedTo('carol', asks, answers);
      expect(alice.length).toBe(4);
      expect(seatsOf(carol)).toBe(4);
      const aliceRefusals = answers.filter((answer, i) => asks[i]!.who === 'alice' && answer.status !== 201);
      expect(aliceRefusals.map((answer) => answer.body.seats_allowed)).toEqual(Array(16).fill(0));
      // Other customers are unaffected: every one of their holds is granted.
      const bobs = asks.filter((ask) => ask.who.startsWith('bob'));
      expect(bobs.map((ask) => grantedTo(ask.who, asks, answers).length)).toEqual(bobs.map(() => 1));
      const bobSeats = bobs.reduce((sum, ask) => sum + ask.size, 0);

      // The rows agree: each customer's live bookings are exactly the holds answered 201.
      const liveRows = async () => {
        const { rows } = await lasting.pool.query<{ who: string; ids: string[]; seats: number }>(
          `SELECT coalesce(customer_ref, '') AS who, array_agg(id::text ORDER BY id) AS ids, sum(seats)::int AS seats
           FROM bookings WHERE show_id = $1 AND status IN ('PENDING', 'CONFIRMED') GROUP BY customer_ref`,
          [showId],
        );
        return new Map(rows.map((row) => [row.who, { ids: row.ids, seats: row.seats }]));
      };
      const expectedRows = (holds: Held[]) => {
        const rows = new Map<string, { ids: string[]; seats: number }>();
        for (const held of holds) {
          const row = rows.get(held.customer_ref!) ?? { ids: [], seats: 0 };
          rows.set(held.customer_ref!, { ids: [...row.ids, held.id].sort(), seats: row.seats + held.seats });
        }
        return rows;
      };
      const round1 = answers.filter((answer) => answer.status === 201).map((answer) => answer.body as Held);
      expect(await liveRows()).toEqual(expectedRows(round1));
      expect(await inventory(lasting.pool, showId)).toEqual({
        total: seated ? 160 : 1_000,
        held: 8 + bobSeats,
        confirmed: 0,
        pending_rows: 8 + bobSeats,
        confirmed_rows: 0,
      });
      if (seated) {
        const { table, byBookings, twice } = await seatOwners(lasting, showId, map);
        expect(twice).toEqual([]);
        expect(table).toEqual(byBookings);
        expect(table).toEqual(new Map(round1.flatMap((held) => held.seat_ids!.map((id) => [id, ['H', held.id]]))));
      }

      // Round 2: alice confirms one hold (still counted) and cancels another (no longer
      // counted): one seat is hers again, and of 8 racing one-seat holds exactly one gets it.
      // Carol cancels her largest hold and races holds of 1, 1, 1, 2 and 3 seats: she gets
      // back exactly what she gave up. Dave, new, is unaffected.
      const [kept, dropped] = alice;
      expect(await post(lastingBase, `/api/bookings/${kept!.id}/confirm`, undefined, auth(kept!))).toMatchObject({
        status: 200,
        body: { status: 'CONFIRMED' },
      });
      expect(await post(lastingBase, `/api/bookings/${dropped!.id}/cancel`, undefined, auth(dropped!))).toMatchObject({
        status: 200,
        body: { status: 'CANCELLED' },
      });
      const largest = [...carol].sort((a, b) => b.seats - a.seats)[0]!;
      expect(await post(lastingBase, `/api/bookings/${largest.id}/cancel`, undefined, auth(largest))).toMatchObject({
        status: 200,
        body: { status: 'CANCELLED' },
      });
      const again: Ask[] = [
        ...Array.from({ length: 8 }, () => ({ who: 'alice', size: 1, body: best(1, 'alice') })),
        ...[1, 1, 1, 2, 3].map((size) => ({ who: 'carol', size, body: best(size, 'carol') })),
        { who: 'dave', size: 2, body: best(2, 'dave') },
      ];
      const againAnswers = await Promise.all(again.map(book));
      const odd2 = odd(again, againAnswers).filter(({ ask }) => ask.who !== 'dave');
      expect(odd2).toEqual([]);
      expect(grantedTo('alice', again, againAnswers).length).toBe(1);
      expect(
        againAnswers.filter((a, i) => again[i]!.who === 'alice' && a.status !== 201).map((a) => a.body.seats_allowed),
      ).toEqual(Array(7).fill(0));
      expect(seatsOf(grantedTo('carol', again, againAnswers))).toBe(largest.seats);
      expect(grantedTo('dave', again, againAnswers).map((held) => held.seats)).toEqual([2]);

      const live = [
        ...round1.filter((held) => held.id !== dropped!.id && held.id !== largest.id),
        ...againAnswers.filter((answer) => answer.status === 201).map((answer) => answer.body as Held),
      ];
      const rows = await liveRows();
      expect(rows).toEqual(expectedRows(live));
      expect(rows.get('alice')!.seats).toBe(4);
      expect(rows.get('carol')!.seats).toBe(4);
      // Held: round 1's, less alice's confirmed seat, plus dave's 2 (each cancelled seat was held again).
      expect(await inventory(lasting.pool, showId)).toMatchObject({
        held: 8 + bobSeats - 1 + 2,
        confirmed: 1,
        pending_rows: 8 + bobSeats - 1 + 2,
        confirmed_rows: 1,
      });
      if (seated) {
        const { table, byBookings, twice } = await seatOwners(lasting, showId, map);
        expect(twice).toEqual([]);
        expect(table).toEqual(byBookings);
      }
      await expectCountersMatch(lasting, showId);
    });
  }
});

describe("a hold refused for its customer's limit, decided in one group with others", () => {
  // Alice may have 2 seats and has them; a row of 5 has 2 seats left. Alice asks for more and,
  // right after her, Bob asks for those 2 seats. Both wait while another group holds the
  // show's lock (taken here from a connection of the test), so they are decided together, in
  // that order: Alice is refused for her limit, and must take nothing from Bob.
  const map: SeatMap = { sections: [{ name: 'S', rows: [{ label: 'A', seats: 5 }] }] };
  const variants = [
    { name: 'seated, best available', alice: { seats: 2 }, bob: { seats: 2 } },
    { name: 'seated, chosen seats', alice: { seat_ids: ['S-A-3'] }, bob: { seat_ids: ['S-A-3', 'S-A-4'] } },
    { name: 'general admission', alice: { seats: 2 }, bob: { seats: 2 } },
  ];
  for (const variant of variants) {
    it(`${variant.name}: the next customer gets the seats`, async () => {
      const seated = variant.name.startsWith('seated');
      const show = await createShow(lasting.app, {
        ...(seated ? { seat_map: map } : { total_seats: 5 }),
        max_seats_per_customer: 2,
      });
      const book = (body: Record<string, unknown>, who: string) =>
        post(lastingBase, `/api/shows/${show.id}/book`, { ...body, customer_ref: who });
      const first = await book(seated ? { seat_ids: ['S-A-1', 'S-A-2'] } : { seats: 2 }, 'alice');
      expect(first.status, JSON.stringify(first.body)).toBe(201);

      const locker = await lasting.pool.connect();
      let answers: Answer[];
      try {
        await locker.query('BEGIN');
        await locker.query('SELECT 1 FROM shows WHERE id = $1 FOR UPDATE', [show.id]);
        // Its group waits for the lock; Alice and Bob queue behind it, and go together next.
        const waiting = [book(seated ? { seat_ids: ['S-A-5'] } : { seats: 1 }, 'dave')];
        await sleep(150);
        waiting.push(book(variant.alice, 'alice'));
        await sleep(50);
        waiting.push(book(variant.bob, 'bob'));
        await sleep(150);
        await locker.query('COMMIT');
        answers = await Promise.all(waiting);
      } finally {
        locker.release();
      }
      const [dave, alice, bob] = answers;
      expect(dave!.status, JSON.stringify(dave!.body)).toBe(201);
      expect(isProblem(alice!, 409, 'customer_limit_reached'), JSON.stringify(alice!.body)).toBe(true);
      expect(alice!.body.seats_allowed).toBe(0);
      expect({
        status: bob!.status,
        code: bob!.body.code,
        seats: bob!.body.seats,
        seat_ids: bob!.body.seat_ids,
      }).toEqual({ status: 201, code: undefined, seats: 2, seat_ids: seated ? ['S-A-3', 'S-A-4'] : undefined });
      expect(await inventory(lasting.pool, show.id)).toMatchObject({ total: 5, held: 5, pending_rows: 5 });
      await expectCountersMatch(lasting, show.id);
    });
  }
});

describe('late confirms (late_confirm: reclaim) racing new holds for the same seats', () => {
  it('seated: each contested seat ends in exactly one booking, the late confirm or the new hold', async () => {
    // 60 seats; 27 holds of 1 or 2 seats chosen by id, in map order.
    const map: SeatMap = {
      sections: [{ name: 'Stalls', rows: ['A', 'B', 'C', 'D', 'E', 'F'].map((label) => ({ label, seats: 10 })) }],
    };
    const show = await createShow(lasting.app, { seat_map: map, late_confirm: 'reclaim' });
    const seatIds = seatIdsOf(map);

    // What happens to each hold once it has expired:
    // - race_confirm_first / race_hold_first: its late confirm and a new hold (by someone
    //   else) naming exactly its seats are sent at once, in that order;
    // - hold_then_confirm: the new hold is answered before the late confirm is sent (the new
    //   hold must win); confirm_then_hold: the other way round (the late confirm must win);
    // - cancelled (before it expired): a late confirm and a new hold at once; the confirm
    //   never revives it;
    // - partial_then_confirm / race_partial: as hold_then_confirm and race_hold_first, the
    //   new hold naming only the second of the hold's two seats: a late confirm needs all of
    //   its seats, and never takes one of another booking;
    // - confirm_alone / hold_alone: uncontested.
    const roles = [
      'race_confirm_first',
      'race_hold_first',
      'hold_then_confirm',
      'confirm_then_hold',
      'cancelled',
      'partial_then_confirm',
      'race_partial',
      'confirm_alone',
      'hold_alone',
    ] as const;
    type Role = (typeof roles)[number];
    const roleOf = (i: number): Role => roles[i % roles.length]!;
    const partial = (i: number) => roleOf(i).includes('partial');
    const blocks: string[][] = [];
    for (let i = 0, at = 0; i < 27; i++) {
      const size = partial(i) ? 2 : 1 + (i % 2);
      blocks.push(seatIds.slice(at, (at += size)));
    }

    // In two waves: the first is turned EXPIRED by the expiry job's path before the race, the
    // second is still PENDING (overdue) in its rows when the race begins. The holds last 2
    // minutes; they lapse when the test says so, however long the waves take.
    const book = (body: unknown) => post(lastingBase, `/api/shows/${show.id}/book`, body);
    const wave = (from: number, to: number) =>
      Promise.all(
        blocks.slice(from, to).map(async (seat_ids) => {
          const answer = await book({ seat_ids });
          expect(answer.status, JSON.stringify(answer.body)).toBe(201);
          return answer.body as Held;
        }),
      );
    const holds = [...(await wave(0, 14)), ...(await wave(14, 27))];
    for (const [i, held] of holds.entries()) {
      if (roleOf(i) !== 'cancelled') continue;
      const cancelled = await post(lastingBase, `/api/bookings/${held.id}/cancel`, undefined, auth(held));
      expect(cancelled).toMatchObject({ status: 200, body: { status: 'CANCELLED' } });
    }
    const pending = (from: number, to: number) =>
      holds.flatMap((held, i) => (i >= from && i < to && roleOf(i) !== 'cancelled' ? [held.id] : []));
    await lapse(lasting.pool, pending(0, 14));
    await lasting.services.expiry.expireShow(show.id);
    await lapse(lasting.pool, pending(14, 27));

    const confirm = (held: Held) => post(lastingBase, `/api/bookings/${held.id}/confirm`, undefined, auth(held));
    /** The seats the new hold contesting hold i names. */
    const wanted = (i: number) => (partial(i) ? holds[i]!.seat_ids!.slice(1) : holds[i]!.seat_ids!);
    const results = await Promise.all(
      holds.map(async (held, i): Promise<{ confirm?: Answer; rival?: Answer }> => {
        const rival = () => book({ seat_ids: wanted(i) });
        switch (roleOf(i)) {
          case 'race_confirm_first':
          case 'cancelled': {
            const [c, r] = [confirm(held), rival()];
            return { confirm: await c, rival: await r };
          }
          case 'race_hold_first':
          case 'race_partial': {
            const [r, c] = [rival(), confirm(held)];
            return { confirm: await c, rival: await r };
          }
          case 'hold_then_confirm':
          case 'partial_then_confirm': {
            const r = await rival();
            return { rival: r, confirm: await confirm(held) };
          }
          case 'confirm_then_hold': {
            const c = await confirm(held);
            return { confirm: c, rival: await rival() };
          }
          case 'confirm_alone':
            return { confirm: await confirm(held) };
          case 'hold_alone':
            return { rival: await rival() };
        }
      }),
    );

    // Each answer, named: the late confirm took the same seats (200, late) or was refused
    // with reclaimable false; the new hold got exactly the seats it named (201) or was
    // refused naming all of them as taken.
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    const outcomes = results.map(({ confirm: c, rival: r }, i) => {
      const held = holds[i]!;
      const confirmed =
        c === undefined
          ? '-'
          : c.status === 200 &&
              same(c.body, { ...c.body, id: held.id, status: 'CONFIRMED', late: true, seat_ids: held.seat_ids })
            ? 'late'
            : isProblem(c, 409, 'hold_expired') && c.body.reclaimable === false
              ? 'refused'
              : isProblem(c, 409, 'booking_cancelled')
                ? 'cancelled'
                : `? ${c.status} ${JSON.stringify(c.body)}`;
      const rivalled =
        r === undefined
          ? '-'
          : r.status === 201 && same(r.body.seat_ids, wanted(i)) && r.body.status === 'PENDING'
            ? 'won'
            : isProblem(r, 409, 'seats_taken') && same([...r.body.taken_seat_ids].sort(), [...wanted(i)].sort())
              ? 'lost'
              : `? ${r.status} ${JSON.stringify(r.body)}`;
      return `${confirmed} ${rivalled}`;
    });
    const allowed: Record<Role, string[]> = {
      race_confirm_first: ['late lost', 'refused won'],
      race_hold_first: ['late lost', 'refused won'],
      hold_then_confirm: ['refused won'],
      confirm_then_hold: ['late lost'],
      cancelled: ['cancelled won'],
      partial_then_confirm: ['refused won'],
      race_partial: ['late lost', 'refused won'],
      confirm_alone: ['late -'],
      hold_alone: ['- won'],
    };
    const odd = outcomes
      .map((outcome, i) => ({ i, role: roleOf(i), outcome }))
      .filter(({ role, outcome }) => !allowed[role].includes(outcome));
    expect(odd).toEqual([]);

    // The rows: a late-confirmed booking CONFIRMED and late, a cancelled one still
    // CANCELLED, every other EXPIRED; each new hold granted PENDING, none refused written.
    const lateOnes = holds.filter((_, i) => outcomes[i]!.startsWith('late'));
    const winners = results.flatMap(({ rival: r }) => (r?.status === 201 ? [r.body as Held] : []));
    const { rows } = await lasting.pool.query<{ id: string; status: string; late: boolean }>(
      'SELECT id, status, late FROM bookings WHERE show_id = $1',
      [show.id],
    );
    expect(new Map(rows.map((row) => [row.id, [row.status, row.late]]))).toEqual(
      new Map([
        ...holds.map((held, i) => {
          const status = outcomes[i]!.startsWith('late')
            ? 'CONFIRMED'
            : roleOf(i) === 'cancelled'
              ? 'CANCELLED'
              : 'EXPIRED';
          return [held.id, [status, status === 'CONFIRMED']] as [string, [string, boolean]];
        }),
        ...winners.map((held) => [held.id, ['PENDING', false]] as [string, [string, boolean]]),
      ]),
    );

    // Seats: no seat in two live bookings; each sold to its late confirm or held by the new
    // hold that won it, every other seat free; the seats table says the same.
    const { table, byBookings, twice } = await seatOwners(lasting, show.id, map);
    expect(twice).toEqual([]);
    expect(table).toEqual(byBookings);
    expect(table).toEqual(
      new Map<string, [string, string]>([
        ...lateOnes.flatMap((held) => held.seat_ids!.map((id): [string, [string, string]] => [id, ['S', held.id]])),
        ...winners.flatMap((held) => held.seat_ids!.map((id): [string, [string, string]] => [id, ['H', held.id]])),
      ]),
    );
    const sold = lateOnes.reduce((sum, held) => sum + held.seats, 0);
    const held = winners.reduce((sum, hold) => sum + hold.seats, 0);
    expect(await inventory(lasting.pool, show.id)).toEqual({
      total: 60,
      held,
      confirmed: sold,
      pending_rows: held,
      confirmed_rows: sold,
    });
    await expectCountersMatch(lasting, show.id);
  });

  it('general admission: never oversold; seats confirmed late + held = the show exactly, as the rows say', async () => {
    // 30 seats; 12 holds of 1–3 seats (24 seats). Once they have expired: holds 0–1 are
    // confirmed late first (all seats are free: 200); 2–3 were cancelled before; 4–9 confirm
    // late while 30 new one-seat holds race them; 10–11 confirm late after the race.
    const show = await createShow(lasting.app, { total_seats: 30, late_confirm: 'reclaim' });
    const book = (seats: number) => post(lastingBase, `/api/shows/${show.id}/book`, { seats });
    const holds = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const answer = await book(1 + (i % 3));
        expect(answer.status, JSON.stringify(answer.body)).toBe(201);
        return answer.body as Held;
      }),
    );
    for (const held of holds.slice(2, 4)) {
      const cancelled = await post(lastingBase, `/api/bookings/${held.id}/cancel`, undefined, auth(held));
      expect(cancelled).toMatchObject({ status: 200, body: { status: 'CANCELLED' } });
    }
    await lapse(
      lasting.pool,
      holds.filter((_, i) => i !== 2 && i !== 3).map((held) => held.id),
    );

    const confirm = (held: Held) => post(lastingBase, `/api/bookings/${held.id}/confirm`, undefined, auth(held));
    const isLate = (answer: Answer, held: Held) =>
      answer.status === 200 &&
      answer.body.status === 'CONFIRMED' &&
      answer.body.late === true &&
      answer.body.id === held.id &&
      answer.body.seats === held.seats;
    const isRefused = (answer: Answer) => isProblem(answer, 409, 'hold_expired') && answer.body.reclaimable === false;

    const early = [await confirm(holds[0]!), await confirm(holds[1]!)];
    expect(early.map((answer, i) => isLate(answer, holds[i]!))).toEqual([true, true]);

    const racing = holds.slice(2, 10);
    const [confirms, newHolds] = await Promise.all([
      Promise.all(racing.map(confirm)),
      Promise.all(Array.from({ length: 30 }, () => book(1))),
    ]);
    const after = [await confirm(holds[10]!), await confirm(holds[11]!)];

    // Cancelled bookings are never revived; every other confirm took its seats or was refused.
    expect(confirms.slice(0, 2).map((answer) => isProblem(answer, 409, 'booking_cancelled'))).toEqual([true, true]);
    const confirmOdd = confirms.slice(2).filter((answer, i) => !isLate(answer, racing[i + 2]!) && !isRefused(answer));
    expect(confirmOdd).toEqual([]);
    // A one-seat hold is refused only when no seat is free.
    const holdOdd = newHolds.filter(
      (answer) =>
        !(answer.status === 201 && answer.body.seats === 1 && answer.body.status === 'PENDING') &&
        !(isProblem(answer, 409, 'sold_out') && answer.body.available_seats === 0),
    );
    expect(holdOdd).toEqual([]);

    // 30 one-seat holds alone fill the show, and one is refused only when it is full (nothing
    // frees a seat meanwhile: the new holds last 2 minutes, far longer than the race): so the show
    // ends exactly full, and the late confirms after the race are all refused.
    const confirmedLate = [
      ...holds.slice(0, 2),
      ...racing.filter((held, i) => isLate(confirms[i]!, held)),
      ...holds.slice(10).filter((held, i) => isLate(after[i]!, held)),
    ];
    const granted = newHolds.filter((answer) => answer.status === 201).map((answer) => answer.body as Held);
    const sold = confirmedLate.reduce((sum, held) => sum + held.seats, 0);
    expect(sold + granted.length).toBe(30);
    expect(after.map(isRefused)).toEqual([true, true]);

    const { rows } = await lasting.pool.query<{ id: string; status: string; late: boolean }>(
      'SELECT id, status, late FROM bookings WHERE show_id = $1',
      [show.id],
    );
    const confirmedIds = new Set(confirmedLate.map((held) => held.id));
    expect(new Map(rows.map((row) => [row.id, [row.status, row.late]]))).toEqual(
      new Map([
        ...holds.map((held, i) => {
          const status = confirmedIds.has(held.id) ? 'CONFIRMED' : i === 2 || i === 3 ? 'CANCELLED' : 'EXPIRED';
          return [held.id, [status, status === 'CONFIRMED']] as [string, [string, boolean]];
        }),
        ...granted.map((held) => [held.id, ['PENDING', false]] as [string, [string, boolean]]),
      ]),
    );
    expect(await inventory(lasting.pool, show.id)).toEqual({
      total: 30,
      held: granted.length,
      confirmed: sold,
      pending_rows: granted.length,
      confirmed_rows: sold,
    });
    await expectCountersMatch(lasting, show.id);
  });
});

describe('extensions racing expiry', () => {
  it('an extension succeeds exactly when the hold is live at the decision; an extended hold keeps its seats until its new deadline', async () => {
    // A seated show (the Hall's 48 seats, one per hold; the Spare row for latecomers) and a
    // general-admission one (48 holds of one seat, 12 seats spare), raced side by side.
    const map: SeatMap = {
      sections: [
        { name: 'Hall', rows: ['A', 'B', 'C', 'D'].map((label) => ({ label, seats: 12 })) },
        { name: 'Spare', rows: [{ label: 'A', seats: 40 }] },
      ],
    };
    const seated = await createShow(expiring.app, { seat_map: map });
    const general = await createShow(expiring.app, { total_seats: 60 });
    const hallSeats = seatIdsOf(map).slice(0, 48);
    const makeHolds = (showId: string, bodies: unknown[]) =>
      Promise.all(
        bodies.map(async (body) => {
          const answer = await post(expiringBase, `/api/shows/${showId}/book`, body);
          expect(answer.status, JSON.stringify(answer.body)).toBe(201);
          return answer.body as Held;
        }),
      );
    const [seatedHolds, generalHolds] = await Promise.all([
      makeHolds(
        seated.id,
        hallSeats.map((seatId) => ({ seat_ids: [seatId] })),
      ),
      makeHolds(
        general.id,
        hallSeats.map(() => ({ seats: 1 })),
      ),
    ]);

    // Every fourth hold is extended once early (500 ms after it was made: it is live), then
    // again around its new deadline, where the cap applies (created_at + 4 s). The others are
    // extended once, around their deadline. "Around": from 300 ms before to 300 ms after.
    const extend = (held: Held) => post(expiringBase, `/api/bookings/${held.id}/extend`, undefined, auth(held));
    const around = (i: number) => -300 + (Math.floor(i / 4) % 13) * 50;
    const race = (holds: Held[]) =>
      Promise.all(
        holds.map(async (held, i) => {
          const twice = i % 4 === 0;
          let early: Answer | undefined;
          let earlyAnsweredAt = 0;
          let deadline = ms(held.expires_at);
          if (twice) {
            await sleep(Math.max(0, ms(held.created_at) + 500 - Date.now()));
            early = await extend(held);
            earlyAnsweredAt = Date.now();
            if (early.status === 200) deadline = ms(early.body.expires_at as string);
          }
          await sleep(Math.max(0, deadline - Date.now() + around(i)));
          return { held, twice, early, earlyAnsweredAt, answer: await extend(held), before: deadline };
        }),
      );

    // Meanwhile the expiry job's path runs on both shows, and latecomers hold spare seats:
    // each hold group also reclaims the show's overdue holds (the seated one always, the
    // general one when seats are short).
    let racing = true;
    const expiries = [seated.id, general.id].map(async (showId) => {
      while (racing) {
        await expiring.services.expiry.expireShow(showId);
        await sleep(5);
      }
    });
    const latecomers = (async () => {
      const answers: Answer[] = [];
      for (let k = 0; racing; k++) {
        answers.push(
          await post(
            expiringBase,
            `/api/shows/${k % 2 === 0 ? seated.id : general.id}/book`,
            k % 2 === 0 ? { seats: 1, section: 'Spare' } : { seats: 1 },
          ),
        );
        await sleep(20);
      }
      return answers;
    })();
    const [seatedRace, generalRace] = await Promise.all([race(seatedHolds), race(generalHolds)]);
    racing = false;
    await Promise.all(expiries);
    const lateAnswers = await latecomers;
    expect(lateAnswers.filter((answer) => answer.status !== 201 && !isProblem(answer, 409, 'sold_out'))).toEqual([]);

    for (const results of [seatedRace, generalRace]) {
      // The early extensions were sent to live holds: now + TTL. (On a loaded machine one may be
      // decided only after its deadline: then, and only then, hold_expired is its answer.)
      const earlyOdd = results
        .filter(({ twice }) => twice)
        .filter(({ early, earlyAnsweredAt, held }) =>
          early?.status === 200
            ? ms(early.body.expires_at) !== ms(early.body.updated_at as string) + TTL_MS
            : !(early && isProblem(early, 409, 'hold_expired') && earlyAnsweredAt > ms(held.expires_at)),
        )
        .map(({ held, early }) => ({ id: held.id, early }));
      expect(earlyOdd).toEqual([]);

      // Each answer: 200, decided (updated_at) no later than the deadline it moved, to now +
      // TTL capped at created_at + max lifetime (the twice-extended ones all capped), or 409
      // hold_expired.
      const odd = results.filter(({ answer, before, twice }) => {
        if (answer.status !== 200) return !isProblem(answer, 409, 'hold_expired');
        const body = answer.body as Held;
        const until = Math.min(ms(body.updated_at) + TTL_MS, ms(body.created_at) + MAX_LIFETIME_MS);
        return !(
          body.status === 'PENDING' &&
          ms(body.updated_at) <= before &&
          ms(body.expires_at) === until &&
          until > before &&
          (!twice || until === ms(body.created_at) + MAX_LIFETIME_MS)
        );
      });
      expect(odd).toEqual([]);
      // Deadlines from 300 ms ahead to 300 ms past: some of each, as in holds.test.ts.
      expect(results.filter(({ answer }) => answer.status === 200).length).toBeGreaterThan(0);
      expect(results.filter(({ answer }) => answer.status === 409).length).toBeGreaterThan(0);

      // The rows, judged in the database: an extended hold has the deadline answered and, if
      // EXPIRED by now, was expired only after it (never before its new deadline); a refused
      // one never moved its deadline and was expired at or after it.
      const { rows } = await expiring.pool.query<{
        id: string;
        status: string;
        expires_at: Date;
        expired_after_deadline: boolean;
      }>(
        `SELECT id, status, expires_at, (status = 'EXPIRED' AND updated_at >= expires_at) AS expired_after_deadline
         FROM bookings WHERE id = ANY($1)`,
        [results.map(({ held }) => held.id)],
      );
      const row = new Map(rows.map((r) => [r.id, r]));
      const rowOdd = results.filter(({ held, answer, before }) => {
        const r = row.get(held.id)!;
        if (answer.status === 200) {
          return !(
            r.expires_at.getTime() === ms(answer.body.expires_at as string) &&
            (r.status === 'PENDING' || r.expired_after_deadline)
          );
        }
        return !(r.expires_at.getTime() === before && r.expired_after_deadline);
      });
      expect(rowOdd.map(({ held, answer }) => ({ answer, row: row.get(held.id) }))).toEqual([]);
    }

    // On the seated show, each hold's seat asked for again at once: the seat of a hold whose
    // extension was refused is free (201); the seat of an extended one is still its hold's
    // (409 seats_taken), unless that hold's new deadline has passed by the time it is asked.
    const again = await Promise.all(
      seatedRace.map(({ held }) => post(expiringBase, `/api/shows/${seated.id}/book`, { seat_ids: held.seat_ids })),
    );
    const { rows: originals } = await expiring.pool.query<{ id: string; status: string; expires_at: Date }>(
      'SELECT id, status, expires_at FROM bookings WHERE id = ANY($1)',
      [seatedRace.map(({ held }) => held.id)],
    );
    const original = new Map(originals.map((r) => [r.id, r]));
    const againOdd = seatedRace.flatMap(({ held, answer }, i) => {
      const asked = again[i]!;
      const wrong = [{ held: held.id, extended: answer.status, again: asked }];
      const granted = asked.status === 201 && JSON.stringify(asked.body.seat_ids) === JSON.stringify(held.seat_ids);
      if (answer.status !== 200) return granted ? [] : wrong;
      if (granted) {
        const o = original.get(held.id)!;
        return o.status === 'EXPIRED' && o.expires_at.getTime() <= ms(asked.body.created_at as string) ? [] : wrong;
      }
      const taken =
        isProblem(asked, 409, 'seats_taken') &&
        JSON.stringify(asked.body.taken_seat_ids) === JSON.stringify(held.seat_ids);
      return taken ? [] : wrong;
    });
    expect(againOdd).toEqual([]);

    // No seat in two live bookings, the seats table agreeing; every counter matching its rows.
    const { table, byBookings, twice } = await seatOwners(expiring, seated.id, map);
    expect(twice).toEqual([]);
    expect(table).toEqual(byBookings);
    await expectCountersMatch(expiring, seated.id, general.id);
  });
});
