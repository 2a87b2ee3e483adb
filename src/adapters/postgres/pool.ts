import pg from 'pg';
import type { Logger } from '../../logger.js';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

// timestamptz: a hold group's rows all carry the same three instants (created, expires,
// updated), so parsing the text once per distinct value instead of three times per row saves
// measurable CPU on the hot path. A new Date each time: callers may keep or change it.
const TIMESTAMPTZ = 1184;
const parseTimestamptz = pg.types.getTypeParser(TIMESTAMPTZ) as (text: string) => Date;
let lastText: string | undefined;
let lastTime = 0;
pg.types.setTypeParser(TIMESTAMPTZ, (text: string) => {
  if (text !== lastText) {
    const parsed: unknown = parseTimestamptz(text);
    if (!(parsed instanceof Date)) return parsed; // 'infinity' and '-infinity' parse to numbers
    lastTime = parsed.getTime();
    lastText = text;
  }
  return new Date(lastTime);
});

export interface PoolLimits {
  max: number;
  /** Longest a statement waits for a lock (lock_timeout); 0 for none. */
  lockTimeoutMs: number;
  /** Longest a statement runs, and a transaction sits idle between statements; 0 for none. */
  statementTimeoutMs: number;
}

export function createPool(connectionString: string, limits: PoolLimits, logger?: Logger): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max: limits.max,
    // Fail a request quickly (503) rather than queueing forever when the database is gone.
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    application_name: 'seat-hold',
    // Sent with the connection's start-up, so they cost no round trip. No wait is unbounded:
    // a lock held by a stuck transaction, a runaway statement, a transaction left open by a
    // stalled process (its locks released), a peer gone silent (TCP keepalive).
    lock_timeout: limits.lockTimeoutMs,
    statement_timeout: limits.statementTimeoutMs,
    idle_in_transaction_session_timeout: limits.statementTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
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

/** The pool limits of a configuration, for the API and the worker. */
export function poolLimits(
  config: { DB_POOL_SIZE: number; DB_LOCK_TIMEOUT_MS: number; DB_STATEMENT_TIMEOUT_MS: number },
  max = config.DB_POOL_SIZE,
): PoolLimits {
  return { max, lockTimeoutMs: config.DB_LOCK_TIMEOUT_MS, statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS };
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
