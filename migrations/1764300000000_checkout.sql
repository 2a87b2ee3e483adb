-- Up Migration

-- The checkout: show settings (late payments, per-customer limits, sales windows), house
-- seats (blocks), complimentary bookings, and what the admin reads.
ALTER TABLE shows
  -- A confirm after the hold expired: refuse (409 hold_expired), or take the same seats again
  -- if they are still free.
  ADD COLUMN late_confirm text NOT NULL DEFAULT 'refuse' CHECK (late_confirm IN ('refuse', 'reclaim')),
  ADD COLUMN max_seats_per_customer integer CHECK (max_seats_per_customer BETWEEN 1 AND 100000),
  ADD COLUMN sales_start timestamptz,
  ADD COLUMN sales_end timestamptz,
  -- Seats kept back by the house (seat_blocks): never on sale, never counted available.
  ADD COLUMN blocked_seats integer NOT NULL DEFAULT 0 CHECK (blocked_seats >= 0),
  -- Moves when the seat map changes (seats renumbered): an API process's plan of the map is
  -- then out of date, whatever seat_version says.
  ADD COLUMN seat_map_version integer NOT NULL DEFAULT 0,
  ADD CONSTRAINT shows_sales_window CHECK (sales_start IS NULL OR sales_end IS NULL OR sales_end > sales_start),
  DROP CONSTRAINT shows_never_oversold,
  ADD CONSTRAINT shows_never_oversold CHECK (held_seats + confirmed_seats + blocked_seats <= total_seats);

ALTER TABLE bookings
  -- The storefront's opaque id of the customer, for per-customer limits and the admin's view.
  ADD COLUMN customer_ref text CHECK (char_length(customer_ref) BETWEEN 1 AND 128),
  -- Issued by the admin straight to CONFIRMED.
  ADD COLUMN comp boolean NOT NULL DEFAULT false,
  -- Confirmed after its hold expired (late_confirm = 'reclaim'), on the same seats.
  ADD COLUMN late boolean NOT NULL DEFAULT false;

-- A customer's live seats on a show, counted under the show's lock (only bookings that name
-- a customer are in it, so general traffic without one pays nothing for it).
CREATE INDEX bookings_by_customer ON bookings (show_id, customer_ref) WHERE customer_ref IS NOT NULL;
-- GET /api/shows/:id/bookings: a show's bookings in the order they were made, keyset-paginated.
CREATE INDEX bookings_by_show ON bookings (show_id, created_at, id);

-- Seats the house keeps back. General admission: a number of seats; seated: these seats,
-- each in state B and pointing here. A comp may take seats out of a block.
CREATE TABLE seat_blocks (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  show_id     uuid        NOT NULL REFERENCES shows (id),
  seats       integer     NOT NULL CHECK (seats >= 0),
  seat_nos    integer[],
  seat_ids    text[],
  note        text        CHECK (char_length(note) <= 500),
  created_at  timestamptz NOT NULL,
  released_at timestamptz,
  CHECK ((seat_nos IS NULL AND seat_ids IS NULL) OR (cardinality(seat_nos) = seats AND cardinality(seat_ids) = seats))
);
CREATE INDEX seat_blocks_by_show ON seat_blocks (show_id, created_at) WHERE released_at IS NULL;

ALTER TABLE seats
  ADD COLUMN block_id uuid REFERENCES seat_blocks (id),
  DROP CONSTRAINT seats_owned_when_taken,
  ADD CONSTRAINT seats_owned_when_taken CHECK ((state IN ('H', 'S')) = (booking_id IS NOT NULL)),
  ADD CONSTRAINT seats_blocked_by_a_block CHECK ((state = 'B') = (block_id IS NOT NULL));

ALTER TABLE show_categories
  ADD COLUMN blocked_seats integer NOT NULL DEFAULT 0 CHECK (blocked_seats >= 0),
  ADD CONSTRAINT show_categories_never_oversold CHECK (held_seats + sold_seats + blocked_seats <= total_seats);

