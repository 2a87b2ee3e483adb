import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Secrets (hold tokens, the admin key) are kept and compared only as SHA-256 digests. */
export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/** Constant-time comparison of a presented secret with the digest of the real one. */
export function secretMatches(presented: string, expectedHash: Buffer): boolean {
  return timingSafeEqual(hashSecret(presented), expectedHash);
}

const TOKEN_BYTES = 32;

/** count fresh 256-bit tokens (base64url), from one call to the random source. */
export function newTokens(count: number): string[] {
  const bytes = randomBytes(TOKEN_BYTES * count);
  return Array.from({ length: count }, (_, index) =>
    bytes.subarray(index * TOKEN_BYTES, (index + 1) * TOKEN_BYTES).toString('base64url'),
  );
}
