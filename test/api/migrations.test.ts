import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import { afterAll, describe, expect, it, inject } from 'vitest';
import { applyCore, coreSources, functionsDir } from '../../src/adapters/postgres/core.js';
import { migrate, migrationsDir } from '../../src/adapters/postgres/migrate.js';
import { databaseUrl } from '../global-setup.js';
import { buildTestApp, testConfig } from '../helpers.js';
import { admin } from '../support/api.js';
import { createPool, poolLimits } from '../../src/adapters/postgres/pool.js';
import { ShowRepository } from '../../src/repositories/show.repository.js';

// The schema as code: migrations (tables) squashed into a baseline at 416a59a, and the database's
// functions applied from db/functions after them. A database migrated by 416a59a upgrades to exactly
// the schema a new one gets, with its data; there are no down migrations.

const admins: pg.Client[] = [];
const dropped: string[] = [];

async function emptyDatabase(): Promise<{ url: string; client: pg.Client }> {
  const adminClient = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
  await adminClient.connect();
  admins.push(adminClient);
  const name = `seat_hold_migrations_${randomBytes(5).toString('hex')}`;
  await adminClient.query(`CREATE DATABASE ${name}`);
  dropped.push(name);
  const url = databaseUrl(inject('adminDatabaseUrl'), name);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  admins.push(client);
  return { url, client };
}

afterAll(async () => {
  const [first] = admins;
  for (const client of admins.slice(1).reverse()) await client.end().catch(() => {});
  for (const name of dropped) await first?.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await first?.end();
});

/** Everything that makes a schema, one line per object, as the catalogs describe it (bookkeeping aside). */
async function schemaOf(client: pg.Client): Promise<string[]> {
  const { rows } = await client.query<{ line: string }>(`
    SELECT format('column %s.%s %s %s default %s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                  CASE WHEN a.attnotnull THEN 'not null' ELSE 'null' END, pg_get_expr(d.adbin, d.adrelid)) AS line
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE n.nspname IN ('public', 'core') AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
      AND c.relname NOT IN ('pgmigrations', 'sources')
    UNION ALL
    SELECT format('column order %s: %s', c.relname, string_agg(a.attname, ', ' ORDER BY a.attnum))
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped AND c.relname <> 'pgmigrations'
    GROUP BY c.relname
    UNION ALL
    SELECT format('constraint %s.%s %s', c.relname, k.conname, pg_get_constraintdef(k.oid))
    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname IN ('public', 'core') AND c.relname NOT IN ('pgmigrations', 'sources')
    UNION ALL
    SELECT format('index %s', pg_get_indexdef(i.indexrelid))
    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname IN ('public', 'core') AND c.relname NOT IN ('pgmigrations', 'sources')
    UNION ALL
    SELECT format('trigger %s', pg_get_triggerdef(t.oid)) FROM pg_trigger t WHERE NOT t.tgisinternal
    UNION ALL
    SELECT format('function %s', pg_get_functiondef(p.oid))
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname IN ('public', 'core')
    UNION ALL
    SELECT format('type %s.%s %s', n.nspname, t.typname, t.typtype)
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace LEFT JOIN pg_class c ON c.oid = t.typrelid
    WHERE n.nspname IN ('public', 'core') AND (t.typtype = 'e' OR c.relkind = 'c')
    UNION ALL
    SELECT format('enum %s', string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder))
    FROM pg_enum e GROUP BY e.enumtypid
    ORDER BY 1`);
  return rows.map((row) => row.line);
}

/** A database as seat-hold at 416a59a left it: its schema and migration rows (pg_dump), and some sales. */
async function databaseAt416a59a() {
  const database = await emptyDatabase();
  const dump = gunzipSync(readFileSync(new URL('../fixtures/schema-at-416a59a.sql.gz', import.meta.url))).toString();
  await database.client.query(dump);
  await database.client.query("SELECT pg_catalog.set_config('search_path', '\"$user\", public', false)");
  return database;
}