CREATE OR REPLACE FUNCTION seats_count_categories() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE show_categories c
  SET held_seats = c.held_seats + d.held, sold_seats = c.sold_seats + d.sold, blocked_seats = c.blocked_seats + d.blocked
  FROM (
    SELECT x.show_id, x.category, sum(x.held)::integer AS held, sum(x.sold)::integer AS sold,
           sum(x.blocked)::integer AS blocked
    FROM (
      SELECT n.show_id, n.category, (n.state = 'H')::integer AS held, (n.state = 'S')::integer AS sold,
             (n.state = 'B')::integer AS blocked
      FROM new_seats n
      UNION ALL
      SELECT o.show_id, o.category, -(o.state = 'H')::integer, -(o.state = 'S')::integer, -(o.state = 'B')::integer
      FROM old_seats o
    ) x
    GROUP BY x.show_id, x.category
  ) d
  WHERE c.show_id = d.show_id AND c.category = d.category AND (d.held <> 0 OR d.sold <> 0 OR d.blocked <> 0);
  RETURN NULL;
END;
$$;

-- What every hold group checks per request before seats, in arrival order: a taken-over
-- Idempotency-Key (the keys still owned are locked until commit), a started show, the sales
-- window. NULL: the request goes on to the seats. Also the live seats (PENDING before their
-- deadline, or CONFIRMED) each customer named in the group already has on the show.
CREATE FUNCTION hold_gate(
  p_show uuid,
  p_now timestamptz,
  p_start timestamptz,
  p_sales_start timestamptz,
  p_sales_end timestamptz,
  p_limited boolean,
  p_customer_refs text[],
  p_scopes bytea[],
  p_claims uuid[],
  n integer,
  OUT outcomes text[],
  OUT customers text[],
  OUT used integer[]
)
LANGUAGE plpgsql AS $$
DECLARE
  v_owned uuid[] := '{}';
BEGIN
  outcomes := array_fill(NULL::text, ARRAY[n]);
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
      outcomes[i] := 'taken_over';
    ELSIF p_start <= p_now THEN
      outcomes[i] := 'show_started';
    ELSIF p_sales_start IS NOT NULL AND p_now < p_sales_start THEN
      outcomes[i] := 'sales_not_open';
    ELSIF p_sales_end IS NOT NULL AND p_now >= p_sales_end THEN
      outcomes[i] := 'sales_closed';
    ELSIF p_limited AND p_customer_refs[i] IS NULL THEN
      outcomes[i] := 'customer_ref_required';
    END IF;
  END LOOP;
  customers := '{}';
  used := '{}';
  IF p_limited THEN
    SELECT coalesce(array_agg(u.customer_ref), '{}'), coalesce(array_agg(u.seats), '{}') INTO customers, used
    FROM (
      SELECT b.customer_ref, sum(b.seats)::integer AS seats FROM bookings b
      WHERE b.show_id = p_show AND b.customer_ref = ANY (p_customer_refs)
        AND (b.status = 'CONFIRMED' OR (b.status = 'PENDING' AND b.expires_at > p_now))
      GROUP BY b.customer_ref) u;
  END IF;
END;
$$;

-- Records the answers of the keyed requests that were held, with their holds; every one of
-- them must still own its key (hold_gate locked them).
CREATE FUNCTION record_hold_answers(
  p_now timestamptz,
  p_expires timestamptz,
  p_outcomes text[],
  p_scopes bytea[],
  p_claims uuid[],
  p_answer_statuses integer[],
  p_answer_bodies text[],
  p_answer_locations text[]
) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_winners integer;
  v_recorded integer;
