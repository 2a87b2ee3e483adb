-- Up Migration

-- The tables as they stood at 416a59a, when the seven migrations before it were squashed into
-- this one. Migrations hold tables, indexes and data only; every function and trigger is in
-- db/functions/, one file each, applied by the migration runner after the migrations
-- (src/adapters/postgres/migrate.ts). A database migrated by those seven is adopted by the
-- runner: its rows in pgmigrations become this one's, and the functions they had created are
-- dropped.
--
-- There are no down migrations: a schema change is undone by a forward migration (or a backup),
-- never by a script that could drop what was sold.

-- A show's row is also its inventory: the counters below are moved only while the row is locked
-- (every change to a show's seats locks it first), and the CHECK constraints refuse any
-- transaction that would hold, sell or block more seats than exist, whatever the code does.
CREATE TABLE shows (
  id              uuid        NOT NULL DEFAULT gen_random_uuid(),
  title           text        NOT NULL,
  description     text,
  start_time      timestamptz NOT NULL,
  total_seats     integer     NOT NULL,
  -- Seats of PENDING bookings, overdue ones included until they are reclaimed.
  held_seats      integer     NOT NULL DEFAULT 0,
  -- Seats of CONFIRMED bookings.
  confirmed_seats integer     NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL DEFAULT now(),
  -- The map as the API shows it (sections, rows best first, categories); NULL: general admission.
  seat_map        jsonb,
  -- Moves by one with every statement that changes a seat of the show. Each seat row records the
  -- version that last changed it, so an API process that keeps the seat states of a show in memory
  -- (to choose seats without reading 100,000 rows) can tell whether they are still exact and
  -- fetch only the seats changed since.
  seat_version    bigint      NOT NULL DEFAULT 0,
  -- A confirm after the hold expired: refuse (409 hold_expired), or take the same seats again if
  -- they are still free.
  late_confirm    text        NOT NULL DEFAULT 'refuse',
  max_seats_per_customer integer,
  sales_start     timestamptz,
  sales_end       timestamptz,
  -- Seats kept back by the house (seat_blocks): never on sale, never counted available.
  blocked_seats   integer     NOT NULL DEFAULT 0,
  -- Moves when the seat map changes (seats renumbered): a seat number read against another
  -- version names another seat.
  seat_map_version integer    NOT NULL DEFAULT 0,
  CONSTRAINT shows_pkey PRIMARY KEY (id),
  CONSTRAINT shows_title_check CHECK (char_length(title) >= 1 AND char_length(title) <= 200),
  CONSTRAINT shows_description_check CHECK (char_length(description) <= 2000),
  CONSTRAINT shows_total_seats_check CHECK (total_seats > 0),
  CONSTRAINT shows_held_seats_check CHECK (held_seats >= 0),
  CONSTRAINT shows_confirmed_seats_check CHECK (confirmed_seats >= 0),
  CONSTRAINT shows_blocked_seats_check CHECK (blocked_seats >= 0),
  CONSTRAINT shows_late_confirm_check CHECK (late_confirm = ANY (ARRAY['refuse'::text, 'reclaim'::text])),
  CONSTRAINT shows_max_seats_per_customer_check CHECK (max_seats_per_customer >= 1 AND max_seats_per_customer <= 100000),
  CONSTRAINT shows_sales_window CHECK (sales_start IS NULL OR sales_end IS NULL OR sales_end > sales_start),
  CONSTRAINT shows_never_oversold CHECK (held_seats + confirmed_seats + blocked_seats <= total_seats)
);

-- Keyset pagination of GET /api/shows. No index touches the counters, so the frequent counter
-- updates stay HOT (heap-only) updates.
CREATE INDEX shows_start_time_id ON shows (start_time, id);

-- The lifecycle of a booking is src/domain/booking-lifecycle.ts; a new status is a value here too.
CREATE TYPE booking_status AS ENUM ('PENDING', 'CONFIRMED', 'EXPIRED', 'CANCELLED');

CREATE TABLE bookings (
  id              uuid           NOT NULL,
  show_id         uuid           NOT NULL,
  seats           integer        NOT NULL,
  status          booking_status NOT NULL DEFAULT 'PENDING',
  -- SHA-256 of the hold token; the token itself is never stored.
  hold_token_hash bytea          NOT NULL,
  created_at      timestamptz    NOT NULL,
  expires_at      timestamptz    NOT NULL,
  updated_at      timestamptz    NOT NULL,
  -- The seats of a seated booking, as numbers (the show's seats in map order, from 0), and by
  -- their ids (Stalls-A-12) as the API shows them. Kept after the booking ends, so an expired or
  -- cancelled booking still says which seats it had.
  seat_nos        integer[],
  seat_ids        text[],
  -- The storefront's opaque id of the customer, for per-customer limits and the admin's view.
  customer_ref    text,
  -- Issued by the admin straight to CONFIRMED.
  comp            boolean        NOT NULL DEFAULT false,
  -- Confirmed after its hold expired (late_confirm = 'reclaim'), on the same seats.
  late            boolean        NOT NULL DEFAULT false,
  CONSTRAINT bookings_pkey PRIMARY KEY (id),
  CONSTRAINT bookings_show_id_fkey FOREIGN KEY (show_id) REFERENCES shows (id),
  CONSTRAINT bookings_seats_check CHECK (seats > 0),
  CONSTRAINT bookings_hold_token_hash_check CHECK (octet_length(hold_token_hash) = 32),
  CONSTRAINT bookings_check CHECK (expires_at > created_at),
  CONSTRAINT bookings_customer_ref_check CHECK (char_length(customer_ref) >= 1 AND char_length(customer_ref) <= 128),
  CONSTRAINT bookings_seat_count CHECK (
    (seat_nos IS NULL AND seat_ids IS NULL) OR (cardinality(seat_nos) = seats AND cardinality(seat_ids) = seats))
);

-- Only PENDING holds are ever looked up by deadline: reclaiming a show's overdue holds, counting
-- them out of available_seats, and the sweep.
CREATE INDEX bookings_pending_by_show ON bookings (show_id, expires_at) WHERE status = 'PENDING';
-- A customer's live seats on a show, counted under the show's lock (only bookings that name a
-- customer are in it, so general traffic without one pays nothing for it).
CREATE INDEX bookings_by_customer ON bookings (show_id, customer_ref) WHERE customer_ref IS NOT NULL;
-- GET /api/shows/:id/bookings: a show's bookings in the order they were made, keyset-paginated.
CREATE INDEX bookings_by_show ON bookings (show_id, created_at, id);

-- One row per Idempotency-Key, per caller and route. A request first claims its row (claim_id,
-- locked_until); its answer is written in the same transaction as its effect, and only by the
-- claim that still owns the row, so a retry can never produce a second effect. A claim abandoned
-- by a crashed process is taken over by a retry once locked_until has passed.
CREATE TABLE idempotency_keys (
  -- SHA-256 of (caller, method, path, key): the key itself is not stored.
  scope_hash    bytea       NOT NULL,
  -- SHA-256 of the request body: the same key with another body is refused.
  request_hash  bytea       NOT NULL,
  claim_id      uuid        NOT NULL,
  locked_until  timestamptz NOT NULL,
  -- The answer to replay; NULL while the first request is still in flight.
  status_code   integer,
  -- Secrets in it (hold_token) are sealed with a key derived from the Idempotency-Key, which only
  -- the client knows.
  body          text,
  location      text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT idempotency_keys_pkey PRIMARY KEY (scope_hash),
  CONSTRAINT idempotency_keys_scope_hash_check CHECK (octet_length(scope_hash) = 32),
  CONSTRAINT idempotency_keys_request_hash_check CHECK (octet_length(request_hash) = 32),
  CONSTRAINT idempotency_keys_check CHECK ((status_code IS NULL) = (body IS NULL))
);
-- Purging keys older than 24 hours.
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

-- Per-category counters of a seated show, kept from the seat rows themselves by a statement
-- trigger on seats (db/functions/seats_count_categories.sql).
CREATE TABLE show_categories (
  show_id       uuid     NOT NULL,
  category      smallint NOT NULL,
  name          text     NOT NULL,
  total_seats   integer  NOT NULL,
  held_seats    integer  NOT NULL DEFAULT 0,
  sold_seats    integer  NOT NULL DEFAULT 0,
  blocked_seats integer  NOT NULL DEFAULT 0,
  CONSTRAINT show_categories_pkey PRIMARY KEY (show_id, category),
  CONSTRAINT show_categories_show_id_name_key UNIQUE (show_id, name),
  CONSTRAINT show_categories_show_id_fkey FOREIGN KEY (show_id) REFERENCES shows (id),
  CONSTRAINT show_categories_total_seats_check CHECK (total_seats > 0),
  CONSTRAINT show_categories_held_seats_check CHECK (held_seats >= 0),
  CONSTRAINT show_categories_sold_seats_check CHECK (sold_seats >= 0),
  CONSTRAINT show_categories_blocked_seats_check CHECK (blocked_seats >= 0),
  CONSTRAINT show_categories_check CHECK (held_seats + sold_seats <= total_seats),
  CONSTRAINT show_categories_never_oversold CHECK (held_seats + sold_seats + blocked_seats <= total_seats)
);

-- Seats the house keeps back. General admission: a number of seats; seated: these seats, each in
-- state B and pointing here. A comp may take seats out of a block; a block released puts what it
-- still keeps back on sale (released_at).
CREATE TABLE seat_blocks (
  id          uuid        NOT NULL DEFAULT gen_random_uuid(),
  show_id     uuid        NOT NULL,
  seats       integer     NOT NULL,
  seat_nos    integer[],
  seat_ids    text[],
  note        text,
  created_at  timestamptz NOT NULL,
  released_at timestamptz,
  CONSTRAINT seat_blocks_pkey PRIMARY KEY (id),
  CONSTRAINT seat_blocks_show_id_fkey FOREIGN KEY (show_id) REFERENCES shows (id),
  CONSTRAINT seat_blocks_seats_check CHECK (seats >= 0),
  CONSTRAINT seat_blocks_note_check CHECK (char_length(note) <= 500),
  CONSTRAINT seat_blocks_check CHECK (
    (seat_nos IS NULL AND seat_ids IS NULL) OR (cardinality(seat_nos) = seats AND cardinality(seat_ids) = seats))
);
CREATE INDEX seat_blocks_by_show ON seat_blocks (show_id, created_at) WHERE released_at IS NULL;

-- Assigned seating: one row per seat, whose single owner column makes it impossible for two
-- bookings to have the same seat, whatever the code does.
-- state: F free, H held (by a PENDING booking), S sold (CONFIRMED), B blocked (house seats). A
-- hold past its deadline keeps H here until it is reclaimed; readers judge it free by its
-- booking's expires_at, exactly as the counters of general admission do.
CREATE TABLE seats (
  show_id    uuid     NOT NULL,
  seat_no    integer  NOT NULL,
  category   smallint NOT NULL,
  state      "char"   NOT NULL DEFAULT 'F',
  booking_id uuid,
  version    bigint   NOT NULL DEFAULT 0,
  block_id   uuid,
  CONSTRAINT seats_pkey PRIMARY KEY (show_id, seat_no),
  CONSTRAINT seats_show_id_fkey FOREIGN KEY (show_id) REFERENCES shows (id),
  CONSTRAINT seats_show_id_category_fkey FOREIGN KEY (show_id, category) REFERENCES show_categories (show_id, category),
  CONSTRAINT seats_booking_id_fkey FOREIGN KEY (booking_id) REFERENCES bookings (id),
  CONSTRAINT seats_block_id_fkey FOREIGN KEY (block_id) REFERENCES seat_blocks (id),
  CONSTRAINT seats_seat_no_check CHECK (seat_no >= 0),
  CONSTRAINT seats_state_check CHECK (state = ANY (ARRAY['F'::"char", 'H'::"char", 'S'::"char", 'B'::"char"])),
  CONSTRAINT seats_owned_when_taken CHECK ((state = ANY (ARRAY['H'::"char", 'S'::"char"])) = (booking_id IS NOT NULL)),
  CONSTRAINT seats_blocked_by_a_block CHECK ((state = 'B'::"char") = (block_id IS NOT NULL))
)
-- A hold changes a seat's state, owner and version, none of them indexed: with room left on each
-- page the update is heap-only (HOT), writing no index entry. So no index on version either:
-- catching up with the seats changed since a version (rare: another process, a worker's expiry)
-- reads the show's seats through the primary key instead.
WITH (fillfactor = 80);

-- The transactional outbox: one row per event, written by triggers in the transaction (and, for a
-- statement that changes many bookings, in the statement) that made the change, so an event exists
-- exactly when its change committed, whichever code path made it.
--
-- Readers (the webhook relay, each API process's live-availability feed) follow the outbox in
-- (tx, seq) order, and only up to the oldest transaction still running
-- (pg_snapshot_xmin(pg_current_snapshot())): every row below it is committed or gone for good, and
-- every row a running transaction may still commit is above it. seq alone is not commit order: a
-- transaction can take a lower seq and commit after a higher one.
CREATE TABLE outbox_events (
  seq         bigint      NOT NULL GENERATED ALWAYS AS IDENTITY,
  tx          xid8        NOT NULL DEFAULT pg_current_xact_id(),
  -- The public id: webhook-id, the same across every retry of a delivery.
  id          uuid        NOT NULL DEFAULT gen_random_uuid(),
  type        text        NOT NULL,
  show_id     uuid,
  -- A ping (POST /api/webhooks/:id/test) is for its endpoint only.
  endpoint_id uuid,
  -- The database time of the change: the booking's updated_at, the show's statement time.
  occurred_at timestamptz NOT NULL,
  -- The booking (without its token hash), the show (without its seat map) or the block, as stored;
  -- the API maps it to what it shows (src/domain/events.ts).
  data        jsonb       NOT NULL,
  CONSTRAINT outbox_events_pkey PRIMARY KEY (seq)
);
CREATE INDEX outbox_events_in_commit_order ON outbox_events (tx, seq);

-- Signed webhooks. The outbox is the source of truth for what happened; the relay turns each event
-- into one delivery per endpoint subscribed to it, in the transaction that moves its cursor, so an
-- event is relayed exactly once whatever crashes. BullMQ only schedules attempts: every attempt
-- re-reads its delivery here, and a sweeper re-enqueues what a lost queue forgot.
CREATE TABLE webhook_endpoints (
  id          uuid        NOT NULL DEFAULT gen_random_uuid(),
  url         text        NOT NULL,
  -- Event types (src/domain/events.ts), or '*' for every one.
  events      text[]      NOT NULL,
  description text,
  -- Standard Webhooks: whsec_ + base64 of 32 random bytes. Kept as is: signing needs it.
  secret      text        NOT NULL,
  enabled     boolean     NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT webhook_endpoints_pkey PRIMARY KEY (id),
  CONSTRAINT webhook_endpoints_url_check CHECK (char_length(url) >= 1 AND char_length(url) <= 2048),
  CONSTRAINT webhook_endpoints_events_check CHECK (cardinality(events) >= 1),
  CONSTRAINT webhook_endpoints_description_check CHECK (char_length(description) <= 500)
);
CREATE INDEX webhook_endpoints_created ON webhook_endpoints (created_at, id);

CREATE TABLE webhook_deliveries (
  id               uuid        NOT NULL DEFAULT gen_random_uuid(),
  endpoint_id      uuid        NOT NULL,
  event_seq        bigint      NOT NULL,
  state            text        NOT NULL DEFAULT 'pending',
  attempts         integer     NOT NULL DEFAULT 0,
  -- When the next attempt is due. Taking a lease moves it to the lease's end, so a delivery whose
  -- sender died mid-attempt falls due again by itself.
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
  CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (id),
  CONSTRAINT webhook_deliveries_endpoint_id_event_seq_key UNIQUE (endpoint_id, event_seq),
  CONSTRAINT webhook_deliveries_endpoint_id_fkey FOREIGN KEY (endpoint_id) REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  CONSTRAINT webhook_deliveries_event_seq_fkey FOREIGN KEY (event_seq) REFERENCES outbox_events (seq) ON DELETE CASCADE,
  CONSTRAINT webhook_deliveries_state_check CHECK (state = ANY (ARRAY['pending'::text, 'delivered'::text, 'failed'::text]))
);
-- What the sweeper and the in-process loop look for: pending deliveries by due time.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
-- An endpoint's delivery log, newest first.
CREATE INDEX webhook_deliveries_of_endpoint ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);
CREATE INDEX webhook_deliveries_of_event ON webhook_deliveries (event_seq);

CREATE TABLE webhook_attempts (
  id           bigint      NOT NULL GENERATED ALWAYS AS IDENTITY,
  delivery_id  uuid        NOT NULL,
  attempted_at timestamptz NOT NULL,
  status_code  integer,
  duration_ms  integer     NOT NULL,
  error        text,
  CONSTRAINT webhook_attempts_pkey PRIMARY KEY (id),
  CONSTRAINT webhook_attempts_delivery_id_fkey FOREIGN KEY (delivery_id) REFERENCES webhook_deliveries (id) ON DELETE CASCADE
);
CREATE INDEX webhook_attempts_of_delivery ON webhook_attempts (delivery_id, attempted_at);

-- Where each reader of the outbox has got to, in its commit order (tx, seq).
CREATE TABLE outbox_cursors (
  name text   NOT NULL,
  tx   xid8   NOT NULL,
  seq  bigint NOT NULL,
  CONSTRAINT outbox_cursors_pkey PRIMARY KEY (name)
);
-- The relay starts at the oldest transaction running now: events from before webhooks existed
-- have no endpoint to go to.
INSERT INTO outbox_cursors (name, tx, seq) VALUES ('webhooks', pg_snapshot_xmin(pg_current_snapshot()), 0);