describe('a database migrated at 416a59a', () => {
  it('upgrades to exactly the schema of a new one, its functions moved to core, its sales intact and sellable', async () => {
    const old = await databaseAt416a59a();
    // Sales made by 416a59a's own functions: a hold, a confirmed booking and a seated hold.
    const { rows: made } = await old.client.query<{ ga: string; seated: string }>(`
      WITH ga AS (
        INSERT INTO shows (title, start_time, total_seats) VALUES ('Old', now() + interval '1 day', 10) RETURNING id),
      seated AS (
        INSERT INTO shows (title, start_time, total_seats, seat_map)
        VALUES ('Old seated', now() + interval '1 day', 3,
                '{"sections":[{"name":"S","rows":[{"label":"A","seats":3,"category":"standard"}]}]}')
        RETURNING id),
      categories AS (INSERT INTO show_categories (show_id, category, name, total_seats) SELECT id, 1, 'standard', 3 FROM seated),
      seats AS (INSERT INTO seats (show_id, seat_no, category) SELECT id, n, 1 FROM seated, generate_series(0, 2) n)
      SELECT (SELECT id FROM ga) AS ga, (SELECT id FROM seated) AS seated`);
    const { ga, seated } = made[0]!;
    const token = Buffer.alloc(32, 7);
    const held = await old.client.query<{ id: string; outcome: string }>(
      `SELECT id, outcome FROM public.hold_group($1, 600, NULL, ARRAY[gen_random_uuid(), gen_random_uuid()],
         ARRAY[2, 3], ARRAY[$2::bytea, $2::bytea], ARRAY[NULL, NULL]::text[], NULL, NULL, NULL, NULL, NULL)`,
      [ga, token],
    );
    expect(held.rows.map((row) => row.outcome)).toEqual(['held', 'held']);
    await old.client.query(`UPDATE bookings SET status = 'CONFIRMED', updated_at = now() WHERE id = $1`, [
      held.rows[0]!.id,
    ]);
    await old.client.query(
      `UPDATE shows SET held_seats = held_seats - 2, confirmed_seats = confirmed_seats + 2 WHERE id = $1`,
      [ga],
    );
    const seatedHold = await old.client.query<{ id: string; outcome: string }>(
      `SELECT id, outcome FROM public.hold_seats($1, 600, NULL, 0, 0, ARRAY[gen_random_uuid()], ARRAY[1], ARRAY[1],
         ARRAY[1], ARRAY['S-A-2'], ARRAY[$2::bytea], ARRAY[NULL]::text[], NULL, NULL, NULL, NULL, NULL)`,
      [seated, token],
    );
    expect(seatedHold.rows[0]!.outcome).toBe('held');

    const messages: string[] = [];
    await migrate(old.url, (message) => messages.push(message));
    expect(messages).toContain('adopted a database migrated at 416a59a: its 7 migrations are the baseline now');
    const { rows: migrations } = await old.client.query<{ name: string }>(
      'SELECT name FROM pgmigrations ORDER BY run_on, id',
    );
    expect(migrations.map((row) => row.name)).toEqual([
      '1765000000000_baseline',
      '1765100000000_outbox-seat-changes-by-show',
      '1765200000000_ticket-types',
      '1765300000000_booking-lines',
    ]);

    const fresh = await emptyDatabase();
    await migrate(fresh.url);
    // Exactly the same tables, columns in the same order, constraints, indexes, triggers and functions;
    // nothing of the old functions left in public.
    expect(await schemaOf(old.client)).toEqual(await schemaOf(fresh.client));
    const { rows: publicFunctions } = await old.client.query(
      `SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace`,
    );
    expect(publicFunctions).toEqual([]);

    // The upgraded database sells through the current code: the old hold confirms, the seated one
    // keeps its seat, and every counter matches.
    const config = testConfig({ DATABASE_URL: old.url });
    const pool = createPool(old.url, poolLimits(config));
    const { app } = await buildTestApp(config, pool);
    try {
      const confirm = await app.inject({
        method: 'POST',
        url: `/api/bookings/${held.rows[1]!.id}/confirm`,
        headers: admin,
      });
      expect(confirm.statusCode, confirm.body).toBe(200);
      // Held before prices existed: one line of the show's first type, at no price.
      expect(confirm.json()).toMatchObject({
        currency: 'EUR',
        lines: [{ type: 'standard', name: 'Admission', quantity: 3, unit_price: 0 }],
        total: 0,
      });
      // Made before prices existed: in EUR, with the one free type every show without types has.
      expect((await app.inject({ method: 'GET', url: `/api/shows/${ga}` })).json()).toMatchObject({
        available_seats: 5,
        currency: 'EUR',
        ticket_types: [{ code: 'standard', name: 'Admission', price: 0, available: 5 }],
      });
      const taken = await app.inject({
        method: 'POST',
        url: `/api/shows/${seated}/book`,
        payload: { seat_ids: ['S-A-2'] },
      });
      expect(taken.statusCode).toBe(409);
      const other = await app.inject({
        method: 'POST',
        url: `/api/shows/${seated}/book`,
        payload: { seat_ids: ['S-A-3'] },
      });
      expect(other.statusCode, other.body).toBe(201);
      const checked = await new ShowRepository(pool).counterMismatches();
      expect(checked).toEqual({ checked: 2, mismatches: [], seatMismatches: [] });
    } finally {
      await app.close();
      await pool.end();
    }
  });

  it('one migrated part way to 416a59a is refused, saying what to do, and left as it was', async () => {
    const old = await databaseAt416a59a();
    await old.client.query(`DELETE FROM pgmigrations WHERE name = '1764500000000_webhooks'`);
    await expect(migrate(old.url)).rejects.toThrow(
      /migrated by a seat-hold older than 416a59a .*start seat-hold 416a59a on it once, then this version/,
    );
    const { rows } = await old.client.query(`SELECT count(*)::int AS n FROM pg_proc WHERE proname = 'hold_group'`);
    expect(rows[0]).toEqual({ n: 1 });
  });
});

