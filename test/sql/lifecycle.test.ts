import { describe, expect, it } from 'vitest';
import { lifecycleSql } from '../../src/adapters/postgres/core.js';
import { bookingCreations, bookingLifecycle, bookingStatuses, isMove } from '../../src/domain/booking-lifecycle.js';
import {
  AT,
  at,
  checkConstraints,
  counters,
  createShow,
  eventTypes,
  failure,
  holdGroup,
  holdSeats,
  seatStates,
  sqlTests,
  standardLines,
  statuses,
} from './support.js';

// The booking lifecycle as the database holds it (core.booking_statuses, core.booking_transitions,
// rendered from src/domain/booking-lifecycle.ts) and what reads it: core.lapsed, core.status_at,
// core.move_bookings, core.expire_overdue, core.booking_seats_owned, core.bookings_record_*.
const { db } = sqlTests();

const move = (show: string, now: string, ids: (string | null)[], from: string, to: string) =>
  db().query<{ id: string; status: string; late: boolean }>(
    `SELECT id, status::text, late FROM core.move_bookings(p_show => $1, p_at => $2, p_ids => $3::uuid[],
       p_from => $4::booking_status[], p_to => $5::booking_status[])`,
    [show, now, ids, ids.map(() => from), ids.map(() => to)],
  );

describe('the lifecycle table', () => {
  it('is in the database as src/domain/booking-lifecycle.ts has it, every status a value of booking_status', async () => {
    const { rows: statusRows } = await db().query(
      'SELECT status::text, seats, seat_state, lapses_to::text FROM core.booking_statuses ORDER BY status',
    );
    expect(statusRows).toEqual(
      [...bookingStatuses].sort().map((status) => ({
        status,
        seats: bookingLifecycle[status].seats,
        seat_state: { held: 'H', sold: 'S', none: null }[bookingLifecycle[status].seats],
        lapses_to: bookingLifecycle[status].lapsesTo ?? null,
      })),
    );
    const { rows: enumValues } = await db().query<{ values: string[] }>(
      `SELECT enum_range(NULL::booking_status)::text[] AS values`,
    );
    expect(enumValues[0]!.values).toEqual([...bookingStatuses]);
    const { rows: transitions } = await db().query(
      `SELECT from_status::text AS from, action, to_status::text AS to, event FROM core.booking_transitions
       ORDER BY from_status NULLS FIRST, action`,
    );
    const expected = [
      ...Object.entries(bookingCreations).map(([action, m]) => ({ from: null, action, to: m.to, event: m.event })),
      ...bookingStatuses.flatMap((from) =>
        Object.entries(bookingLifecycle[from].on).flatMap(([action, entry]) =>
          isMove(entry) ? [{ from, action, to: entry.to, event: entry.event }] : [],
        ),
      ),
    ];
    const order = (rows: { from: string | null; action: string }[]) =>
      [...rows].sort((a, b) => `${a.from ?? ''} ${a.action}`.localeCompare(`${b.from ?? ''} ${b.action}`));
    expect(order(transitions)).toEqual(order(expected));
    expect(lifecycleSql()).toContain('core.booking_transitions');
  });

  it('a status with a deadline lapses at it, exactly: core.lapsed and core.status_at', async () => {
    const { rows } = await db().query(
      `SELECT s::text AS status, core.lapsed(s, $1, $2) AS before, core.lapsed(s, $1, $1) AS at,
              core.status_at(s, $1, $2)::text AS seen_before, core.status_at(s, $1, $1)::text AS seen_at
       FROM unnest(enum_range(NULL::booking_status)) AS s`,
      [AT, at(-0.000001)],
    );
    for (const row of rows) {
      const lapsesTo = bookingLifecycle[row.status as keyof typeof bookingLifecycle].lapsesTo;
      expect(row).toEqual({
        status: row.status,
        before: false,
        at: lapsesTo !== undefined,
        seen_before: row.status,
        seen_at: lapsesTo ?? row.status,
      });
    }
  });
});

