import type { Pool } from '../../src/adapters/postgres/pool.js';

/**
 * Time moved, not waited for. A hold is made to have lapsed by moving its deadline, and with it its
 * creation, into the past in the database, as the clock running on would leave it: nothing is
 * recorded for the move (no outbox event, the triggers are off for its statement) and no process is
 * told, exactly as when time passes. Every deadline is judged by the database clock, so the hold is
 * then lapsed for every reader and writer at once.
 */
export async function lapse(pool: Pool, ids: string | string[], secondsAgo = 0.05): Promise<void> {
  await moveBack(
    pool,
    `UPDATE bookings
     SET created_at = created_at - (expires_at - (statement_timestamp() - make_interval(secs => $2))),
         expires_at = statement_timestamp() - make_interval(secs => $2)
     WHERE id = ANY ($1::uuid[])`,
    ids,
    secondsAgo,
  );
}

/** Moves bookings' creation and deadline `seconds` into the past: as if that much time had passed since. */
export async function shift(pool: Pool, ids: string | string[], seconds: number): Promise<void> {
  await moveBack(
    pool,
    `UPDATE bookings SET created_at = created_at - make_interval(secs => $2),
                         expires_at = expires_at - make_interval(secs => $2)
     WHERE id = ANY ($1::uuid[])`,
    ids,
    seconds,
  );
}

/** Moves bookings' creation `seconds` into the past, their deadline kept: made that long ago, still live. */
export async function age(pool: Pool, ids: string | string[], seconds: number): Promise<void> {
  await moveBack(
    pool,
    `UPDATE bookings SET created_at = created_at - make_interval(secs => $2) WHERE id = ANY ($1::uuid[])`,
    ids,
    seconds,
  );
}

async function moveBack(pool: Pool, sql: string, ids: string | string[], seconds: number): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // What time does, not a change of the service's: no trigger records it.
    await client.query('SET LOCAL session_replication_role = replica');
    const { rowCount } = await client.query(sql, [Array.isArray(ids) ? ids : [ids], seconds]);
    if (rowCount !== (Array.isArray(ids) ? ids.length : 1))
      throw new Error(`moved ${rowCount} of ${ids.length} bookings`);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}
