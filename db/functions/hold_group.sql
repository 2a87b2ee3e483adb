-- One row per request of a hold group: its outcome, the seats left free after the group, the
-- lapsed holds the group expired, the seats a customer refused by its limit may still hold
-- (`allowed`), the sales start (for sales_not_open), the ticket type not on sale
-- (type_not_on_sale), and the booking written when it was held.
CREATE TYPE core.hold_group_result AS (
  request integer,
  outcome text,
  available integer,
  reclaimed integer,
  allowed integer,
  sales_start timestamptz,
  ticket_type text,
  id uuid,
  show_id uuid,
  seats integer,
  status booking_status,
  created_at timestamptz,
  expires_at timestamptz,
  updated_at timestamptz
);

-- One hold group of one general-admission show, decided and written by one statement. Called on
-- its own (autocommit), the show's row lock is held for exactly one round trip: nothing between the
-- lock and the commit waits on the API's event loop. Called inside a transaction that already holds
-- the lock (a group that also confirms or cancels), it takes that transaction's instant (p_now) so
-- every deadline of the group is judged at one instant.
--
-- The API priced each request (p_lines, p_totals: what the booking sells, frozen) from the show's
-- ticket types at p_types_version. If they changed since, nothing is written and every request
-- answers `types_changed` (the API reads them again and prices the requests again).
--
-- Requests are given in arrival order, one array element each, and judged at the instant the lock
-- was granted: first the gate (core.hold_gate: a taken-over key, show_started, sales_not_open,
-- sales_closed, type_not_on_sale, customer_ref_required), then seats and per-customer limits in arrival order
-- (core.decide_holds: held, customer_limit, sold_out). Lapsed holds are expired
-- (core.expire_overdue) only when seats are short. Also show_not_found, types_changed, and show_busy (only with
-- p_skip_locked: another transaction holds the show's lock; the caller retries the group on its
-- own, where it waits for the lock).
--
-- A keyed request's answer is recorded with its hold, in this statement (core.record_hold_answers).
CREATE FUNCTION core.hold_group(
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
  p_types_version integer,
  p_lines jsonb[],
  p_totals bigint[],
  p_skip_locked boolean DEFAULT false
) RETURNS SETOF core.hold_group_result
LANGUAGE plpgsql AS $$
DECLARE
  n integer := coalesce(array_length(p_ids, 1), 0);
  -- Only the columns used: the seat map itself can be large.
  v_show record;
  v_now timestamptz;
  v_expires timestamptz;
  v_free integer;
  v_wanted integer := 0;
  v_reclaimed integer := 0;
  v_freed integer;
  v_gate record;
  v_decided record;
BEGIN
  IF p_skip_locked THEN
    SELECT s.start_time, s.total_seats, s.held_seats, s.confirmed_seats, s.blocked_seats, s.sales_start, s.sales_end,
           s.max_seats_per_customer, s.currency, s.ticket_types_version INTO v_show
    FROM shows s WHERE s.id = p_show FOR UPDATE SKIP LOCKED;
  ELSE
    SELECT s.start_time, s.total_seats, s.held_seats, s.confirmed_seats, s.blocked_seats, s.sales_start, s.sales_end,
           s.max_seats_per_customer, s.currency, s.ticket_types_version INTO v_show
    FROM shows s WHERE s.id = p_show FOR UPDATE;
  END IF;
  IF NOT FOUND OR v_show.ticket_types_version <> p_types_version THEN
    RETURN QUERY SELECT o.i::integer,
                        CASE WHEN v_show IS NULL THEN
                               CASE WHEN EXISTS (SELECT 1 FROM shows WHERE shows.id = p_show)
                                    THEN 'show_busy' ELSE 'show_not_found' END
                             ELSE 'types_changed' END,
                        NULL::integer, 0, NULL::integer, NULL::timestamptz, NULL::text, NULL::uuid, NULL::uuid,
                        NULL::integer, NULL::booking_status, NULL::timestamptz, NULL::timestamptz, NULL::timestamptz
                 FROM generate_series(1, n) AS o(i);
    RETURN;
  END IF;
  -- Read once the lock is granted: a request that waited for it is judged now, not when it began.
  v_now := coalesce(p_now, clock_timestamp());
  v_expires := v_now + make_interval(secs => p_ttl_seconds);

  SELECT * INTO v_gate FROM core.hold_gate(p_show, v_now, v_show.start_time, v_show.sales_start, v_show.sales_end,
                                           v_show.max_seats_per_customer IS NOT NULL, p_customer_refs, p_scopes,
                                           p_claims, n, p_lines);
  FOR i IN 1..n LOOP
    IF v_gate.outcomes[i] IS NULL THEN v_wanted := v_wanted + p_seats[i]; END IF;
  END LOOP;

  v_free := v_show.total_seats - v_show.held_seats - v_show.confirmed_seats - v_show.blocked_seats;
  IF v_free < v_wanted THEN
    SELECT e.bookings, e.seats INTO v_reclaimed, v_freed FROM core.expire_overdue(p_show, v_now) e;
    v_free := v_free + v_freed;
  END IF;

  SELECT * INTO v_decided FROM core.decide_holds(v_gate.outcomes, p_seats, p_customer_refs,
                                                 v_show.max_seats_per_customer, v_gate.customers, v_gate.used,
                                                 v_free);

  -- The held counter moves in the statement that inserts, by the seats of the rows inserted.
  RETURN QUERY
  WITH inserted AS (
    INSERT INTO bookings AS b (id, show_id, seats, hold_token_hash, customer_ref, created_at, expires_at, updated_at,
                               currency, lines, total)
    SELECT r.id, p_show, r.seats, r.hash, r.customer_ref, v_now, v_expires, v_now, v_show.currency, r.lines, r.total
    FROM unnest(p_ids, p_seats, p_token_hashes, p_customer_refs, v_decided.outcomes, p_lines, p_totals)
      AS r(id, seats, hash, customer_ref, outcome, lines, total)
    WHERE r.outcome = 'held'
    RETURNING b.id, b.show_id, b.seats, b.status, b.created_at, b.expires_at, b.updated_at),
  counted AS (
    UPDATE shows SET held_seats = held_seats + (SELECT sum(i.seats) FROM inserted i)
    WHERE shows.id = p_show AND EXISTS (SELECT 1 FROM inserted))
  SELECT o.i::integer, o.outcome, v_decided.free, v_reclaimed, v_decided.allowed[o.i], v_show.sales_start,
         v_gate.off_sale_types[o.i], ins.id, ins.show_id, ins.seats, ins.status, ins.created_at, ins.expires_at, ins.updated_at
  FROM unnest(p_ids, v_decided.outcomes) WITH ORDINALITY AS o(booking_id, outcome, i)
  LEFT JOIN inserted ins ON ins.id = o.booking_id
  ORDER BY o.i;

  PERFORM core.record_hold_answers(v_now, v_expires, v_decided.outcomes, p_scopes, p_claims, p_answer_statuses,
                                   p_answer_bodies, p_answer_locations);
END;
$$;
