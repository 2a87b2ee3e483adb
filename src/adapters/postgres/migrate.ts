import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PG_MIGRATE_LOCK_ID, runner } from 'node-pg-migrate';
import { applyCore } from './core.js';

export const migrationsDir = fileURLToPath(new URL('../../../db/migrations', import.meta.url));

const MIGRATIONS_TABLE = 'pgmigrations';
const BASELINE = '1765000000000_baseline';
/** The migrations squashed into the baseline, as a database migrated at 416a59a lists them. */
const SQUASHED = [
  '1763900000000_init',
  '1764000000000_idempotency-keys',
  '1764100000000_hold-group',
  '1764200000000_seat-maps',
  '1764300000000_checkout',
  '1764400000000_outbox',
  '1764500000000_webhooks',
];

/**
 * Brings the database up to date: the table migrations (db/migrations, node-pg-migrate), then the
 * database's code (db/functions, core.ts). All of it under one advisory lock (the one
 * node-pg-migrate itself takes), on which other instances starting at once wait, so several
 * processes may start together: each step runs exactly once and all of them start.
 */
export async function migrate(databaseUrl: string, log: (message: string) => void = () => {}): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PG_MIGRATE_LOCK_ID]);
    await inTransaction(client, () => adoptSquashed(client, log));
    await runner({
      dbClient: client,
      noLock: true,
      dir: migrationsDir,
      direction: 'up',
      migrationsTable: MIGRATIONS_TABLE,
      count: Infinity,
      singleTransaction: true,
      log,
      verbose: false,
    });
    if (await inTransaction(client, () => applyCore(client))) log('db/functions applied');
  } finally {
    await client.end(); // ends the session, and with it the advisory lock
  }
}

/**
 * There are no down migrations (see the baseline): a schema change is undone by a forward
 * migration or a backup, never by a script that could drop what was sold.
 */
export function refuseDown(): never {
  throw new Error(
    'seat-hold has no down migrations: undo a schema change with a new forward migration, or restore a backup',
  );
}

/**
 * A database migrated by seat-hold at 416a59a has the seven migrations the baseline squashed, and
 * the functions and triggers they created in the public schema: its rows become the baseline's and
 * those functions are dropped (core creates their current versions). A database part way through
 * those seven is refused: start 416a59a on it once first.
 */
async function adoptSquashed(client: pg.ClientBase, log: (message: string) => void): Promise<void> {
  const { rows: table } = await client.query<{ present: boolean }>(
    `SELECT to_regclass('public.${MIGRATIONS_TABLE}') IS NOT NULL AS present`,
  );
  if (!table[0]!.present) return;
  const { rows } = await client.query<{ name: string }>(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY run_on, id`);
  const names = rows.map((row) => row.name);
  if (!names.some((name) => SQUASHED.includes(name))) return;
  if (names.slice(0, SQUASHED.length).join() !== SQUASHED.join()) {
    throw new Error(
      `This database was migrated by a seat-hold older than 416a59a (${names.join(', ')}): ` +
        'start seat-hold 416a59a on it once, then this version.',
    );
  }
  await client.query(
    `DROP FUNCTION IF EXISTS public.hold_groups, public.hold_group, public.hold_seats, public.hold_gate,
       public.record_hold_answers, public.confirm_late, public.remap_seats, public.seats_count_categories,
       public.booking_seats_owned, public.bookings_record_inserts, public.bookings_record_updates,
       public.shows_record_events, public.seat_blocks_record_events CASCADE`,
  );
  await client.query('DROP TYPE IF EXISTS public.hold_group_result, public.hold_seats_result');
  await client.query(`DELETE FROM ${MIGRATIONS_TABLE} WHERE name = ANY ($1::text[])`, [SQUASHED]);
  await client.query(`INSERT INTO ${MIGRATIONS_TABLE} (name, run_on) VALUES ($1, now())`, [BASELINE]);
  log(`adopted a database migrated at 416a59a: its ${SQUASHED.length} migrations are the baseline now`);
}

async function inTransaction<T>(client: pg.ClientBase, work: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}
