import pg from 'pg';
import type { Pool } from '../../src/adapters/postgres/pool.js';
import { sleep } from '../helpers.js';

/** A show's row locked by a transaction of the test's own, as another process's would hold it. */
export interface ShowLockHeld {
  /** Runs a statement inside the locking transaction (it commits with the release). */
  query(sql: string, values?: unknown[]): Promise<unknown>;
  release(): Promise<void>;
}

/** Takes the show's row lock on a connection of its own (not from the app's pool). */
export async function lockShow(databaseUrl: string, showId: string): Promise<ShowLockHeld> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query('BEGIN');
  await client.query('SELECT 1 FROM shows WHERE id = $1 FOR UPDATE', [showId]);
  return {
    query: (sql, values) => client.query(sql, values),
    async release() {
      await client.query('COMMIT');
      await client.end();
    },
  };
}

/** Waits until `count` backends of this database are blocked on a row lock (within 5 s, or fails). */
export async function lockWaiters(pool: Pool, count: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if (rows[0]!.n >= count) return;
    await sleep(25);
  }
  throw new Error(`fewer than ${count} backends ever waited on a lock`);
}