describe('core.move_bookings', () => {
  it('moves a live hold to CONFIRMED: counters and seats follow the statuses, one booking.confirmed', async () => {
    const show = await createShow(db(), { rows: [{ label: 'A', seats: 4 }] });
    const [held] = await holdSeats(db(), show, [[1, 2]]);
    const moved = await move(show, at(10), [held!.id], 'PENDING', 'CONFIRMED');
    expect(moved.rows).toEqual([{ id: held!.id, status: 'CONFIRMED', late: false }]);
    expect(await counters(db(), show)).toMatchObject({ held: 0, sold: 2 });
    expect(await seatStates(db(), show)).toBe('FSSF');
    expect(await eventTypes(db(), show)).toEqual(['show.created', 'booking.held', 'booking.confirmed']);
    await checkConstraints(db());
  });

  it('a lapsed hold only expires, and a live one never does: the deadline is judged at p_at', async () => {
    const show = await createShow(db(), { total: 5 });
    const [hold] = await holdGroup(db(), show, [2], { ttl: 60 });
    expect((await move(show, at(60), [hold!.id], 'PENDING', 'CONFIRMED')).rows).toEqual([]);
    expect((await move(show, at(59.999), [hold!.id], 'PENDING', 'EXPIRED')).rows).toEqual([]);
    expect((await move(show, at(60), [hold!.id], 'PENDING', 'EXPIRED')).rows).toEqual([
      { id: hold!.id, status: 'EXPIRED', late: false },
    ]);
    expect(await counters(db(), show)).toMatchObject({ held: 0, sold: 0 });
  });

  it('moves only from the status named, and only as the lifecycle allows; a late confirm is marked late', async () => {
    const show = await createShow(db(), { total: 5 });
    const [hold] = await holdGroup(db(), show, [1], { ttl: 60 });
    expect((await move(show, at(1), [hold!.id], 'CONFIRMED', 'CANCELLED')).rows).toEqual([]);
    expect((await move(show, at(61), [hold!.id], 'PENDING', 'EXPIRED')).rows).toHaveLength(1);
    // EXPIRED → CANCELLED is no move of the lifecycle: nothing moves.
    expect((await move(show, at(62), [hold!.id], 'EXPIRED', 'CANCELLED')).rows).toEqual([]);
    expect((await move(show, at(62), [hold!.id], 'EXPIRED', 'CONFIRMED')).rows).toEqual([
      { id: hold!.id, status: 'CONFIRMED', late: true },
    ]);
    expect(await counters(db(), show)).toMatchObject({ held: 0, sold: 1 });
  });

  it('a late confirm takes its seats back only where they are free; the commit refuses it otherwise', async () => {
    const show = await createShow(db(), { rows: [{ label: 'A', seats: 3 }] });
    const [first] = await holdSeats(db(), show, [[0, 1]], { ttl: 60 });
    await move(show, at(61), [first!.id], 'PENDING', 'EXPIRED');
    expect(await seatStates(db(), show)).toBe('FFF');
    await holdSeats(db(), show, [[1]], { now: at(62) }); // someone else takes one of its seats
    expect((await move(show, at(63), [first!.id], 'EXPIRED', 'CONFIRMED')).rows).toHaveLength(1);
    expect(await seatStates(db(), show)).toBe('SHF');
    const error = await failure(db(), () => checkConstraints(db()));
    expect(error.message).toMatch(/booking .* \(CONFIRMED\) owns 1 of its 2 seats/);
  });
});

describe('the triggers of bookings', () => {
  it('refuse a status change the lifecycle does not have, whatever statement makes it', async () => {
    const show = await createShow(db(), { total: 5 });
    const [hold] = await holdGroup(db(), show, [1]);
    await db().query(`UPDATE bookings SET status = 'CANCELLED' WHERE id = $1`, [hold!.id]);
    const error = await failure(db(), () =>
      db().query(`UPDATE bookings SET status = 'PENDING' WHERE id = $1`, [hold!.id]),
    );
    expect(error.message).toMatch(/cannot go from CANCELLED to PENDING/);
    const created = await failure(db(), () =>
      db().query(
        `INSERT INTO bookings (id, show_id, seats, status, hold_token_hash, created_at, expires_at, updated_at,
                               currency, lines, total)
         VALUES (gen_random_uuid(), $1, 1, 'EXPIRED', $2, $3, $4, $3, 'EUR', $5, 0)`,
        [show, Buffer.alloc(32), AT, at(1), JSON.stringify(standardLines(1))],
      ),
    );
    expect(created.message).toMatch(/cannot be created EXPIRED/);
  });

  it('record each change as the lifecycle names it: held, extended, cancelled, confirmed, expired', async () => {
    const show = await createShow(db(), { total: 5 });
    const [a, b, c] = await holdGroup(db(), show, [1, 1, 1], { ttl: 60 });
    await db().query(`UPDATE bookings SET expires_at = $2 WHERE id = $1`, [a!.id, at(90)]);
    await move(show, at(10), [a!.id], 'PENDING', 'CANCELLED');
    await move(show, at(10), [b!.id], 'PENDING', 'CONFIRMED');
    await db().query('SELECT * FROM core.expire_overdue(p_show => $1, p_at => $2)', [show, at(61)]);
    expect(await statuses(db(), [a!.id, b!.id, c!.id])).toEqual({
      [a!.id!]: 'CANCELLED',
      [b!.id!]: 'CONFIRMED',
      [c!.id!]: 'EXPIRED',
    });
    expect(await eventTypes(db(), show)).toEqual([
      'show.created',
      'booking.held',
      'booking.held',
      'booking.held',
      'booking.extended',
      'booking.cancelled',
      'booking.confirmed',
      'booking.expired',
    ]);
  });
});

describe('core.expire_overdue', () => {
  it('expires the lapsed holds (at most p_limit, only p_ids when given), their seats freed, with how late each was', async () => {
    const show = await createShow(db(), { rows: [{ label: 'A', seats: 4 }] });
    const [a, b] = await holdSeats(db(), show, [[0], [1, 2]], { ttl: 60 });
    await holdSeats(db(), show, [[3]], { ttl: 60, now: at(30) });
    const expire = (now: string, limit: number | null, ids: string[] | null) =>
      db().query(
        `SELECT bookings, seats, freed, late_seconds
         FROM core.expire_overdue(p_show => $1, p_at => $2, p_limit => $3, p_ids => $4::uuid[])`,
        [show, now, limit, ids],
      );
    expect((await expire(at(59), null, null)).rows).toEqual([{ bookings: 0, seats: 0, freed: [], late_seconds: [] }]);
    expect((await expire(at(61), null, [b!.id!])).rows).toEqual([
      { bookings: 1, seats: 2, freed: [1, 2], late_seconds: [1] },
    ]);
    expect((await expire(at(62), 1, null)).rows).toEqual([{ bookings: 1, seats: 1, freed: [0], late_seconds: [2] }]);
    expect(await statuses(db(), [a!.id])).toEqual({ [a!.id!]: 'EXPIRED' });
    expect(await seatStates(db(), show)).toBe('FFFH');
    expect(await counters(db(), show)).toMatchObject({ held: 1, sold: 0 });
    await checkConstraints(db());
  });
});
