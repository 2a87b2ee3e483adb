-- One row per request of a seated hold group: as core.hold_group_result, with the show's seat
-- version before and after the group, the seats of the lapsed holds it expired (first row only),
-- and the seat ids of the booking written.
CREATE TYPE core.hold_seats_result AS (
  request integer,
  outcome text,
  available integer,
  reclaimed integer,
  allowed integer,
  sales_start timestamptz,
  ticket_type text,
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

-- One hold group of a seated show, in one statement: the seated counterpart of core.hold_group.
-- The API process chose the seats (best available, or the seats asked for) from the show's seat
-- states as it knows them at p_version, numbered on the map of p_map_version; the choice stands
-- only if nothing changed the show's seats since. Otherwise nothing is written and every request
-- answers `map_changed` (the seats were renumbered: the API reads the map again and numbers the
-- seats asked for on it) or `stale` (the API catches up with the seats changed since p_version and
-- chooses again). Likewise `types_changed` when the show's ticket types changed since
-- p_types_version, which the API priced the requests at (p_lines, p_totals: frozen with the
-- bookings): it reads them again and prices again.
--
-- p_counts[i] is the number of seats request i holds, 0 when the API refused it (its seats were
-- taken, or no block was free): such a request still passes the gate, so that a started show or a
-- taken-over key answers as for general admission, and otherwise answers `refused`. The chosen
-- seats of all requests are p_seat_nos, p_seat_requests[k] naming the request (1-based) of
-- p_seat_nos[k], and p_seat_ids their ids.
--
-- Lapsed holds of the show are expired first, every time (core.expire_overdue): their seats come
-- back in `freed` (first row), so that the API's seat states stay exact, and a request it refused
-- may be chosen again. If a chosen seat is not free after that (the API counted on a hold it
-- believed lapsed, extended elsewhere), the group holds nothing and every request answers
-- `conflict`: only the expiry is written, and the API reads every seat again.
--
-- Each request passes the gate (core.hold_gate) and the per-customer limits (core.decide_holds);
-- keyed answers are recorded with the holds (core.record_hold_answers).
-- Outcomes: held, refused, the gate's (show_started, taken_over, sales_not_open, sales_closed,
-- type_not_on_sale, customer_ref_required), customer_limit, show_not_found, not_seated, map_changed,
-- types_changed, stale, conflict.
CREATE FUNCTION core.hold_seats(
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
  p_answer_locations text[],
  p_types_version integer,
  p_lines jsonb[],
  p_totals bigint[]
) RETURNS SETOF core.hold_seats_result
LANGUAGE plpgsql AS $$
DECLARE
  n integer := coalesce(array_length(p_ids, 1), 0);
  -- Only the columns used: the seat map itself can be large.
  v_show record;
  v_now timestamptz;
  v_expires timestamptz;
  v_gate record;
  v_decided record;
  v_outcomes text[];
  v_reclaim record;
  v_held_seats integer := 0;
  v_claimed integer;
  v_after record;