describe('migrations', () => {
  it('have no down: node-pg-migrate refuses to undo one, and the schema is left whole', async () => {
    const database = await emptyDatabase();
    await migrate(database.url);
    const before = await schemaOf(database.client);
    await expect(
      runner({
        databaseUrl: database.url,
        dir: migrationsDir,
        direction: 'down',
        migrationsTable: 'pgmigrations',
        count: 1,
        log: () => {},
      }),
    ).rejects.toThrow(/disabled down migration/);
    expect(await schemaOf(database.client)).toEqual(before);
  });

  it('npm run migrate -- down says there are none and exits 1', async () => {
    const { spawnSync } = await import('node:child_process');
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/migrate.ts', 'down'], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: 'postgres://127.0.0.1:1/none' },
      encoding: 'utf8',
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /seat-hold has no down migrations: undo a schema change with a new forward migration/,
    );
  });

  it('hold tables only: every function and trigger is defined in db/functions, one file each, once', () => {
    const definitions = new Map<string, string[]>();
    const note = (name: string, file: string) => definitions.set(name, [...(definitions.get(name) ?? []), file]);
    for (const dir of [migrationsDir, functionsDir]) {
      for (const source of coreSources(dir).slice(1)) {
        const file = path.relative(process.cwd(), path.join(dir, source.name));
        for (const match of source.sql.matchAll(
          /create\s+(?:or\s+replace\s+)?(?:constraint\s+)?(function|trigger)\s+([\w.]+)/gi,
        )) {
          note(`${match[1]!.toLowerCase()} ${match[2]!.toLowerCase()}`, file);
          if (dir === migrationsDir)
            throw new Error(`${file} creates ${match[1]} ${match[2]}: functions live in db/functions`);
        }
      }
    }
    for (const [name, files] of definitions) expect({ name, files }).toEqual({ name, files: [files[0]] });
    expect(definitions.size).toBeGreaterThan(15);
  });
});

describe('db/functions', () => {
  it('are applied again, whole, when a file changes, and left alone when none did', async () => {
    const database = await emptyDatabase();
    await migrate(database.url);
    const applied = async () =>
      (await database.client.query<{ at: Date }>('SELECT max(applied_at) AS at FROM core.sources')).rows[0]!.at;
    const first = await applied();
    await migrate(database.url); // nothing changed
    expect(await applied()).toEqual(first);

    // A changed file (here: a copy of db/functions with one function more, one less) is applied whole.
    const dir = mkdtempSync(path.join(tmpdir(), 'functions-'));
    try {
      cpSync(functionsDir, dir, { recursive: true });
      rmSync(path.join(dir, 'show_gate.sql'));
      writeFileSync(
        path.join(dir, 'zz_answer.sql'),
        'CREATE FUNCTION core.zz_answer() RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT 42 $$;\n',
      );
      await database.client.query('BEGIN');
      expect(await applyCore(database.client, coreSources(dir))).toBe(true);
      await database.client.query('COMMIT');
      const { rows } = await database.client.query<{ proname: string }>(
        `SELECT proname FROM pg_proc WHERE pronamespace = 'core'::regnamespace AND proname IN ('zz_answer', 'show_gate')`,
      );
      expect(rows).toEqual([{ proname: 'zz_answer' }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // Back to the files as they are, by the migration run of any start.
    await migrate(database.url);
    const { rows: triggers } = await database.client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
       WHERE p.pronamespace = 'core'::regnamespace`,
    );
    expect(triggers[0]!.n).toBe(8);
  });

  it('refuse to be applied again over something outside core that depends on them, naming it', async () => {
    const database = await emptyDatabase();
    await migrate(database.url);
    await database.client.query(
      `CREATE VIEW lapsed_holds AS SELECT id FROM bookings WHERE core.lapsed(status, expires_at, now())`,
    );
    await database.client.query('BEGIN');
    await expect(applyCore(database.client)).resolves.toBe(false); // unchanged: nothing to do
    await database.client.query("UPDATE core.sources SET checksum = 'changed' WHERE name = 'lapsed.sql'");
    await expect(applyCore(database.client)).rejects.toThrow(
      /db\/functions cannot be applied again: view lapsed_holds depends on function core\.lapsed/,
    );
    await database.client.query('ROLLBACK');
  });
});
