import { createCipheriv, createDecipheriv, createHash, randomBytes, randomUUID } from 'node:crypto';
import type { PoolClient } from '../adapters/postgres/pool.js';
import { AppError } from '../errors.js';
import type { ClaimRef, IdempotencyRepository, RecordedResponse } from '../repositories/idempotency.repository.js';

/** Who sent an Idempotency-Key, to which route, and the key. */
export interface KeyScope {
  caller: string;
  method: string;
  path: string;
  key: string;
}

/** This request's hold on its key, until its answer is recorded or the key released. */
export interface IdempotencyClaim extends ClaimRef {
  /** Derived from the raw key, which is never stored: seals secrets in the recorded answer. */
  sealKey: Buffer;
  /** Set once the answer is written (in the effect's transaction). */
  recorded: boolean;
}

/** The answer a route gives for a result, to record and replay. */
export interface Answer {
  statusCode: number;
  body: Record<string, unknown>;
  location?: string;
}

/** Handed to a service so it records the answer in the same transaction as the effect. */
export interface Recorder<T> {
  claim: IdempotencyClaim;
  answer(result: T): Answer;
}

export interface Replay {
  statusCode: number;
  body: Record<string, unknown>;
  location: string | null;
}

export type Begin = { claim: IdempotencyClaim; replay?: undefined } | { replay: Replay; claim?: undefined };

// Answer fields that are secrets: stored sealed (AES-256-GCM) under a key only the client holds.
const SEALED_FIELDS = ['hold_token'];
const SEALED_PREFIX = 'sealed:';
const PURGE_BATCH = 5_000;

function digest(...parts: string[]): Buffer {
  const hash = createHash('sha256');
  // Length-prefixed so that no two different part lists hash alike.
  for (const part of parts) hash.update(`${Buffer.byteLength(part)}:${part}`);
  return hash.digest();
}

/** JSON with object keys sorted, so that the same body always hashes alike. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function seal(value: string, key: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const sealed = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return SEALED_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
}

function unseal(value: string, key: Buffer): string {
  const bytes = Buffer.from(value.slice(SEALED_PREFIX.length), 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
  decipher.setAuthTag(bytes.subarray(12, 28));
  return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
}

/**
 * Idempotency-Key handling. A request claims its key before it runs; its answer is
 * recorded in the transaction of its effect, only while the claim still owns the key, so
 * however requests race, crash and retry, one key yields at most one effect. A retry gets
 * the recorded answer back, or 409 while the first is in flight, or 422 if its body differs.
 */
export class IdempotencyService {
  constructor(private readonly keys: IdempotencyRepository) {}

  async begin(scope: KeyScope, body: unknown): Promise<Begin> {
    const scopeHash = digest('scope', scope.caller, scope.method, scope.path, scope.key);
    const requestHash = digest('request', canonicalJson(body ?? null));
    const claim: IdempotencyClaim = {
      scopeHash,
      claimId: randomUUID(),
      sealKey: digest('seal', scope.caller, scope.method, scope.path, scope.key),
      recorded: false,
    };
    // Two tries: the key can be released between a failed claim and the look-up.
    for (let attempt = 0; attempt < 2; attempt++) {
      if (await this.keys.claim(claim, requestHash)) return { claim };
      const existing = await this.keys.find(scopeHash);
      if (!existing) continue;
      if (!existing.requestHash.equals(requestHash)) {
        throw new AppError(
          'idempotency_key_reused',
          'This Idempotency-Key was used with a different request; use a new key for a new request',
        );
      }
      if (!existing.response) break;
      const { statusCode, body, location } = existing.response;
      return { replay: { statusCode, body: this.open(JSON.parse(body) as Record<string, unknown>, claim), location } };
    }
    throw new AppError('idempotency_in_progress', 'A request with this Idempotency-Key is still being processed');
  }

  /** Records the answer inside the effect's transaction; a claim that lost its key aborts it. */
  async recordWithin<T>(client: PoolClient, recorder: Recorder<T>, result: T): Promise<void> {
    const recorded = await this.keys.record(
      [{ ref: recorder.claim, response: this.toRecord(recorder.claim, recorder.answer(result)) }],
      client,
    );
    if (recorded !== 1) throw new AppError('idempotency_in_progress', 'The Idempotency-Key was taken over by a retry');
    // claim.recorded is set by the caller once the transaction committed: rolled back, the key must stay releasable.
  }

  /**
   * For requests sharing one transaction (a hold group): locks the keys these claims still
   * own, so none can be taken over before the transaction ends, and returns those claims.
   */
  async lockOwned(client: PoolClient, claims: IdempotencyClaim[]): Promise<Set<IdempotencyClaim>> {
    const owned = await this.keys.lockOwned(client, claims);
    return new Set(claims.filter((claim) => owned.has(claim.claimId)));
  }

  /** Records several answers in one statement, inside the transaction that locked their keys. */
  async recordAllWithin(client: PoolClient, answered: { claim: IdempotencyClaim; answer: Answer }[]): Promise<void> {
    if (answered.length === 0) return;
    const entries = answered.map(({ claim, answer }) => ({ ref: claim, response: this.toRecord(claim, answer) }));
    const recorded = await this.keys.record(entries, client);
    if (recorded !== answered.length)
      throw new Error(`recorded ${recorded} of ${answered.length} locked idempotency keys`);
  }

  /** The recorded form of an answer: JSON with secrets sealed. */
  toRecord(claim: IdempotencyClaim, answer: Answer): RecordedResponse {
    const body: Record<string, unknown> = { ...answer.body };
    for (const field of SEALED_FIELDS) {
      const value = body[field];
      if (typeof value === 'string') body[field] = seal(value, claim.sealKey);
    }
    return { statusCode: answer.statusCode, body: JSON.stringify(body), location: answer.location ?? null };
  }

  /**
   * For answers that changed nothing (a 404, a 422…), after they are sent: recorded when
   * final, released when worth retrying (409, 429, 5xx).
   */
  async settle(claim: IdempotencyClaim, statusCode: number, payload: string, location?: string): Promise<void> {
    if (claim.recorded) return;
    if (statusCode === 409 || statusCode === 429 || statusCode >= 500) {
      await this.keys.release(claim);
      return;
    }
    await this.keys.record([{ ref: claim, response: { statusCode, body: payload, location: location ?? null } }]);
    claim.recorded = true;
  }

  /** Deletes keys past their 24 hours; returns how many. */
  async purgeExpired(): Promise<number> {
    let purged = 0;
    for (;;) {
      const batch = await this.keys.purgeExpired(PURGE_BATCH);
      purged += batch;
      if (batch < PURGE_BATCH) return purged;
    }
  }

  private open(body: Record<string, unknown>, claim: IdempotencyClaim): Record<string, unknown> {
    for (const field of SEALED_FIELDS) {
      const value = body[field];
      if (typeof value === 'string' && value.startsWith(SEALED_PREFIX)) body[field] = unseal(value, claim.sealKey);
    }
    return body;
  }
}