BEGIN
  IF p_claims IS NULL THEN RETURN; END IF;
  SELECT count(*) INTO v_winners FROM unnest(p_claims, p_outcomes) AS w(claim_id, outcome)
  WHERE w.outcome = 'held' AND w.claim_id IS NOT NULL;
  IF v_winners = 0 THEN RETURN; END IF;
  UPDATE idempotency_keys k SET
    status_code = a.status_code,
    body = replace(replace(a.body,
      '"@@now@@"', to_json(to_char(p_now AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text),
      '"@@expires@@"', to_json(to_char(p_expires AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text),
    location = a.location
  FROM unnest(p_scopes, p_claims, p_answer_statuses, p_answer_bodies, p_answer_locations, p_outcomes)
    AS a(scope_hash, claim_id, status_code, body, location, outcome)
  WHERE a.outcome = 'held' AND a.claim_id IS NOT NULL
    AND k.scope_hash = a.scope_hash AND k.claim_id = a.claim_id AND k.status_code IS NULL;
  GET DIAGNOSTICS v_recorded = ROW_COUNT;
  IF v_recorded <> v_winners THEN
    RAISE EXCEPTION 'recorded % of % locked idempotency keys', v_recorded, v_winners;
  END IF;
END;
$$;

DROP FUNCTION hold_groups(uuid[], integer[], integer, uuid[], integer[], bytea[], bytea[], uuid[], integer[], text[], text[]);
DROP FUNCTION hold_group(uuid, integer, timestamptz, uuid[], integer[], bytea[], bytea[], uuid[], integer[], text[], text[], boolean);
DROP TYPE hold_group_result;

-- One row per request of a group: its outcome, the seats left free after the group, the
-- overdue holds the group reclaimed, the seats a customer refused by its limit may still
-- hold (`allowed`), the sales start (for sales_not_open), and the booking written when held.
CREATE TYPE hold_group_result AS (
  request integer,
  outcome text,
  available integer,
  reclaimed integer,
  allowed integer,
  sales_start timestamptz,
  id uuid,
  show_id uuid,
  seats integer,
  status booking_status,
  created_at timestamptz,
  expires_at timestamptz,
  updated_at timestamptz
);

-- As in the previous migration (see there), with the gate of hold_gate (outcomes sales_not_open,
-- sales_closed, customer_ref_required), per-customer limits decided in arrival order with the
-- seats (customer_limit: a request refused for seats does not count toward its customer),
-- blocked seats never available, and each hold's customer_ref.
CREATE FUNCTION hold_group(
  p_show uuid,
  p_ttl_seconds integer,
  p_now timestamptz,
  p_ids uuid[],
  p_seats integer[],
  p_token_hashes bytea[],
  p_customer_refs text[],
  p_scopes bytea[],
  p_claims uuid[],
  p_answer_statuses integer[],
  p_answer_bodies text[],
  p_answer_locations text[],
  p_skip_locked boolean DEFAULT false
) RETURNS SETOF hold_group_result
LANGUAGE plpgsql AS $$
DECLARE
  n integer := coalesce(array_length(p_ids, 1), 0);
  -- Only the columns used: the seat map itself can be large.
  v_show record;
  v_now timestamptz;
  v_expires timestamptz;
  v_free integer;
  v_wanted integer := 0;
  v_freed integer := 0;
  v_freed_holds integer := 0;
  v_gate record;
  v_outcomes text[];
  v_allowed integer[] := array_fill(NULL::integer, ARRAY[n]);
  v_customers text[];
  v_used integer[];
  v_at integer;
BEGIN
  IF p_skip_locked THEN
    SELECT s.id, s.start_time, s.total_seats, s.held_seats, s.confirmed_seats, s.blocked_seats, s.sales_start, s.sales_end,
           s.max_seats_per_customer, s.seat_version, s.seat_map_version, s.seat_map IS NOT NULL AS seated INTO v_show
    FROM shows s WHERE s.id = p_show FOR UPDATE SKIP LOCKED;
  ELSE
    SELECT s.id, s.start_time, s.total_seats, s.held_seats, s.confirmed_seats, s.blocked_seats, s.sales_start, s.sales_end,
           s.max_seats_per_customer, s.seat_version, s.seat_map_version, s.seat_map IS NOT NULL AS seated INTO v_show
    FROM shows s WHERE s.id = p_show FOR UPDATE;
  END IF;
  IF NOT FOUND THEN
    RETURN QUERY SELECT o.i::integer,
                        CASE WHEN EXISTS (SELECT 1 FROM shows WHERE shows.id = p_show)
                             THEN 'show_busy' ELSE 'show_not_found' END,
                        NULL::integer, 0, NULL::integer, NULL::timestamptz, NULL::uuid, NULL::uuid, NULL::integer,
                        NULL::booking_status, NULL::timestamptz, NULL::timestamptz, NULL::timestamptz
                 FROM generate_series(1, n) AS o(i);
    RETURN;
  END IF;
  -- Read once the lock is granted: a request that waited for it is judged now, not when it began.
  v_now := coalesce(p_now, clock_timestamp());
  v_expires := v_now + make_interval(secs => p_ttl_seconds);

  SELECT * INTO v_gate FROM hold_gate(p_show, v_now, v_show.start_time, v_show.sales_start, v_show.sales_end,
                                      v_show.max_seats_per_customer IS NOT NULL, p_customer_refs, p_scopes, p_claims, n);
  v_outcomes := v_gate.outcomes;
  v_customers := v_gate.customers;
  v_used := v_gate.used;

  FOR i IN 1..n LOOP
    IF v_outcomes[i] IS NULL THEN v_wanted := v_wanted + p_seats[i]; END IF;
  END LOOP;

  v_free := v_show.total_seats - v_show.held_seats - v_show.confirmed_seats - v_show.blocked_seats;
  IF v_free < v_wanted THEN
    WITH expired AS (
      UPDATE bookings b SET status = 'EXPIRED', updated_at = v_now
      WHERE b.show_id = p_show AND b.status = 'PENDING' AND b.expires_at <= v_now
      RETURNING b.seats)
    SELECT coalesce(sum(e.seats), 0)::integer, count(*)::integer INTO v_freed, v_freed_holds FROM expired e;
    IF v_freed > 0 THEN
      UPDATE shows SET held_seats = held_seats - v_freed WHERE shows.id = p_show;
      v_free := v_free + v_freed;
    END IF;
  END IF;

  FOR i IN 1..n LOOP
    CONTINUE WHEN v_outcomes[i] IS NOT NULL;
    v_at := NULL;
    IF v_show.max_seats_per_customer IS NOT NULL THEN
      v_at := array_position(v_customers, p_customer_refs[i]);
      IF v_at IS NULL THEN
        v_customers := v_customers || p_customer_refs[i];
        v_used := v_used || 0;
        v_at := array_length(v_customers, 1);
      END IF;
      IF v_used[v_at] + p_seats[i] > v_show.max_seats_per_customer THEN
        v_outcomes[i] := 'customer_limit';
        v_allowed[i] := greatest(v_show.max_seats_per_customer - v_used[v_at], 0);
        CONTINUE;
      END IF;
    END IF;
    IF p_seats[i] <= v_free THEN
      v_outcomes[i] := 'held';
      v_free := v_free - p_seats[i];
      IF v_at IS NOT NULL THEN v_used[v_at] := v_used[v_at] + p_seats[i]; END IF;
    ELSE
      v_outcomes[i] := 'sold_out';
    END IF;
  END LOOP;

  -- The held counter moves in the statement that inserts, by the seats of the rows inserted.
  RETURN QUERY
  WITH inserted AS (
    INSERT INTO bookings AS b (id, show_id, seats, hold_token_hash, customer_ref, created_at, expires_at, updated_at)
    SELECT r.id, p_show, r.seats, r.hash, r.customer_ref, v_now, v_expires, v_now
    FROM unnest(p_ids, p_seats, p_token_hashes, p_customer_refs, v_outcomes) AS r(id, seats, hash, customer_ref, outcome)
    WHERE r.outcome = 'held'
    RETURNING b.id, b.show_id, b.seats, b.status, b.created_at, b.expires_at, b.updated_at),
  counted AS (
    UPDATE shows SET held_seats = held_seats + (SELECT sum(i.seats) FROM inserted i)
    WHERE shows.id = p_show AND EXISTS (SELECT 1 FROM inserted))
  SELECT o.i::integer, o.outcome, v_free, v_freed_holds, v_allowed[o.i], v_show.sales_start,
         ins.id, ins.show_id, ins.seats, ins.status, ins.created_at, ins.expires_at, ins.updated_at
  FROM unnest(p_ids, v_outcomes) WITH ORDINALITY AS o(booking_id, outcome, i)
  LEFT JOIN inserted ins ON ins.id = o.booking_id
  ORDER BY o.i;

  PERFORM record_hold_answers(v_now, v_expires, v_outcomes, p_scopes, p_claims, p_answer_statuses, p_answer_bodies,
                              p_answer_locations);
END;
$$;

-- The groups of several shows ready together, in one statement: see the previous migration.
CREATE FUNCTION hold_groups(
  p_shows uuid[],
  p_group_ends integer[],
  p_ttl_seconds integer,
  p_ids uuid[],
  p_seats integer[],
  p_token_hashes bytea[],
  p_customer_refs text[],
  p_scopes bytea[],
  p_claims uuid[],
  p_answer_statuses integer[],
  p_answer_bodies text[],
  p_answer_locations text[]
) RETURNS SETOF hold_group_result
LANGUAGE plpgsql AS $$
DECLARE
  v_first integer := 1;
BEGIN
  FOR g IN 1..coalesce(array_length(p_shows, 1), 0) LOOP
    RETURN QUERY
      SELECT r.request + v_first - 1, r.outcome, r.available, r.reclaimed, r.allowed, r.sales_start, r.id, r.show_id,
             r.seats, r.status, r.created_at, r.expires_at, r.updated_at
      FROM hold_group(p_shows[g], p_ttl_seconds, NULL,
                      p_ids[v_first:p_group_ends[g]], p_seats[v_first:p_group_ends[g]],
                      p_token_hashes[v_first:p_group_ends[g]], p_customer_refs[v_first:p_group_ends[g]],
                      p_scopes[v_first:p_group_ends[g]],
                      p_claims[v_first:p_group_ends[g]], p_answer_statuses[v_first:p_group_ends[g]],
                      p_answer_bodies[v_first:p_group_ends[g]], p_answer_locations[v_first:p_group_ends[g]],
                      true) AS r;
    v_first := p_group_ends[g] + 1;
  END LOOP;
END;
$$;

CREATE TYPE hold_seats_result AS (
  request integer,
  outcome text,
  available integer,
  reclaimed integer,
  allowed integer,
  sales_start timestamptz,
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
-- Each request passes the gate of hold_gate; per-customer limits are decided in arrival order (a
-- request the API refused does not count); blocked seats are never free; a group chosen on
-- another map than p_map_version's answers `map_changed` (the seats were renumbered).
--
-- Outcomes: held, refused, the gate's (show_started, taken_over, sales_not_open, sales_closed,
-- customer_ref_required), customer_limit, show_not_found, not_seated, map_changed, stale (all
-- requests: the seats changed since p_version), conflict (all requests: a chosen seat was not
-- free after the reclaim; only the reclaim was written).
CREATE FUNCTION hold_seats(
  p_show uuid,
  p_ttl_seconds integer,
  p_now timestamptz,
  p_map_version integer,
  p_version bigint,
  p_ids uuid[],
  p_counts integer[],
  p_seat_nos integer[],
  p_seat_requests integer[],
  p_seat_ids text[],
  p_token_hashes bytea[],
  p_customer_refs text[],
  p_scopes bytea[],
  p_claims uuid[],
  p_answer_statuses integer[],
  p_answer_bodies text[],
  p_answer_locations text[]
) RETURNS SETOF hold_seats_result
LANGUAGE plpgsql AS $$
DECLARE
  n integer := coalesce(array_length(p_ids, 1), 0);
  -- Only the columns used: the seat map itself can be large.
  v_show record;
  v_next bigint;
  v_now timestamptz;
  v_expires timestamptz;
  v_gate record;
  v_outcomes text[];
  v_allowed integer[] := array_fill(NULL::integer, ARRAY[n]);
  v_customers text[];
  v_used integer[];
  v_at integer;
  v_freed integer[] := '{}';
  v_freed_seats integer := 0;
  v_freed_holds integer := 0;
  v_held_seats integer := 0;
  v_claimed integer;
BEGIN
  SELECT s.id, s.start_time, s.total_seats, s.held_seats, s.confirmed_seats, s.blocked_seats, s.sales_start, s.sales_end,
           s.max_seats_per_customer, s.seat_version, s.seat_map_version, s.seat_map IS NOT NULL AS seated INTO v_show
  FROM shows s WHERE s.id = p_show FOR UPDATE;
  IF NOT FOUND THEN
    RETURN QUERY SELECT o.i::integer, 'show_not_found'::text, NULL::integer, 0, NULL::integer, NULL::timestamptz,
                        NULL::bigint, NULL::bigint, NULL::integer[], NULL::uuid, NULL::uuid, NULL::integer,
                        NULL::text[], NULL::booking_status, NULL::timestamptz, NULL::timestamptz, NULL::timestamptz
                 FROM generate_series(1, n) AS o(i);
    RETURN;
  END IF;
  IF NOT v_show.seated OR v_show.seat_map_version <> p_map_version OR v_show.seat_version <> p_version THEN
    RETURN QUERY SELECT o.i::integer,
                        CASE WHEN NOT v_show.seated THEN 'not_seated'
                             WHEN v_show.seat_map_version <> p_map_version THEN 'map_changed'
                             ELSE 'stale' END,
                        NULL::integer, 0, NULL::integer, NULL::timestamptz, v_show.seat_version, v_show.seat_version,
                        NULL::integer[], NULL::uuid, NULL::uuid, NULL::integer, NULL::text[], NULL::booking_status,
                        NULL::timestamptz, NULL::timestamptz, NULL::timestamptz
                 FROM generate_series(1, n) AS o(i);
    RETURN;
  END IF;
  v_now := coalesce(p_now, clock_timestamp());
  v_expires := v_now + make_interval(secs => p_ttl_seconds);
  v_next := v_show.seat_version + 1;

  SELECT * INTO v_gate FROM hold_gate(p_show, v_now, v_show.start_time, v_show.sales_start, v_show.sales_end,
                                      v_show.max_seats_per_customer IS NOT NULL, p_customer_refs, p_scopes, p_claims, n);
  v_outcomes := v_gate.outcomes;
  v_customers := v_gate.customers;
  v_used := v_gate.used;

  FOR i IN 1..n LOOP
    CONTINUE WHEN v_outcomes[i] IS NOT NULL;
    IF p_counts[i] = 0 THEN
      v_outcomes[i] := 'refused';
      CONTINUE;
    END IF;
    IF v_show.max_seats_per_customer IS NOT NULL THEN
      v_at := array_position(v_customers, p_customer_refs[i]);
      IF v_at IS NULL THEN
        v_customers := v_customers || p_customer_refs[i];
        v_used := v_used || 0;
        v_at := array_length(v_customers, 1);
      END IF;
      IF v_used[v_at] + p_counts[i] > v_show.max_seats_per_customer THEN
        v_outcomes[i] := 'customer_limit';
        v_allowed[i] := greatest(v_show.max_seats_per_customer - v_used[v_at], 0);
        CONTINUE;
      END IF;
      v_used[v_at] := v_used[v_at] + p_counts[i];
    END IF;
    v_outcomes[i] := 'held';
    v_held_seats := v_held_seats + p_counts[i];
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
    END IF;
  END IF;

  IF v_held_seats > 0 THEN
    INSERT INTO bookings (id, show_id, seats, seat_nos, seat_ids, hold_token_hash, customer_ref, created_at,
                          expires_at, updated_at)
    SELECT p_ids[g.request], p_show, p_counts[g.request], g.seat_nos, g.seat_ids,
           p_token_hashes[g.request], p_customer_refs[g.request], v_now, v_expires, v_now
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
    v_next := v_show.seat_version;
  END IF;

  RETURN QUERY
  SELECT o.i::integer, o.outcome,
         v_show.total_seats - v_show.held_seats - v_show.confirmed_seats - v_show.blocked_seats
           + v_freed_seats - v_held_seats,
         v_freed_holds, v_allowed[o.i], v_show.sales_start, v_show.seat_version, v_next,
         CASE WHEN o.i = 1 THEN v_freed END,
         b.id, b.show_id, b.seats, b.seat_ids, b.status, b.created_at, b.expires_at, b.updated_at
  FROM unnest(p_ids, v_outcomes) WITH ORDINALITY AS o(booking_id, outcome, i)
  LEFT JOIN bookings b ON o.outcome = 'held' AND b.id = o.booking_id
  ORDER BY o.i;

  PERFORM record_hold_answers(v_now, v_expires, v_outcomes, p_scopes, p_claims, p_answer_statuses, p_answer_bodies,
                              p_answer_locations);
END;
$$;

-- Late payments (late_confirm = 'reclaim'): confirms the EXPIRED bookings p_ids, in that order,
-- on the same seats (seated) or the same number of seats (general admission), each only if
-- they are all free now; never a seat of another booking. The caller holds the show's lock
-- and has reclaimed the show's overdue holds first. Returns every booking of p_ids that is
-- EXPIRED, with `confirmed` saying whether it now is.
CREATE FUNCTION confirm_late(p_show uuid, p_ids uuid[], p_now timestamptz)
RETURNS TABLE (booking_id uuid, confirmed boolean)
LANGUAGE plpgsql AS $$
DECLARE
  b record;
  v_free integer;
BEGIN
  FOR b IN
    SELECT bk.id, bk.seats, bk.seat_nos FROM unnest(p_ids) WITH ORDINALITY AS x(id, i)
    JOIN bookings bk ON bk.id = x.id AND bk.show_id = p_show AND bk.status = 'EXPIRED'
    ORDER BY x.i
  LOOP
    IF b.seat_nos IS NULL THEN
      SELECT s.total_seats - s.held_seats - s.confirmed_seats - s.blocked_seats INTO v_free FROM shows s WHERE s.id = p_show;
    ELSE
      SELECT count(*) INTO v_free FROM seats st
      WHERE st.show_id = p_show AND st.seat_no = ANY (b.seat_nos) AND st.state = 'F';
      v_free := CASE WHEN v_free = b.seats THEN b.seats ELSE -1 END;
    END IF;
    booking_id := b.id;
    confirmed := v_free >= b.seats;
    IF confirmed THEN
      UPDATE bookings SET status = 'CONFIRMED', late = true, updated_at = p_now WHERE id = b.id;
      IF b.seat_nos IS NOT NULL THEN
        UPDATE seats st SET state = 'S', booking_id = b.id, version = (SELECT seat_version + 1 FROM shows WHERE id = p_show)
        WHERE st.show_id = p_show AND st.seat_no = ANY (b.seat_nos);
      END IF;
      UPDATE shows SET confirmed_seats = confirmed_seats + b.seats,
                       seat_version = seat_version + (b.seat_nos IS NOT NULL)::integer
      WHERE id = p_show;
    END IF;
    RETURN NEXT;
  END LOOP;
END;
$$;

-- A seated show's new map (PATCH), under the show's lock: seats keep their ids but are
-- renumbered in the new map's order (p_from[k] becomes p_to[k]); p_removed are free seats the
-- new map no longer has; the seats the new map adds are created. Bookings and blocks follow
-- their seats (a past booking's seat that no longer exists becomes -1); categories keep their
-- numbers by name, new ones are added and empty ones dropped; seat_map_version moves, so API
-- processes drop what they know of the old numbering.
CREATE FUNCTION remap_seats(
  p_show uuid,
  p_map jsonb,
  p_total integer,
  p_from integer[],
  p_to integer[],
  p_removed integer[],
  p_row_starts integer[],
  p_row_lengths integer[],
  p_row_categories text[]
) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_next bigint;
  v_offset constant integer := 1000000;
BEGIN
  SELECT seat_version + 1 INTO v_next FROM shows WHERE id = p_show;

  -- Categories new to the map, numbered after the existing ones, with their totals.
  INSERT INTO show_categories (show_id, category, name, total_seats)
  SELECT p_show, (SELECT coalesce(max(category), 0) FROM show_categories WHERE show_id = p_show) + row_number() OVER (ORDER BY n.first),
         n.name, n.total
  FROM (
    SELECT r.category AS name, min(r.ord) AS first, sum(r.length)::integer AS total
    FROM unnest(p_row_categories, p_row_lengths) WITH ORDINALITY AS r(category, length, ord)
    GROUP BY r.category) n
  WHERE NOT EXISTS (SELECT 1 FROM show_categories c WHERE c.show_id = p_show AND c.name = n.name);

  -- Totals only grow until the seats have moved (a category's counters never exceed its total).
  UPDATE show_categories c SET total_seats = greatest(c.total_seats, t.total)
  FROM (SELECT r.category AS name, sum(r.length)::integer AS total
        FROM unnest(p_row_categories, p_row_lengths) AS r(category, length) GROUP BY r.category) t
  WHERE c.show_id = p_show AND c.name = t.name;

  DELETE FROM seats WHERE show_id = p_show AND seat_no = ANY (p_removed) AND state = 'F';

  -- Renumbered in two steps so that no two seats ever share a number in between.
  UPDATE seats st SET seat_no = m.to_no + v_offset
  FROM unnest(p_from, p_to) AS m(from_no, to_no)
  WHERE st.show_id = p_show AND st.seat_no = m.from_no;
  UPDATE seats SET seat_no = seat_no - v_offset, version = v_next WHERE show_id = p_show AND seat_no >= v_offset;

  -- Each seat's category is its row's in the new map; the seats the new map adds are created free.
  WITH new_seats AS (
    SELECT g.seat_no, c.category
    FROM unnest(p_row_starts, p_row_lengths, p_row_categories) AS r(start, length, category)
    JOIN show_categories c ON c.show_id = p_show AND c.name = r.category
    CROSS JOIN LATERAL generate_series(r.start, r.start + r.length - 1) AS g(seat_no)),
  recategorized AS (
    UPDATE seats st SET category = n.category
    FROM new_seats n WHERE st.show_id = p_show AND st.seat_no = n.seat_no AND st.category <> n.category)
  INSERT INTO seats (show_id, seat_no, category, version)
  SELECT p_show, n.seat_no, n.category, v_next FROM new_seats n
  WHERE NOT n.seat_no = ANY (p_to);

  UPDATE show_categories c SET total_seats = t.total
  FROM (SELECT r.category AS name, sum(r.length)::integer AS total
        FROM unnest(p_row_categories, p_row_lengths) AS r(category, length) GROUP BY r.category) t
  WHERE c.show_id = p_show AND c.name = t.name AND c.total_seats <> t.total;
  DELETE FROM show_categories c
  WHERE c.show_id = p_show AND NOT c.name = ANY (p_row_categories);

  UPDATE bookings b SET seat_nos = (
    SELECT array_agg(coalesce(m.to_no, -1) ORDER BY coalesce(m.to_no, -1))
    FROM unnest(b.seat_nos) AS n(seat_no) LEFT JOIN unnest(p_from, p_to) AS m(from_no, to_no) ON m.from_no = n.seat_no)
  WHERE b.show_id = p_show AND b.seat_nos IS NOT NULL;
  UPDATE seat_blocks sb SET seat_nos = (
    SELECT array_agg(coalesce(m.to_no, -1) ORDER BY k.ord)
    FROM unnest(sb.seat_nos) WITH ORDINALITY AS k(seat_no, ord)
    LEFT JOIN unnest(p_from, p_to) AS m(from_no, to_no) ON m.from_no = k.seat_no)
  WHERE sb.show_id = p_show AND sb.seat_nos IS NOT NULL AND sb.seats > 0;

  UPDATE shows SET seat_map = p_map, total_seats = p_total, seat_map_version = seat_map_version + 1,
                   seat_version = v_next
  WHERE id = p_show;
END;
$$;

-- Down Migration

DROP FUNCTION remap_seats(uuid, jsonb, integer, integer[], integer[], integer[], integer[], integer[], text[]);
DROP FUNCTION confirm_late(uuid, uuid[], timestamptz);
DROP FUNCTION hold_seats(uuid, integer, timestamptz, integer, bigint, uuid[], integer[], integer[], integer[], text[], bytea[], text[], bytea[], uuid[], integer[], text[], text[]);
DROP TYPE hold_seats_result;
DROP FUNCTION hold_groups(uuid[], integer[], integer, uuid[], integer[], bytea[], text[], bytea[], uuid[], integer[], text[], text[]);
DROP FUNCTION hold_group(uuid, integer, timestamptz, uuid[], integer[], bytea[], text[], bytea[], uuid[], integer[], text[], text[], boolean);
DROP TYPE hold_group_result;
DROP FUNCTION record_hold_answers(timestamptz, timestamptz, text[], bytea[], uuid[], integer[], text[], text[]);
DROP FUNCTION hold_gate(uuid, timestamptz, timestamptz, timestamptz, timestamptz, boolean, text[], bytea[], uuid[], integer);
-- The functions of the earlier migrations are not recreated here: migrate down past it to get them back.
ALTER TABLE show_categories DROP CONSTRAINT show_categories_never_oversold, DROP COLUMN blocked_seats;
ALTER TABLE seats DROP CONSTRAINT seats_blocked_by_a_block, DROP COLUMN block_id;
DROP TABLE seat_blocks;
DROP INDEX bookings_by_show;
DROP INDEX bookings_by_customer;
ALTER TABLE bookings DROP COLUMN late, DROP COLUMN comp, DROP COLUMN customer_ref;
ALTER TABLE shows
  DROP CONSTRAINT shows_never_oversold,
  ADD CONSTRAINT shows_never_oversold CHECK (held_seats + confirmed_seats <= total_seats),
  DROP CONSTRAINT shows_sales_window,
  DROP COLUMN seat_map_version, DROP COLUMN blocked_seats, DROP COLUMN sales_end, DROP COLUMN sales_start,
  DROP COLUMN max_seats_per_customer, DROP COLUMN late_confirm;
