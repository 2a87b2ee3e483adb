-- Moves bookings of the show from one status to another, in one statement, under the show's lock
-- (the caller holds it): every status change of a booking but its creation goes through here (a
-- confirm, a cancel, an expiry, a late confirm). What a move may be, and what it does, is read from
-- the lifecycle (core.booking_transitions, core.booking_statuses):
-- - each move is conditional: the booking must still be in p_from[i], the move must be in the
--   table, and out of a status with a deadline only before it, or only after it to expire;
-- - the show's counters move by the seats of the rows actually moved: held_seats counts the
--   statuses that hold seats, confirmed_seats those that sell them;
-- - a seated booking's seats take the state of its new status (H, S), or are freed; a booking that
--   had none (a late confirm) takes its seats back only where they are free. The deferred trigger
--   core.booking_seats_owned fails the transaction at commit if a booking does not own exactly
--   its seats then.
-- Returns the bookings moved, as they are after.
--
-- Planned for each call's arguments (plan_cache_mode): a plan cached for any arguments chose a
-- scan of the show's seats that cost a mixed group (confirms) four times the lock hold.
CREATE FUNCTION core.move_bookings(
  p_show uuid,
  p_at timestamptz,
  p_ids uuid[],
  p_from booking_status[],
  p_to booking_status[]
) RETURNS SETOF bookings
LANGUAGE plpgsql
SET plan_cache_mode = force_custom_plan AS $$
BEGIN
  RETURN QUERY
  WITH moved AS (
    UPDATE bookings b SET status = m.to_status, updated_at = p_at, late = b.late OR t.late
    FROM unnest(p_ids, p_from, p_to) AS m(id, from_status, to_status)
    JOIN core.booking_transitions t ON t.from_status = m.from_status AND t.to_status = m.to_status
    WHERE b.id = m.id AND b.show_id = p_show AND b.status = m.from_status
      AND (t.when_lapsed IS NULL OR t.when_lapsed = core.lapsed(b.status, b.expires_at, p_at))
    RETURNING b AS booking, m.from_status),
  counts AS (
    SELECT coalesce(sum((e.booking).seats) FILTER (WHERE ts.seats = 'held'), 0)
             - coalesce(sum((e.booking).seats) FILTER (WHERE fs.seats = 'held'), 0) AS held,
           coalesce(sum((e.booking).seats) FILTER (WHERE ts.seats = 'sold'), 0)
             - coalesce(sum((e.booking).seats) FILTER (WHERE fs.seats = 'sold'), 0) AS sold,
           bool_or((e.booking).seat_nos IS NOT NULL) AS seated
    FROM moved e
    JOIN core.booking_statuses fs ON fs.status = e.from_status
    JOIN core.booking_statuses ts ON ts.status = (e.booking).status),
  counted AS (
    UPDATE shows s SET held_seats = s.held_seats + c.held, confirmed_seats = s.confirmed_seats + c.sold,
                       seat_version = s.seat_version + c.seated::integer
    FROM counts c WHERE s.id = p_show AND c.seated IS NOT NULL),
  seats_moved AS (
    UPDATE seats st SET state = coalesce(ts.seat_state, 'F'),
                        booking_id = CASE WHEN ts.seat_state IS NOT NULL THEN (e.booking).id END,
                        version = (SELECT seat_version + 1 FROM shows WHERE id = p_show)
    FROM moved e
    JOIN core.booking_statuses fs ON fs.status = e.from_status
    JOIN core.booking_statuses ts ON ts.status = (e.booking).status
    CROSS JOIN LATERAL unnest((e.booking).seat_nos) AS r(seat_no)
    WHERE st.show_id = p_show AND st.seat_no = r.seat_no
      AND (st.booking_id = (e.booking).id OR (fs.seat_state IS NULL AND st.state = 'F')))
  SELECT (e.booking).* FROM moved e;
END;
$$;
