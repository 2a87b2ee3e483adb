import { Type } from 'typebox';

// The canonical textual form only (RFC 9562: 8-4-4-4-12 lowercase hex digits, as
// PostgreSQL and this API write them). The `uuid` format alone also accepts `urn:uuid:…`,
// which PostgreSQL refuses; and one spelling per id keeps one show in one queue and on one
// API process behind the load balancer (which hashes the id as written).
export const UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
export const Uuid = Type.String({ format: 'uuid', pattern: UUID_PATTERN, description: 'UUID, canonical form' });

// pg hands timestamps over as Date; the serializer writes them as ISO 8601 strings.
export const DateTime = (description?: string) =>
  Type.Unsafe<Date>({ type: 'string', format: 'date-time', ...(description ? { description } : {}) });

/** A value read from the database, and how long it stays true if nothing changes (a hold lapsing). */
export interface FreshRead<T> {
  value: T;
  /** Milliseconds from the read's snapshot until its value would differ with no change (Infinity: never). */
  freshForMs: number;
}
