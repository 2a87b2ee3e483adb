import { expect, it } from 'vitest';
import { sqlTests } from './support.js';

// plpgsql_check (Debian's postgresql-15-plpgsql-check, which .ci/run installs) over every PL/pgSQL
// function of core: what CREATE FUNCTION does not check (a column that does not exist, a type that
// does not fit, a variable never used) fails here, not on the night. Trigger functions are checked
// against their table and transition tables.
const { db } = sqlTests();

it('finds nothing wrong in any function of core', async () => {
  const client = db();
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS plpgsql_check');
  } catch (error) {
    throw new Error(
      `plpgsql_check is not installed on this PostgreSQL (apt-get install postgresql-15-plpgsql-check): ${(error as Error).message}`,
      { cause: error },
    );
  }
  const { rows: functions } = await client.query<{ name: string }>(
    `SELECT p.oid::regprocedure::text AS name FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
     WHERE p.pronamespace = 'core'::regnamespace AND l.lanname = 'plpgsql' ORDER BY 1`,
  );
  expect(functions.length).toBeGreaterThan(10);
  const { rows } = await client.query<{ fn: string; level: string; message: string; lineno: number | null }>(
    `WITH targets AS (
       SELECT p.oid, t.tgrelid AS relid,
              CASE WHEN t.tgoldtable IS NOT NULL THEN t.tgoldtable::text END AS old_table,
              CASE WHEN t.tgnewtable IS NOT NULL THEN t.tgnewtable::text END AS new_table
       FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
       LEFT JOIN LATERAL (SELECT * FROM pg_trigger t WHERE t.tgfoid = p.oid LIMIT 1) t ON true
       WHERE p.pronamespace = 'core'::regnamespace AND l.lanname = 'plpgsql')
     SELECT t.oid::regprocedure::text AS fn, r.level, r.message, r.lineno
     FROM targets t
     CROSS JOIN LATERAL plpgsql_check_function_tb(t.oid, coalesce(t.relid, 0), oldtable => t.old_table,
                                                  newtable => t.new_table, extra_warnings => true) r`,
  );
  expect(rows).toEqual([]);
});
