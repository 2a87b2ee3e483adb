-- Up Migration

-- Signed webhooks. The outbox (outbox_events) is the source of truth for what happened; the
-- relay turns each event into one delivery per endpoint subscribed to it, in the transaction
-- that moves its cursor, so an event is relayed exactly once whatever crashes. BullMQ only
-- schedules attempts: every attempt re-reads its delivery here, and a sweeper re-enqueues what
-- a lost queue forgot.
CREATE TABLE webhook_endpoints (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  url         text        NOT NULL CHECK (char_length(url) BETWEEN 1 AND 2048),
  -- Event types (src/domain/events.ts), or '*' for every one.
  events      text[]      NOT NULL CHECK (cardinality(events) >= 1),
  description text        CHECK (char_length(description) <= 500),
  -- Standard Webhooks: whsec_ + base64 of 32 random bytes. Kept as is: signing needs it.
  secret      text        NOT NULL,
  enabled     boolean     NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_created ON webhook_endpoints (created_at, id);

CREATE TABLE webhook_deliveries (
  id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  endpoint_id      uuid        NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  event_seq        bigint      NOT NULL REFERENCES outbox_events (seq) ON DELETE CASCADE,
  state            text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts         integer     NOT NULL DEFAULT 0,
  -- When the next attempt is due. Taking a lease moves it to the lease's end, so a delivery
  -- whose sender died mid-attempt falls due again by itself.
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  leased_until     timestamptz,
  -- Who holds the lease: only its holder records the attempt's outcome.
  lease_token      uuid,
  -- Start of the current retry window (creation, or the last manual retry).
  retry_from       timestamptz NOT NULL DEFAULT now(),
  last_status_code integer,
  delivered_at     timestamptz,
  failed_at        timestamptz,
  created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
  UNIQUE (endpoint_id, event_seq)
);
-- What the sweeper and the in-process loop look for: pending deliveries by due time.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
-- An endpoint's delivery log, newest first.
CREATE INDEX webhook_deliveries_of_endpoint ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);
CREATE INDEX webhook_deliveries_of_event ON webhook_deliveries (event_seq);

CREATE TABLE webhook_attempts (
  id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  delivery_id  uuid        NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  attempted_at timestamptz NOT NULL,
  status_code  integer,
  duration_ms  integer     NOT NULL,
  error        text
);
CREATE INDEX webhook_attempts_of_delivery ON webhook_attempts (delivery_id, attempted_at);

-- Where each reader of the outbox has got to, in its commit order (tx, seq).
CREATE TABLE outbox_cursors (
  name text   PRIMARY KEY,
  tx   xid8   NOT NULL,
  seq  bigint NOT NULL
);
-- The relay starts at the oldest transaction running now: events from before webhooks existed
-- have no endpoint to go to.
INSERT INTO outbox_cursors (name, tx, seq) VALUES ('webhooks', pg_snapshot_xmin(pg_current_snapshot()), 0);

-- Down Migration

DROP TABLE outbox_cursors;
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
