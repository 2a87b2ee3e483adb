import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { PoolClient } from '../../src/adapters/postgres/pool.js';
import { SeatPlan, type SeatMapInput } from '../../src/domain/seat-map.js';
import { DEFAULT_TICKET_TYPE, storedTicketType } from '../../src/domain/ticket-types.js';
import { ShowRepository } from '../../src/repositories/show.repository.js';
import { createTestDatabase, type TestDatabase } from '../helpers.js';

/**
 * The database's functions called directly (db/functions), with named arguments and explicit
 * instants: no clock is waited for. One database per file; each test runs in a transaction that is
 * rolled back after it, so no test sees another's rows.
 */
export function sqlTests(): { db: () => pg.Client } {
  let database: TestDatabase;
  let client: pg.Client;
  beforeAll(async () => {
    database = await createTestDatabase();
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
    await database.drop();
  });
  beforeEach(() => client.query('BEGIN'));
  afterEach(() => client.query('ROLLBACK'));
  return { db: () => client };
}

/** The instants tests judge at: AT, and AT plus some seconds. Shows start a day after. */
export const AT = '2030-01-01T10:00:00.000Z';
export const at = (seconds: number) => new Date(Date.parse(AT) + seconds * 1000).toISOString();

export interface ShowSettings {
  total?: number;
  /** Rows of one section "S" (labels and seats; category "standard" unless named). */
  rows?: { label: string; seats: number; category?: string }[];
  start?: string;
  salesStart?: string;
  salesEnd?: string;
  maxPerCustomer?: number;
  lateConfirm?: 'refuse' | 'reclaim';
}

/** A show as the API creates it (its categories and seats with it); its id. */
export async function createShow(db: pg.Client, settings: ShowSettings = {}): Promise<string> {
  const map: SeatMapInput | undefined = settings.rows && { sections: [{ name: 'S', rows: settings.rows }] };
  const created = await new ShowRepository(null as never).create(
    {
      title: 'SQL',
      start_time: settings.start ?? at(86_400),
      total_seats: map ? undefined : (settings.total ?? 10),
      late_confirm: settings.lateConfirm,
      max_seats_per_customer: settings.maxPerCustomer,
      sales_start: settings.salesStart,
      sales_end: settings.salesEnd,
      currency: 'EUR',
    },
    map ? SeatPlan.fromInput(map) : null,
    [storedTicketType(DEFAULT_TICKET_TYPE)],
    db as unknown as PoolClient,
  );
  return created!.id;
}

export interface HoldRow {
  request: number;
  outcome: string;
  available: number | null;
  reclaimed: number;
  allowed: number | null;
  id: string | null;
  status: string | null;
  expires_at: Date | null;
}

/** What a hold of `seats` of the default type sells, as the API prices it (free). */
export const standardLines = (seats: number) => [
  { type: 'standard', name: 'Admission', quantity: seats, unit_price: 0 },
];

/** The version of the show's ticket types: what a statement priced at it passes. */
export async function typesVersion(db: pg.Client, show: string): Promise<number> {
  const { rows } = await db.query<{ v: number }>('SELECT ticket_types_version AS v FROM shows WHERE id = $1', [show]);
  return rows[0]?.v ?? 0;
}

export interface HoldOptions {
  now?: string;
  ttl?: number;
  refs?: (string | null)[];
  /** Each request's lines (default: its seats of the standard type, free) and totals (default 0). */
  lines?: object[][];
  totals?: number[];
  /** The ticket types' version the requests were priced at (default: the show's). */
  typesVersion?: number;
}

export interface TypedHoldRow extends HoldRow {
  ticket_type: string | null;
}

/** A general-admission hold group (core.hold_group) of requests for `seats` each, judged at `now`. */
export async function holdGroup(
  db: pg.Client,
  show: string,
  seats: number[],
  options: HoldOptions = {},
): Promise<TypedHoldRow[]> {
  const { rows } = await db.query<TypedHoldRow>(
    `SELECT request, outcome, available, reclaimed, allowed, ticket_type, id, status, expires_at
     FROM core.hold_group(p_show => $1, p_ttl_seconds => $2, p_now => $3, p_ids => $4, p_seats => $5,
                          p_token_hashes => $6, p_customer_refs => $7, p_scopes => NULL, p_claims => NULL,
                          p_answer_statuses => NULL, p_answer_bodies => NULL, p_answer_locations => NULL,
                          p_types_version => $8, p_lines => $9::jsonb[], p_totals => $10)`,
    [
      show,
      options.ttl ?? 120,
      options.now ?? AT,
      seats.map(() => randomUUID()),
      seats,
      seats.map(() => randomBytes(32)),
      options.refs ?? seats.map(() => null),
      options.typesVersion ?? (await typesVersion(db, show)),
      (options.lines ?? seats.map(standardLines)).map((lines) => JSON.stringify(lines)),
      options.totals ?? seats.map(() => 0),
    ],
  );
  return rows;
}

