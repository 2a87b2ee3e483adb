import { Type } from 'typebox';

// The canonical textual form only (RFC 9562: 8-4-4-4-12 hex digits, either case). The
// `uuid` format alone also accepts `urn:uuid:…`, which PostgreSQL refuses.
export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
export const Uuid = Type.String({ format: 'uuid', pattern: UUID_PATTERN, description: 'UUID, canonical form' });

// pg hands timestamps over as Date; the serializer writes them as ISO 8601 strings.
export const DateTime = (description?: string) =>
  Type.Unsafe<Date>({ type: 'string', format: 'date-time', ...(description ? { description } : {}) });