BEGIN
  SELECT s.start_time, s.total_seats, s.held_seats, s.confirmed_seats, s.blocked_seats, s.sales_start, s.sales_end,
         s.max_seats_per_customer, s.seat_version, s.seat_map_version, s.seat_map IS NOT NULL AS seated, s.currency,
         s.ticket_types_version INTO v_show
  FROM shows s WHERE s.id = p_show FOR UPDATE;
  IF NOT FOUND OR NOT v_show.seated OR v_show.seat_map_version <> p_map_version
     OR v_show.ticket_types_version <> p_types_version OR v_show.seat_version <> p_version THEN
    RETURN QUERY SELECT o.i::integer,
                        CASE WHEN v_show IS NULL THEN 'show_not_found'
                             WHEN NOT v_show.seated THEN 'not_seated'
                             WHEN v_show.seat_map_version <> p_map_version THEN 'map_changed'
                             WHEN v_show.ticket_types_version <> p_types_version THEN 'types_changed'
                             ELSE 'stale' END,
                        NULL::integer, 0, NULL::integer, NULL::timestamptz, NULL::text, v_show.seat_version,
                        v_show.seat_version,
                        NULL::integer[], NULL::uuid, NULL::uuid, NULL::integer, NULL::text[], NULL::booking_status,
                        NULL::timestamptz, NULL::timestamptz, NULL::timestamptz
                 FROM generate_series(1, n) AS o(i);
    RETURN;
  END IF;
  v_now := coalesce(p_now, clock_timestamp());
  v_expires := v_now + make_interval(secs => p_ttl_seconds);

  SELECT * INTO v_gate FROM core.hold_gate(p_show, v_now, v_show.start_time, v_show.sales_start, v_show.sales_end,
                                           v_show.max_seats_per_customer IS NOT NULL, p_customer_refs, p_scopes,
                                           p_claims, n, p_lines);
  SELECT * INTO v_decided FROM core.decide_holds(v_gate.outcomes, p_counts, p_customer_refs,
                                                 v_show.max_seats_per_customer, v_gate.customers, v_gate.used, NULL);
  v_outcomes := v_decided.outcomes;
  SELECT coalesce(sum(c.count), 0)::integer INTO v_held_seats
  FROM unnest(p_counts, v_outcomes) AS c(count, outcome) WHERE c.outcome = 'held';

  SELECT * INTO v_reclaim FROM core.expire_overdue(p_show, v_now);

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
                          expires_at, updated_at, currency, lines, total)
    SELECT p_ids[g.request], p_show, p_counts[g.request], g.seat_nos, g.seat_ids,
           p_token_hashes[g.request], p_customer_refs[g.request], v_now, v_expires, v_now, v_show.currency,
           p_lines[g.request], p_totals[g.request]
    FROM (
      SELECT c.request, array_agg(c.seat_no ORDER BY c.seat_no) AS seat_nos,
             array_agg(c.seat_id ORDER BY c.seat_no) AS seat_ids
      FROM unnest(p_seat_nos, p_seat_requests, p_seat_ids) AS c(seat_no, request, seat_id)
      WHERE v_outcomes[c.request] = 'held'
      GROUP BY c.request) g;

    -- The seats were free just above and the show's lock is held: all of them are claimed, or the
    -- whole group fails (it must not sell a seat twice).
    UPDATE seats st SET state = 'H', booking_id = p_ids[c.request],
                        version = (SELECT seat_version + 1 FROM shows WHERE id = p_show)
    FROM unnest(p_seat_nos, p_seat_requests) AS c(seat_no, request)
    WHERE v_outcomes[c.request] = 'held' AND st.show_id = p_show AND st.seat_no = c.seat_no AND st.state = 'F';
    GET DIAGNOSTICS v_claimed = ROW_COUNT;
    IF v_claimed <> v_held_seats THEN
      RAISE EXCEPTION 'claimed % of % chosen seats of show % at version %', v_claimed, v_held_seats, p_show, p_version
        USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    UPDATE shows SET held_seats = held_seats + v_held_seats, seat_version = seat_version + 1 WHERE id = p_show;
  END IF;

  SELECT s.seat_version, s.total_seats - s.held_seats - s.confirmed_seats - s.blocked_seats AS free INTO v_after
  FROM shows s WHERE s.id = p_show;
  RETURN QUERY
  SELECT o.i::integer, o.outcome, v_after.free, v_reclaim.bookings, v_decided.allowed[o.i], v_show.sales_start,
         v_gate.off_sale_types[o.i], v_show.seat_version, v_after.seat_version, CASE WHEN o.i = 1 THEN v_reclaim.freed END,
         b.id, b.show_id, b.seats, b.seat_ids, b.status, b.created_at, b.expires_at, b.updated_at
  FROM unnest(p_ids, v_outcomes) WITH ORDINALITY AS o(booking_id, outcome, i)
  LEFT JOIN bookings b ON o.outcome = 'held' AND b.id = o.booking_id
  ORDER BY o.i;

  PERFORM core.record_hold_answers(v_now, v_expires, v_outcomes, p_scopes, p_claims, p_answer_statuses,
                                   p_answer_bodies, p_answer_locations);
END;
$$;