export interface SeatHoldRow extends TypedHoldRow {
  version_before: string;
  version_after: string;
  freed: number[] | null;
  seat_ids: string[] | null;
}

/** A seated hold group (core.hold_seats): each request the seat numbers chosen for it (none: refused by the API). */
export async function holdSeats(
  db: pg.Client,
  show: string,
  chosen: number[][],
  options: HoldOptions & { mapVersion?: number; version?: string } = {},
): Promise<SeatHoldRow[]> {
  const state = await db.query<{ version: string; map_version: number }>(
    'SELECT seat_version::text AS version, seat_map_version AS map_version FROM shows WHERE id = $1',
    [show],
  );
  const { rows } = await db.query<SeatHoldRow>(
    `SELECT request, outcome, available, reclaimed, allowed, ticket_type, id, status, expires_at, version_before::text,
            version_after::text, freed, seat_ids
     FROM core.hold_seats(p_show => $1, p_ttl_seconds => $2, p_now => $3, p_map_version => $4, p_version => $5,
                          p_ids => $6, p_counts => $7, p_seat_nos => $8, p_seat_requests => $9, p_seat_ids => $10,
                          p_token_hashes => $11, p_customer_refs => $12, p_scopes => NULL, p_claims => NULL,
                          p_answer_statuses => NULL, p_answer_bodies => NULL, p_answer_locations => NULL,
                          p_types_version => $13, p_lines => $14::jsonb[], p_totals => $15)`,
    [
      show,
      options.ttl ?? 120,
      options.now ?? AT,
      options.mapVersion ?? state.rows[0]!.map_version,
      options.version ?? state.rows[0]!.version,
      chosen.map(() => randomUUID()),
      chosen.map((seatNos) => seatNos.length),
      chosen.flat(),
      chosen.flatMap((seatNos, index) => seatNos.map(() => index + 1)),
      chosen.flat().map((seatNo) => `S-?-${seatNo}`),
      chosen.map(() => randomBytes(32)),
      options.refs ?? chosen.map(() => null),
      options.typesVersion ?? (await typesVersion(db, show)),
      (options.lines ?? chosen.map((seatNos) => standardLines(seatNos.length))).map((lines) => JSON.stringify(lines)),
      options.totals ?? chosen.map(() => 0),
    ],
  );
  return rows;
}

/** The show's counters and what its bookings add up to. */
export async function counters(db: pg.Client, show: string) {
  const { rows } = await db.query<{ held: number; sold: number; blocked: number; seat_version: string }>(
    `SELECT held_seats AS held, confirmed_seats AS sold, blocked_seats AS blocked, seat_version::text
     FROM shows WHERE id = $1`,
    [show],
  );
  return rows[0]!;
}

/** Each seat's state, in seat order (F free, H held, S sold, B blocked). */
export async function seatStates(db: pg.Client, show: string): Promise<string> {
  const { rows } = await db.query<{ states: string }>(
    `SELECT string_agg(state::text, '' ORDER BY seat_no) AS states FROM seats WHERE show_id = $1`,
    [show],
  );
  return rows[0]!.states;
}

/** The status each booking's row has, by id. */
export async function statuses(db: pg.Client, ids: (string | null)[]): Promise<Record<string, string>> {
  const { rows } = await db.query<{ id: string; status: string }>(
    'SELECT id, status::text FROM bookings WHERE id = ANY ($1::uuid[])',
    [ids.filter((id) => id !== null)],
  );
  return Object.fromEntries(rows.map((row) => [row.id, row.status]));
}

/** The outbox events of the show, oldest first: their types. */
export async function eventTypes(db: pg.Client, show: string): Promise<string[]> {
  const { rows } = await db.query<{ type: string }>('SELECT type FROM outbox_events WHERE show_id = $1 ORDER BY seq', [
    show,
  ]);
  return rows.map((row) => row.type);
}

/** The deferred checks (a booking owns exactly its seats) run now, as they would at commit. */
export async function checkConstraints(db: pg.Client): Promise<void> {
  await db.query('SET CONSTRAINTS ALL IMMEDIATE');
  await db.query('SET CONSTRAINTS ALL DEFERRED');
}

/** The error `work` fails with, the transaction carrying on as before it (a savepoint). */
export async function failure(db: pg.Client, work: () => Promise<unknown>): Promise<Error> {
  await db.query('SAVEPOINT failing');
  try {
    await work();
  } catch (error) {
    await db.query('ROLLBACK TO SAVEPOINT failing');
    return error as Error;
  }
  await db.query('RELEASE SAVEPOINT failing');
  throw new Error('expected it to fail');
}
