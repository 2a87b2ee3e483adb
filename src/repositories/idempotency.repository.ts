import type { Pool, PoolClient } from '../adapters/postgres/pool.js';

/** How long a claimed key, whose answer is not recorded yet, keeps retries out, by default. */
const DEFAULT_LEASE_SECONDS = 60;
/** How long an Idempotency-Key and its answer are kept. */
export const KEY_RETENTION_HOURS = 24;

export interface ClaimRef {
  scopeHash: Buffer;
  claimId: string;
}

export interface RecordedResponse {
  statusCode: number;
  body: string;
  location: string | null;
}

export interface KeyRecord {
  requestHash: Buffer;
  /** Absent while the first request is still in flight. */
  response?: RecordedResponse;
}

export class IdempotencyRepository {
  /** leaseSeconds: longer than any request still running can take (config.longestRequestMs). */
  constructor(
    private readonly pool: Pool,
    private readonly leaseSeconds = DEFAULT_LEASE_SECONDS,
  ) {}

  /**
   * Claims the key for this request: a new key, a key past retention, or a claim whose
   * lease ran out without an answer (its process died) for the same request. False when
   * the key is held by a live claim or already answered.
   */
  async claim(ref: ClaimRef, requestHash: Buffer): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `INSERT INTO idempotency_keys (scope_hash, request_hash, claim_id, locked_until)
       VALUES ($1, $2, $3, statement_timestamp() + make_interval(secs => $4))
       ON CONFLICT (scope_hash) DO UPDATE SET
         request_hash = EXCLUDED.request_hash, claim_id = EXCLUDED.claim_id,
         locked_until = EXCLUDED.locked_until, created_at = statement_timestamp(),
         status_code = NULL, body = NULL, location = NULL
       WHERE idempotency_keys.created_at < statement_timestamp() - make_interval(hours => ${KEY_RETENTION_HOURS})
          OR (idempotency_keys.status_code IS NULL
              AND idempotency_keys.locked_until < statement_timestamp()
              AND idempotency_keys.request_hash = EXCLUDED.request_hash)`,
      [ref.scopeHash, requestHash, ref.claimId, this.leaseSeconds],
    );
    return rowCount === 1;
  }

  async find(scopeHash: Buffer): Promise<KeyRecord | null> {
    const { rows } = await this.pool.query<{
      request_hash: Buffer;
      status_code: number | null;
      body: string | null;
      location: string | null;
    }>(`SELECT request_hash, status_code, body, location FROM idempotency_keys WHERE scope_hash = $1`, [scopeHash]);
    const row = rows[0];
    if (!row) return null;
    if (row.status_code === null || row.body === null) return { requestHash: row.request_hash };
    return {
      requestHash: row.request_hash,
      response: { statusCode: row.status_code, body: row.body, location: row.location },
    };
  }

  /**
   * Of these claims, locks those that still own their key unanswered and returns their
   * claim ids. Once locked, no retry can take a key over before this transaction records
   * its answer or rolls back. Two claims on one key (a request and the retry that took
   * it over) can be asked about together: only the current owner's id comes back.
   */
  async lockOwned(client: PoolClient, refs: ClaimRef[]): Promise<Set<string>> {
    const { rows } = await client.query<{ claim_id: string }>(
      `SELECT k.claim_id FROM idempotency_keys k
       JOIN unnest($1::bytea[], $2::uuid[]) AS c(scope_hash, claim_id)
         ON k.scope_hash = c.scope_hash AND k.claim_id = c.claim_id
       WHERE k.status_code IS NULL
       FOR UPDATE OF k`,
      [refs.map((ref) => ref.scopeHash), refs.map((ref) => ref.claimId)],
    );
    return new Set(rows.map((row) => row.claim_id));
  }

  /**
   * Records the answers of claims that still own their keys; returns how many were
   * recorded. Given the effect's transaction, answer and effect commit together.
   */
  async record(entries: { ref: ClaimRef; response: RecordedResponse }[], client?: PoolClient): Promise<number> {
    if (entries.length === 0) return 0;
    const { rowCount } = await (client ?? this.pool).query(
      `UPDATE idempotency_keys k SET status_code = r.status_code, body = r.body, location = r.location
       FROM unnest($1::bytea[], $2::uuid[], $3::int[], $4::text[], $5::text[])
         AS r(scope_hash, claim_id, status_code, body, location)
       WHERE k.scope_hash = r.scope_hash AND k.claim_id = r.claim_id AND k.status_code IS NULL`,
      [
        entries.map((entry) => entry.ref.scopeHash),
        entries.map((entry) => entry.ref.claimId),
        entries.map((entry) => entry.response.statusCode),
        entries.map((entry) => entry.response.body),
        entries.map((entry) => entry.response.location),
      ],
    );
    return rowCount ?? 0;
  }

  /** Gives an unanswered key back, so the request can be retried with it at once. */
  async release(ref: ClaimRef): Promise<void> {
    await this.pool.query(
      `DELETE FROM idempotency_keys WHERE scope_hash = $1 AND claim_id = $2 AND status_code IS NULL`,
      [ref.scopeHash, ref.claimId],
    );
  }

  /** Deletes keys past retention, at most `limit` of them; returns how many. */
  async purgeExpired(limit: number): Promise<number> {
    const { rowCount } = await this.pool.query(
      `DELETE FROM idempotency_keys WHERE scope_hash IN (
         SELECT scope_hash FROM idempotency_keys
         WHERE created_at < statement_timestamp() - make_interval(hours => ${KEY_RETENTION_HOURS})
         LIMIT $1)`,
      [limit],
    );
    return rowCount ?? 0;
  }
}
