-- Up Migration

-- A show's row is also its inventory: the counters below are moved only while
-- the row is locked, and the CHECK constraints refuse any transaction that
-- would hold or sell more seats than exist, whatever the application code does.
CREATE TABLE shows (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  title           text        NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
  description     text        CHECK (char_length(description) <= 2000),
  start_time      timestamptz NOT NULL,
  total_seats     integer     NOT NULL CHECK (total_seats > 0),
  -- Seats of PENDING bookings, overdue ones included until they are reclaimed.
  held_seats      integer     NOT NULL DEFAULT 0 CHECK (held_seats >= 0),
  confirmed_seats integer     NOT NULL DEFAULT 0 CHECK (confirmed_seats >= 0),
  created_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT shows_never_oversold CHECK (held_seats + confirmed_seats <= total_seats)
);

-- Keyset pagination of GET /api/shows. No index touches the counters, so the
-- frequent counter updates stay HOT (heap-only) updates.
CREATE INDEX shows_start_time_id ON shows (start_time, id);

CREATE TYPE booking_status AS ENUM ('PENDING', 'CONFIRMED', 'EXPIRED', 'CANCELLED');

CREATE TABLE bookings (
  id              uuid PRIMARY KEY,
  show_id         uuid           NOT NULL REFERENCES shows (id),
  seats           integer        NOT NULL CHECK (seats > 0),
  status          booking_status NOT NULL DEFAULT 'PENDING',
  -- SHA-256 of the hold token; the token itself is never stored.
  hold_token_hash bytea          NOT NULL CHECK (octet_length(hold_token_hash) = 32),
  created_at      timestamptz    NOT NULL,
  expires_at      timestamptz    NOT NULL,
  updated_at      timestamptz    NOT NULL,
  CHECK (expires_at > created_at)
);

-- Only PENDING holds are ever looked up by deadline: reclaiming a show's
-- overdue holds, counting them out of available_seats, and the sweep.
CREATE INDEX bookings_pending_by_show ON bookings (show_id, expires_at) WHERE status = 'PENDING';

-- Down Migration

DROP TABLE bookings;
DROP TYPE booking_status;
DROP TABLE shows;
