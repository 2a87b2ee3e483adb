-- Up Migration

-- Assigned seating. A seated show keeps the counters of general admission on its row
-- (held_seats, confirmed_seats: moved by the same statements, by bookings.seats) and has
-- one row per seat besides, whose single owner column makes it impossible for two bookings
-- to have the same seat, whatever the code does.
ALTER TABLE shows
  -- The map as the API shows it (sections, rows best first, categories); NULL: general admission.
  ADD COLUMN seat_map jsonb,
  -- Moves by one with every statement that changes a seat of the show. Each seat row records
  -- the version that last changed it, so an API process that keeps the seat states of a show
  -- in memory (to choose seats without reading 100,000 rows) can tell whether they are still
  -- exact and fetch only the seats changed since.
  ADD COLUMN seat_version bigint NOT NULL DEFAULT 0;

-- The seats of a seated booking, as numbers (the show's seats in map order, from 0). Kept after
-- the booking ends, so an expired or cancelled booking still says which seats it had.
ALTER TABLE bookings
  ADD COLUMN seat_nos integer[],
  -- The same seats by their ids (Stalls-A-12), as the API shows them.
  ADD COLUMN seat_ids text[],
  ADD CONSTRAINT bookings_seat_count CHECK (
    (seat_nos IS NULL AND seat_ids IS NULL)
    OR (cardinality(seat_nos) = seats AND cardinality(seat_ids) = seats));

-- Per category counters, kept by a trigger on seats from the seat rows themselves.
CREATE TABLE show_categories (
  show_id     uuid     NOT NULL REFERENCES shows (id),
  category    smallint NOT NULL,
  name        text     NOT NULL,
  total_seats integer  NOT NULL CHECK (total_seats > 0),
  held_seats  integer  NOT NULL DEFAULT 0 CHECK (held_seats >= 0),
  sold_seats  integer  NOT NULL DEFAULT 0 CHECK (sold_seats >= 0),
  PRIMARY KEY (show_id, category),
  UNIQUE (show_id, name),
  CHECK (held_seats + sold_seats <= total_seats)
);

-- state: F free, H held (by a PENDING booking), S sold (CONFIRMED), B blocked (house seats).
-- A hold past its deadline keeps H here until it is reclaimed; readers judge it free by its
-- booking's expires_at, exactly as the counters of general admission do.
CREATE TABLE seats (
  show_id    uuid     NOT NULL REFERENCES shows (id),
  seat_no    integer  NOT NULL CHECK (seat_no >= 0),
  category   smallint NOT NULL,
  state      "char"   NOT NULL DEFAULT 'F' CHECK (state IN ('F', 'H', 'S', 'B')),
  booking_id uuid     REFERENCES bookings (id),
  version    bigint   NOT NULL DEFAULT 0,
  PRIMARY KEY (show_id, seat_no),
  FOREIGN KEY (show_id, category) REFERENCES show_categories (show_id, category),
  CONSTRAINT seats_owned_when_taken CHECK ((state IN ('H', 'S')) = (booking_id IS NOT NULL))
)
-- A hold changes a seat's state, owner and version, none of them indexed: with room left on
-- each page the update is heap-only (HOT), writing no index entry. So no index on version
-- either: catching up with the seats changed since a version (rare: another process, a worker's
-- expiry) reads the show's seats through the primary key instead.
WITH (fillfactor = 80);

-- The category counters follow the seat rows, one update per statement.
CREATE FUNCTION seats_count_categories() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE show_categories c
  SET held_seats = c.held_seats + d.held, sold_seats = c.sold_seats + d.sold
  FROM (
    SELECT x.show_id, x.category, sum(x.held)::integer AS held, sum(x.sold)::integer AS sold
    FROM (
      SELECT n.show_id, n.category, (n.state = 'H')::integer AS held, (n.state = 'S')::integer AS sold FROM new_seats n
      UNION ALL
      SELECT o.show_id, o.category, -(o.state = 'H')::integer, -(o.state = 'S')::integer FROM old_seats o
    ) x
    GROUP BY x.show_id, x.category
  ) d
  WHERE c.show_id = d.show_id AND c.category = d.category AND (d.held <> 0 OR d.sold <> 0);
  RETURN NULL;
END;
$$;

CREATE TRIGGER seats_counted AFTER UPDATE ON seats
  REFERENCING OLD TABLE AS old_seats NEW TABLE AS new_seats
  FOR EACH STATEMENT EXECUTE FUNCTION seats_count_categories();

-- At commit, a seated booking owns exactly its seats while it is PENDING (state H) or
-- CONFIRMED (state S), and none once it is EXPIRED or CANCELLED. With the single owner column
-- of a seat, this makes "a seat is in at most one PENDING or CONFIRMED booking" a property of
-- the database, not of the code.
CREATE FUNCTION booking_seats_owned() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  -- The booking as it is at commit: NEW is the row as one change left it, and a transaction may
  -- change it again (a late confirm expires a hold, then confirms it).
  b bookings%ROWTYPE;
  v_live boolean;
  v_owned integer;
BEGIN
  SELECT * INTO b FROM bookings WHERE id = NEW.id;
  v_live := b.status IN ('PENDING', 'CONFIRMED');
  SELECT count(*) INTO v_owned FROM seats s
  WHERE s.show_id = b.show_id AND s.seat_no = ANY (b.seat_nos) AND s.booking_id = b.id
    AND (NOT v_live OR s.state = CASE b.status WHEN 'CONFIRMED' THEN 'S'::"char" ELSE 'H'::"char" END);
  IF v_owned <> (CASE WHEN v_live THEN cardinality(b.seat_nos) ELSE 0 END) THEN
    RAISE EXCEPTION 'booking % (%) owns % of its % seats', b.id, b.status, v_owned, cardinality(b.seat_nos)
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER bookings_own_their_seats AFTER INSERT OR UPDATE OF status ON bookings
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (NEW.seat_nos IS NOT NULL)
  EXECUTE FUNCTION booking_seats_owned();

-- The statement that writes a seated hold group (hold_seats) is created by the checkout
-- migration (1764300000000), with the per-customer limits and sales windows it also judges.

-- Down Migration

DROP TRIGGER bookings_own_their_seats ON bookings;
DROP FUNCTION booking_seats_owned();
DROP TABLE seats;
DROP FUNCTION seats_count_categories();
DROP TABLE show_categories;
ALTER TABLE bookings DROP CONSTRAINT bookings_seat_count, DROP COLUMN seat_ids, DROP COLUMN seat_nos;
ALTER TABLE shows DROP COLUMN seat_version, DROP COLUMN seat_map;
