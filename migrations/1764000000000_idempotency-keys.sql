-- Up Migration

-- One row per Idempotency-Key, per caller and route. A request first claims its
-- row (claim_id, locked_until); its answer is written in the same transaction as
-- its effect, and only by the claim that still owns the row, so a retry can never
-- produce a second effect. A claim abandoned by a crashed process is taken over by
-- a retry once locked_until has passed.
CREATE TABLE idempotency_keys (
  -- SHA-256 of (caller, method, path, key): the key itself is not stored.
  scope_hash    bytea       PRIMARY KEY CHECK (octet_length(scope_hash) = 32),
  -- SHA-256 of the request body: the same key with another body is refused.
  request_hash  bytea       NOT NULL CHECK (octet_length(request_hash) = 32),
  claim_id      uuid        NOT NULL,
  locked_until  timestamptz NOT NULL,
  -- The answer to replay; NULL while the first request is still in flight.
  status_code   integer,
  -- Secrets in it (hold_token) are sealed with a key derived from the
  -- Idempotency-Key, which only the client knows.
  body          text,
  location      text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  CHECK ((status_code IS NULL) = (body IS NULL))
);

-- Purging keys older than 24 hours.
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

-- Down Migration

DROP TABLE idempotency_keys;
