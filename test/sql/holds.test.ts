import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  AT,
  at,
  checkConstraints,
  counters,
  createShow,
  holdGroup,
  holdSeats,
  seatStates,
  sqlTests,
  standardLines,
  statuses,
} from './support.js';

// A hold group decided by one statement: core.hold_group (general admission), core.hold_groups
// (several shows), core.hold_seats (seated), and the rules they share: core.hold_gate,
// core.decide_holds, core.customer_seats, core.show_gate.
const { db } = sqlTests();

const outcomes = (rows: { outcome: string }[]) => rows.map((row) => row.outcome);

describe('core.hold_group', () => {
  it('first come, first served, never partial: a later, smaller request still fits', async () => {
    const show = await createShow(db(), { total: 5 });
    const rows = await holdGroup(db(), show, [2, 4, 3, 1]);
    expect(outcomes(rows)).toEqual(['held', 'sold_out', 'held', 'sold_out']);
    expect(rows.map((row) => row.available)).toEqual([0, 0, 0, 0]);
    expect(await counters(db(), show)).toMatchObject({ held: 5 });
    expect(rows[0]!.expires_at).toEqual(new Date(at(120)));
  });

  it('expires lapsed holds only when seats are short, and then gives their seats to the group', async () => {
    const show = await createShow(db(), { total: 3 });
    const [old] = await holdGroup(db(), show, [2], { ttl: 60 });
    const plenty = await holdGroup(db(), show, [1], { now: at(61) });
    expect(plenty.map((row) => [row.outcome, row.reclaimed])).toEqual([['held', 0]]);
    expect(await statuses(db(), [old!.id])).toEqual({ [old!.id!]: 'PENDING' });
    const short = await holdGroup(db(), show, [2], { now: at(62) });
    expect(short.map((row) => [row.outcome, row.reclaimed])).toEqual([['held', 1]]);
    expect(await statuses(db(), [old!.id])).toEqual({ [old!.id!]: 'EXPIRED' });
    expect(await counters(db(), show)).toMatchObject({ held: 3 });
  });

  it('passes the gate at its instant: show_started, sales_not_open, sales_closed, each edge exact', async () => {
    const show = await createShow(db(), { total: 9, salesStart: at(100), salesEnd: at(200), start: at(300) });
    const outcomeAt = async (seconds: number) => (await holdGroup(db(), show, [1], { now: at(seconds) }))[0]!.outcome;
    expect(await outcomeAt(99.999)).toBe('sales_not_open');
    expect(await outcomeAt(100)).toBe('held');
    expect(await outcomeAt(199.999)).toBe('held');
    expect(await outcomeAt(200)).toBe('sales_closed');
    expect(await outcomeAt(300)).toBe('show_started');
  });

  it("counts a customer's live seats in arrival order: refused requests do not count, lapsed holds neither", async () => {
    const show = await createShow(db(), { total: 6, maxPerCustomer: 3 });
    await holdGroup(db(), show, [2], { refs: ['ann'], ttl: 60 });
    const rows = await holdGroup(db(), show, [2, 1, 4, 1, 1], { refs: ['ann', 'ann', 'bob', 'bob', null], now: at(1) });
    expect(rows.map((row) => [row.outcome, row.allowed])).toEqual([
      ['customer_limit', 1],
      ['held', null],
      ['customer_limit', 3],
      ['held', null],
      ['customer_ref_required', null],
    ]);
    // Past the first hold's deadline, ann has 1 seat: 2 more fit.
    const later = await holdGroup(db(), show, [2], { refs: ['ann'], now: at(61) });
    expect(outcomes(later)).toEqual(['held']);
    // A request refused for seats does not count toward its customer.
    const crowded = await createShow(db(), { total: 2, maxPerCustomer: 3 });
    expect(outcomes(await holdGroup(db(), crowded, [3, 2], { refs: ['cy', 'cy'] }))).toEqual(['sold_out', 'held']);
  });

  it('records a keyed answer with its hold, filling in the instants only the database knows', async () => {
    const show = await createShow(db(), { total: 2 });
    const scope = randomBytes(32);
    const claim = randomUUID();
    await db().query(
      `INSERT INTO idempotency_keys (scope_hash, request_hash, claim_id, locked_until) VALUES ($1, $2, $3, $4)`,
      [scope, randomBytes(32), claim, at(30)],
    );
    await db().query(
      `SELECT * FROM core.hold_group(p_show => $1, p_ttl_seconds => 60, p_now => $2, p_ids => $3, p_seats => ARRAY[1],
         p_token_hashes => $4, p_customer_refs => ARRAY[NULL]::text[], p_scopes => $5, p_claims => $6,
         p_answer_statuses => ARRAY[201], p_answer_bodies => ARRAY['{"at":"@@now@@","until":"@@expires@@"}'],
         p_answer_locations => ARRAY['/api/bookings/x'], p_types_version => 0, p_lines => $7::jsonb[],
         p_totals => ARRAY[0])`,
      [show, AT, [randomUUID()], [randomBytes(32)], [scope], [claim], [JSON.stringify(standardLines(1))]],
    );
    const { rows } = await db().query('SELECT status_code, body, location FROM idempotency_keys WHERE claim_id = $1', [
      claim,
    ]);
    expect(rows).toEqual([
      { status_code: 201, body: `{"at":"${AT}","until":"${at(60)}"}`, location: '/api/bookings/x' },
    ]);
  });
});

