import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import {
  bookingCreations,
  bookingLifecycle,
  bookingStatuses,
  isMove,
  type BookingStatus,
  type Move,
} from '../../domain/booking-lifecycle.js';

/**
 * The database's code: every function and trigger, one file each in db/functions/ holding its
 * current version, all in the schema `core`. Migrations hold tables, indexes and data only.
 *
 * After the migrations, the runner compares the files (and the lifecycle table rendered from
 * src/domain/booking-lifecycle.ts) with what the database last applied (core.sources). When any
 * differs, the whole schema is dropped and created again from the files, in one transaction under
 * the migration lock: the database then has exactly the current functions, no leftover overload
 * or renamed function, and a function's signature can change freely. Triggers on the tables go
 * with the functions they call and are created again by their files; anything else outside core
 * that depends on it (a view, a default, a constraint calling a core function) would be dropped
 * silently, so it is refused instead.
 */
export const CORE_SCHEMA = 'core';
export const functionsDir = fileURLToPath(new URL('../../../db/functions', import.meta.url));

export interface CoreSource {
  name: string;
  sql: string;
  checksum: string;
}

/** What core is made of, in the order it is applied: the lifecycle's tables, then each file by name. */
export function coreSources(dir = functionsDir): CoreSource[] {
  const files = readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .sort();
  return [
    source('booking_lifecycle (src/domain/booking-lifecycle.ts)', lifecycleSql()),
    ...files.map((file) => source(file, readFileSync(path.join(dir, file), 'utf8'))),
  ];
}

function source(name: string, sql: string): CoreSource {
  return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
}

const seatState = { held: 'H', sold: 'S', none: null } as const;

/**
 * The lifecycle table as the database reads it: core.booking_statuses (what each status does to
 * its seats, and the status it lapses to at its deadline) and core.booking_transitions (each
 * move: from a status, or from nothing for a booking created, by an action, to a status, recorded
 * as an event). A move out of a status with a deadline is allowed only before it (when_lapsed
 * false), or only after it for `expire` (true).
 */
export function lifecycleSql(): string {
  const literal = (value: string | null) => (value === null ? 'NULL' : `'${value}'`);
  const statuses = bookingStatuses.map((status) => {
    const row = bookingLifecycle[status];
    return `(${literal(status)}, ${literal(row.seats)}, ${literal(seatState[row.seats])}, ${literal(row.lapsesTo ?? null)})`;
  });
  const transitions: string[] = [];
  const actionOf = new Map<string, string>();
  const add = (from: BookingStatus | null, action: string, move: Move) => {
    const key = `${from} ${move.to}`;
    // A row's change is known by its statuses before and after (the outbox's triggers): one move
    // per pair, so that each change has one event.
    if (actionOf.has(key)) {
      throw new Error(`the lifecycle has two moves from ${from} to ${move.to}: ${actionOf.get(key)} and ${action}`);
    }
    actionOf.set(key, action);
    const lapses = from !== null && bookingLifecycle[from].lapsesTo !== undefined;
    const whenLapsed = lapses ? String(action === 'expire') : 'NULL';
    transitions.push(
      `(${literal(from)}, ${literal(action)}, ${literal(move.to)}, ${literal(move.event)}, ${move.late === true}, ${whenLapsed})`,
    );
  };
  for (const [creation, move] of Object.entries(bookingCreations)) add(null, creation, move);
  for (const status of bookingStatuses) {
    for (const [action, entry] of Object.entries(bookingLifecycle[status].on)) {
      if (isMove(entry)) add(status, action, entry);
    }
  }
  return `-- Rendered from src/domain/booking-lifecycle.ts by src/adapters/postgres/core.ts: change it there.
CREATE TABLE core.booking_statuses (
  status     booking_status PRIMARY KEY,
  seats      text NOT NULL CHECK (seats IN ('held', 'sold', 'none')),
  -- The state of the seats a booking in this status owns; NULL: it owns none.
  seat_state "char",
  lapses_to  booking_status
);
INSERT INTO core.booking_statuses (status, seats, seat_state, lapses_to) VALUES
  ${statuses.join(',\n  ')};

CREATE TABLE core.booking_transitions (
  from_status booking_status,
  action      text NOT NULL,
  to_status   booking_status NOT NULL,
  event       text NOT NULL,
  late        boolean NOT NULL,
  when_lapsed boolean,
  UNIQUE NULLS NOT DISTINCT (from_status, action),
  UNIQUE NULLS NOT DISTINCT (from_status, to_status)
);
INSERT INTO core.booking_transitions (from_status, action, to_status, event, late, when_lapsed) VALUES
  ${transitions.join(',\n  ')};
`;
}

