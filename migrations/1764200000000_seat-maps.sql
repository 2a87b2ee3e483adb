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

-- One hold group of a seated show, in one statement: the seated counterpart of hold_group.
-- The API process chose the seats (best available, or the seats asked for) from the show's
-- seat states as it knows them at p_version; the choice stands only if nothing changed the
-- show's seats since. Otherwise every request answers `stale` and nothing is written: the
-- API catches up with the seats changed since p_version and chooses again.
--
-- p_counts[i] is the number of seats request i holds, 0 when the API refused it (its seats
-- were taken, or no block was free): such a request is still judged here, so that a started
-- show or a taken-over key answers as for general admission, and otherwise answers `refused`.
-- The chosen seats of all requests are p_seat_nos, p_seat_requests[k] naming the request
-- (1-based) of p_seat_nos[k], and p_seat_ids their ids.
--
-- Overdue holds of the show are reclaimed first, every time: their seats come back in
-- `freed` (first row), so that the API's seat states stay exact, and a request it refused
-- may be chosen again. Keyed answers are recorded as in hold_group.
--
-- Outcomes: held, refused, show_started, taken_over, show_not_found, not_seated, stale (all
-- requests: the seats changed since p_version), conflict (all requests: a chosen seat was not
-- free after the reclaim; only the reclaim was written).
CREATE TYPE hold_seats_result AS (
  request integer,
  outcome text,
  available integer,
  reclaimed integer,
  version_before bigint,
  version_after bigint,
  freed integer[],
  id uuid,
  show_id uuid,
  seats integer,
  seat_ids text[],
  status booking_status,
  created_at timestamptz,
  expires_at timestamptz,
  updated_at timestamptz
);

CREATE FUNCTION hold_seats(
  p_show uuid,
  p_ttl_seconds integer,
  p_now timestamptz,
  p_version bigint,
  p_ids uuid[],
  p_counts integer[],
  p_seat_nos integer[],
  p_seat_requests integer[],
  p_seat_ids text[],
  p_token_hashes bytea[],
  p_scopes bytea[],
  p_claims uuid[],
  p_answer_statuses integer[],
  p_answer_bodies text[],
  p_answer_locations text[]
) RETURNS SETOF hold_seats_result
LANGUAGE plpgsql AS $$
DECLARE
  n integer := coalesce(array_length(p_ids, 1), 0);
  v_total integer;
  v_taken integer;
  v_start timestamptz;
  v_version bigint;
  v_next bigint;
  v_seated boolean;
  v_now timestamptz;
  v_expires timestamptz;
  v_owned uuid[] := '{}';
  v_outcomes text[] := array_fill(NULL::text, ARRAY[n]);
  v_keyed_winners integer := 0;
  v_freed integer[] := '{}';
  v_freed_seats integer := 0;
  v_freed_holds integer := 0;
  v_held_seats integer := 0;
  v_claimed integer;
  v_recorded integer;
