import pg from 'pg';
import type { Logger } from '../logger.js';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export function createPool(connectionString: string, max: number, logger?: Logger): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    // Fail a request quickly (503) rather than queueing forever when the database is gone.
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    application_name: 'seat-hold',
  });
  // An idle client whose backend is terminated emits 'error' on the pool; without a
  // listener that would crash the process. The pool drops the client and makes a new one.
  pool.on('error', (error) => logger?.warn({ err: error }, 'idle database connection lost'));
  // A checked-out client whose backend dies between two queries (pg_terminate_backend, a
  // failover) emits 'error' on itself, which would crash the process unheard. Its next
  // query fails instead, the transaction answers 503, and the client is thrown away.
  pool.on('connect', (client) => {
    client.on('error', (error) => logger?.warn({ err: error }, 'database connection lost'));
  });
  return pool;
}

/** Runs fn in one transaction on one connection; rolls back on any error. */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch {
      broken = true; // the connection itself failed; never hand it out again
    }
    throw error;
  } finally {
    client.release(broken);
  }
}