/** Applies core if it differs from what the database has; true when it did. Run inside a transaction, under the migration lock. */
export async function applyCore(client: pg.ClientBase, sources = coreSources()): Promise<boolean> {
  const { rows: present } = await client.query<{ present: boolean }>(
    `SELECT to_regclass('${CORE_SCHEMA}.sources') IS NOT NULL AS present`,
  );
  if (present[0]!.present) {
    const { rows } = await client.query<{ name: string; checksum: string }>(
      `SELECT name, checksum FROM ${CORE_SCHEMA}.sources ORDER BY name`,
    );
    const applied = rows.map((row) => `${row.name} ${row.checksum}`).join('\n');
    const wanted = sources
      .map((s) => `${s.name} ${s.checksum}`)
      .sort()
      .join('\n');
    if (applied === wanted) return false;
    await refuseOutsideDependents(client);
  }
  await client.query(`DROP SCHEMA IF EXISTS ${CORE_SCHEMA} CASCADE`);
  await client.query(`CREATE SCHEMA ${CORE_SCHEMA}`);
  // A function may call one defined by a later file; each is checked when it runs (and by plpgsql_check).
  await client.query('SET LOCAL check_function_bodies = off');
  for (const { name, sql } of sources) {
    try {
      await client.query(sql);
    } catch (error) {
      throw new Error(`db/functions: ${name}: ${(error as Error).message}`, { cause: error });
    }
  }
  await client.query(`CREATE TABLE ${CORE_SCHEMA}.sources (
    name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  await client.query(
    `INSERT INTO ${CORE_SCHEMA}.sources (name, checksum) SELECT * FROM unnest($1::text[], $2::text[])`,
    [sources.map((s) => s.name), sources.map((s) => s.checksum)],
  );
  return true;
}

/** What outside core depends on it (triggers aside: their files create them again); dropping core would drop it too. */
async function refuseOutsideDependents(client: pg.ClientBase): Promise<void> {
  const { rows } = await client.query<{ dependent: string; on: string }>(
    `WITH core_objects AS (
       SELECT 'pg_proc'::regclass AS classid, oid AS objid FROM pg_proc WHERE pronamespace = '${CORE_SCHEMA}'::regnamespace
       UNION ALL SELECT 'pg_type'::regclass, oid FROM pg_type WHERE typnamespace = '${CORE_SCHEMA}'::regnamespace
       UNION ALL SELECT 'pg_class'::regclass, oid FROM pg_class WHERE relnamespace = '${CORE_SCHEMA}'::regnamespace),
     dependents AS (
       -- A constraint, default or rule is known by the table or view it belongs to.
       SELECT d.refclassid, d.refobjid, d.classid, d.objid, d.objsubid,
              coalesce(k.conrelid, a.adrelid, r.ev_class) AS relation
       FROM pg_depend d
       LEFT JOIN pg_constraint k ON d.classid = 'pg_constraint'::regclass AND k.oid = d.objid
       LEFT JOIN pg_attrdef a ON d.classid = 'pg_attrdef'::regclass AND a.oid = d.objid
       LEFT JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
       WHERE d.deptype = 'n' AND d.classid <> 'pg_trigger'::regclass)
     SELECT DISTINCT
            CASE WHEN d.relation IS NULL THEN pg_describe_object(d.classid, d.objid, d.objsubid)
                 ELSE pg_describe_object('pg_class'::regclass, d.relation, 0) END AS dependent,
            pg_describe_object(d.refclassid, d.refobjid, 0) AS on
     FROM dependents d JOIN core_objects o ON o.classid = d.refclassid AND o.objid = d.refobjid
     WHERE NOT EXISTS (SELECT 1 FROM core_objects x WHERE x.classid = d.classid AND x.objid = d.objid)
       AND NOT EXISTS (SELECT 1 FROM core_objects x WHERE x.classid = 'pg_class'::regclass AND x.objid = d.relation)
     ORDER BY 1`,
  );
  if (rows.length > 0) {
    throw new Error(
      `db/functions cannot be applied again: ${rows.map((row) => `${row.dependent} depends on ${row.on}`).join('; ')}. ` +
        'Only triggers may depend on the core schema (they are created again with it): drop those objects in a migration first.',
    );
  }
}
