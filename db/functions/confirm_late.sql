-- Late payments (late_confirm = 'reclaim'): confirms the bookings of p_ids that lapsed (the
-- lifecycle's late move: EXPIRED → CONFIRMED), in that order, each only if it passes what any sale
-- passes at p_at, as a hold of its seats would: the gate (core.hold_gate: show_started,
-- sales_not_open, sales_closed, type_not_on_sale for the types of its lines,
-- customer_ref_required), its customer's limit (core.decide_holds:
-- customer_limit, with the seats still allowed), and then only on the same seats (seated) or as
-- many seats (general admission) if they are all free now (seats_taken otherwise). Never a seat of
-- another booking. The caller holds the show's lock; the show's lapsed holds are expired first
-- (core.expire_overdue), so their seats count as free. Returns each booking of p_ids that lapsed,
-- with its outcome (`confirmed`, or why not, with the type not on sale for type_not_on_sale), and
-- how many lapsed holds were expired.
CREATE FUNCTION core.confirm_late(p_show uuid, p_ids uuid[], p_at timestamptz)
RETURNS TABLE (booking_id uuid, outcome text, allowed integer, reclaimed integer, ticket_type text)
LANGUAGE plpgsql AS $$
DECLARE
  v_show record;
  v_move record;
  v_reclaimed integer;
  b record;
  v_gate record;
  v_decided record;
  v_free integer;
BEGIN
  SELECT s.start_time, s.sales_start, s.sales_end, s.max_seats_per_customer INTO v_show
  FROM shows s WHERE s.id = p_show;
  SELECT t.from_status, t.to_status INTO STRICT v_move FROM core.booking_transitions t WHERE t.late;
  SELECT e.bookings INTO v_reclaimed FROM core.expire_overdue(p_show, p_at) e;
  FOR b IN
    SELECT bk.id, bk.seats, bk.seat_nos, bk.customer_ref, bk.lines FROM unnest(p_ids) WITH ORDINALITY AS x(id, i)
    JOIN bookings bk ON bk.id = x.id AND bk.show_id = p_show AND bk.status = v_move.from_status
    ORDER BY x.i
  LOOP
    SELECT * INTO v_gate FROM core.hold_gate(p_show, p_at, v_show.start_time, v_show.sales_start, v_show.sales_end,
                                             v_show.max_seats_per_customer IS NOT NULL, ARRAY[b.customer_ref],
                                             NULL, NULL, 1, ARRAY[b.lines]);
    SELECT * INTO v_decided FROM core.decide_holds(v_gate.outcomes, ARRAY[b.seats], ARRAY[b.customer_ref],
                                                   v_show.max_seats_per_customer, v_gate.customers, v_gate.used,
                                                   NULL);
    booking_id := b.id;
    outcome := v_decided.outcomes[1];
    allowed := v_decided.allowed[1];
    reclaimed := v_reclaimed;
    ticket_type := v_gate.off_sale_types[1];
    IF outcome = 'held' THEN
      IF b.seat_nos IS NULL THEN
        SELECT s.total_seats - s.held_seats - s.confirmed_seats - s.blocked_seats INTO v_free
        FROM shows s WHERE s.id = p_show;
      ELSE
        SELECT count(*) INTO v_free FROM seats st
        WHERE st.show_id = p_show AND st.seat_no = ANY (b.seat_nos) AND st.state = 'F';
      END IF;
      IF v_free >= b.seats THEN
        PERFORM core.move_bookings(p_show, p_at, ARRAY[b.id], ARRAY[v_move.from_status], ARRAY[v_move.to_status]);
        outcome := 'confirmed';
      ELSE
        outcome := 'seats_taken';
      END IF;
    END IF;
    RETURN NEXT;
  END LOOP;
END;
$$;