describe('core.hold_groups', () => {
  it("decides several shows' groups in one statement, skipping a show locked elsewhere (show_busy)", async () => {
    const [a, b] = [await createShow(db(), { total: 1 }), await createShow(db(), { total: 1 })].sort();
    const { rows } = await db().query<{ request: number; outcome: string; show_id: string | null }>(
      `SELECT request, outcome, show_id FROM core.hold_groups(p_shows => $1, p_group_ends => ARRAY[2, 3],
         p_ttl_seconds => 60, p_ids => $2, p_seats => ARRAY[1, 1, 1], p_token_hashes => $3,
         p_customer_refs => ARRAY[NULL, NULL, NULL]::text[], p_scopes => NULL, p_claims => NULL,
         p_answer_statuses => NULL, p_answer_bodies => NULL, p_answer_locations => NULL,
         p_types_versions => ARRAY[0, 0], p_lines => $4::jsonb[], p_totals => ARRAY[0, 0, 0])`,
      [
        [a, b],
        [randomUUID(), randomUUID(), randomUUID()],
        [randomBytes(32), randomBytes(32), randomBytes(32)],
        [1, 1, 1].map((seats) => JSON.stringify(standardLines(seats))),
      ],
    );
    expect(rows).toEqual([
      { request: 1, outcome: 'held', show_id: a },
      { request: 2, outcome: 'sold_out', show_id: null },
      { request: 3, outcome: 'held', show_id: b },
    ]);
  });
});

describe('core.hold_seats', () => {
  it('holds the chosen seats at the seat version they were chosen at, and moves it', async () => {
    const show = await createShow(db(), { rows: [{ label: 'A', seats: 4 }] });
    const rows = await holdSeats(db(), show, [[0, 1], [], [3]]);
    expect(rows.map((row) => [row.outcome, row.version_before, row.version_after])).toEqual([
      ['held', '0', '1'],
      ['refused', '0', '1'],
      ['held', '0', '1'],
    ]);
    expect(await seatStates(db(), show)).toBe('HHFH');
    expect(await counters(db(), show)).toMatchObject({ held: 3, seat_version: '1' });
    await checkConstraints(db());
  });

  it('writes nothing for seats chosen at another version (stale) or on another map (map_changed)', async () => {
    const show = await createShow(db(), { rows: [{ label: 'A', seats: 4 }] });
    await holdSeats(db(), show, [[0]]);
    expect(outcomes(await holdSeats(db(), show, [[1], [2]], { version: '0' }))).toEqual(['stale', 'stale']);
    expect(outcomes(await holdSeats(db(), show, [[1]], { mapVersion: 7 }))).toEqual(['map_changed']);
    expect(await seatStates(db(), show)).toBe('HFFF');
  });

  it('expires lapsed holds first, every time, and hands their seats back on the first row', async () => {
    const show = await createShow(db(), { rows: [{ label: 'A', seats: 4 }] });
    const [old] = await holdSeats(db(), show, [[1, 2]], { ttl: 60 });
    const rows = await holdSeats(db(), show, [[0]], { now: at(61) });
    expect(rows.map((row) => [row.outcome, row.reclaimed, row.freed])).toEqual([['held', 1, [1, 2]]]);
    expect(await statuses(db(), [old!.id])).toEqual({ [old!.id!]: 'EXPIRED' });
    expect(await seatStates(db(), show)).toBe('HFFF');
    expect(await counters(db(), show)).toMatchObject({ held: 1, seat_version: '3' });
  });

  it('holds nothing (conflict) when a chosen seat is not free after all: only the expiry is written', async () => {
    const show = await createShow(db(), { rows: [{ label: 'A', seats: 3 }] });
    const [old] = await holdSeats(db(), show, [[0]], { ttl: 60 });
    await holdSeats(db(), show, [[2]], { ttl: 600 });
    // As if the API believed the second hold lapsed: seat 2 is chosen again.
    const rows = await holdSeats(db(), show, [[1], [2]], { now: at(61) });
    expect(outcomes(rows)).toEqual(['conflict', 'conflict']);
    expect(rows[0]!.freed).toEqual([0]);
    expect(await statuses(db(), [old!.id])).toEqual({ [old!.id!]: 'EXPIRED' });
    expect(await seatStates(db(), show)).toBe('FFH');
  });

  it('passes the same gate and limits as general admission', async () => {
    const show = await createShow(db(), {
      rows: [{ label: 'A', seats: 6 }],
      maxPerCustomer: 2,
      salesEnd: at(100),
    });
    const rows = await holdSeats(db(), show, [[0, 1], [2], [3]], { refs: ['ann', 'ann', 'bob'] });
    expect(rows.map((row) => [row.outcome, row.allowed])).toEqual([
      ['held', null],
      ['customer_limit', 0],
      ['held', null],
    ]);
    expect(outcomes(await holdSeats(db(), show, [[4]], { refs: ['cy'], now: at(100) }))).toEqual(['sales_closed']);
  });
});