BEGIN
  SELECT s.total_seats, s.held_seats + s.confirmed_seats, s.start_time, s.seat_version, s.seat_map IS NOT NULL
  INTO v_total, v_taken, v_start, v_version, v_seated
  FROM shows s WHERE s.id = p_show FOR UPDATE;
  IF NOT FOUND OR NOT v_seated OR v_version <> p_version THEN
    RETURN QUERY SELECT o.i::integer,
                        CASE WHEN v_version IS NULL THEN 'show_not_found'
                             WHEN NOT v_seated THEN 'not_seated' ELSE 'stale' END,
                        NULL::integer, 0, v_version, v_version, NULL::integer[], NULL::uuid, NULL::uuid,
                        NULL::integer, NULL::text[], NULL::booking_status, NULL::timestamptz,
                        NULL::timestamptz, NULL::timestamptz
                 FROM generate_series(1, n) AS o(i);
    RETURN;
  END IF;
  v_now := coalesce(p_now, clock_timestamp());
  v_expires := v_now + make_interval(secs => p_ttl_seconds);
  v_next := v_version + 1;

  IF p_claims IS NOT NULL THEN
    SELECT coalesce(array_agg(owned.claim_id), '{}') INTO v_owned FROM (
      SELECT k.claim_id FROM idempotency_keys k
      JOIN unnest(p_scopes, p_claims) AS c(scope_hash, claim_id)
        ON k.scope_hash = c.scope_hash AND k.claim_id = c.claim_id
      WHERE k.status_code IS NULL
      FOR UPDATE OF k) AS owned;
  END IF;

  FOR i IN 1..n LOOP
    IF p_claims[i] IS NOT NULL AND NOT p_claims[i] = ANY (v_owned) THEN
      v_outcomes[i] := 'taken_over';
    ELSIF v_start <= v_now THEN
      v_outcomes[i] := 'show_started';
    ELSIF p_counts[i] = 0 THEN
      v_outcomes[i] := 'refused';
    ELSE
      v_outcomes[i] := 'held';
      v_held_seats := v_held_seats + p_counts[i];
      IF p_claims[i] IS NOT NULL THEN v_keyed_winners := v_keyed_winners + 1; END IF;
    END IF;
  END LOOP;

  WITH expired AS (
    UPDATE bookings b SET status = 'EXPIRED', updated_at = v_now
    WHERE b.show_id = p_show AND b.status = 'PENDING' AND b.expires_at <= v_now
    RETURNING b.id, b.seats, b.seat_nos),
  released AS (
    UPDATE seats st SET state = 'F', booking_id = NULL, version = v_next
    FROM expired e CROSS JOIN LATERAL unnest(e.seat_nos) AS r(seat_no)
    WHERE st.show_id = p_show AND st.seat_no = r.seat_no AND st.booking_id = e.id
    RETURNING st.seat_no)
  SELECT coalesce((SELECT array_agg(r.seat_no ORDER BY r.seat_no) FROM released r), '{}'),
         coalesce((SELECT sum(e.seats) FROM expired e), 0)::integer,
         (SELECT count(*) FROM expired e)::integer
  INTO v_freed, v_freed_seats, v_freed_holds;

  -- The API may have counted on seats of holds it knew overdue (reclaimed just above). If any
  -- chosen seat is not free after all, the group holds nothing: it answers `conflict`, with
  -- what was reclaimed, and the API catches up and chooses again.
  IF v_held_seats > 0 THEN
    SELECT count(*) INTO v_claimed
    FROM unnest(p_seat_nos, p_seat_requests) AS c(seat_no, request)
    JOIN seats st ON st.show_id = p_show AND st.seat_no = c.seat_no
    WHERE v_outcomes[c.request] = 'held' AND st.state = 'F';
    IF v_claimed <> v_held_seats THEN
      v_outcomes := array_fill('conflict'::text, ARRAY[n]);
      v_held_seats := 0;
      v_keyed_winners := 0;
    END IF;
  END IF;

  IF v_held_seats > 0 THEN
    INSERT INTO bookings (id, show_id, seats, seat_nos, seat_ids, hold_token_hash, created_at, expires_at, updated_at)
    SELECT p_ids[g.request], p_show, p_counts[g.request], g.seat_nos, g.seat_ids,
           p_token_hashes[g.request], v_now, v_expires, v_now
    FROM (
      SELECT c.request, array_agg(c.seat_no ORDER BY c.seat_no) AS seat_nos,
             array_agg(c.seat_id ORDER BY c.seat_no) AS seat_ids
      FROM unnest(p_seat_nos, p_seat_requests, p_seat_ids) AS c(seat_no, request, seat_id)
      WHERE v_outcomes[c.request] = 'held'
      GROUP BY c.request) g;

    -- The seats were free at p_version and nothing changed them since: all of them are claimed,
    -- or the API's seat states were wrong and the whole group fails (it must not sell a seat twice).
    UPDATE seats st SET state = 'H', booking_id = p_ids[c.request], version = v_next
    FROM unnest(p_seat_nos, p_seat_requests) AS c(seat_no, request)
    WHERE v_outcomes[c.request] = 'held' AND st.show_id = p_show AND st.seat_no = c.seat_no AND st.state = 'F';
    GET DIAGNOSTICS v_claimed = ROW_COUNT;
    IF v_claimed <> v_held_seats THEN
      RAISE EXCEPTION 'claimed % of % chosen seats of show % at version %', v_claimed, v_held_seats, p_show, p_version
        USING ERRCODE = 'integrity_constraint_violation';
    END IF;
  END IF;

  IF v_held_seats > 0 OR v_freed_holds > 0 THEN
    UPDATE shows SET held_seats = held_seats + v_held_seats - v_freed_seats, seat_version = v_next WHERE id = p_show;
  ELSE
    v_next := v_version;
  END IF;

  RETURN QUERY
  SELECT o.i::integer, o.outcome, v_total - v_taken + v_freed_seats - v_held_seats, v_freed_holds,
         v_version, v_next, CASE WHEN o.i = 1 THEN v_freed END,
         b.id, b.show_id, b.seats, b.seat_ids, b.status, b.created_at, b.expires_at, b.updated_at
  FROM unnest(p_ids, v_outcomes) WITH ORDINALITY AS o(booking_id, outcome, i)
  LEFT JOIN bookings b ON o.outcome = 'held' AND b.id = o.booking_id
  ORDER BY o.i;

  IF v_keyed_winners > 0 THEN
    UPDATE idempotency_keys k SET
      status_code = a.status_code,
      body = replace(replace(a.body,
        '"@@now@@"', to_json(to_char(v_now AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text),
        '"@@expires@@"', to_json(to_char(v_expires AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text),
      location = a.location
    FROM unnest(p_scopes, p_claims, p_answer_statuses, p_answer_bodies, p_answer_locations, v_outcomes)
      AS a(scope_hash, claim_id, status_code, body, location, outcome)
    WHERE a.outcome = 'held' AND a.claim_id IS NOT NULL
      AND k.scope_hash = a.scope_hash AND k.claim_id = a.claim_id AND k.status_code IS NULL;
    GET DIAGNOSTICS v_recorded = ROW_COUNT;
    IF v_recorded <> v_keyed_winners THEN
      RAISE EXCEPTION 'recorded % of % locked idempotency keys', v_recorded, v_keyed_winners;
    END IF;
  END IF;
END;
$$;

-- Down Migration

DROP FUNCTION IF EXISTS hold_seats(uuid, integer, timestamptz, bigint, uuid[], integer[], integer[], integer[], text[], bytea[], bytea[], uuid[], integer[], text[], text[]);
DROP TYPE IF EXISTS hold_seats_result;
DROP TRIGGER bookings_own_their_seats ON bookings;
DROP FUNCTION booking_seats_owned();
DROP TABLE seats;
DROP FUNCTION seats_count_categories();
DROP TABLE show_categories;
ALTER TABLE bookings DROP CONSTRAINT bookings_seat_count, DROP COLUMN seat_ids, DROP COLUMN seat_nos;
ALTER TABLE shows DROP COLUMN seat_version, DROP COLUMN seat_map;
