-- What an expired hold means, for every path that expires one (the BullMQ job and the sweep, a
-- hold group short of seats, a seated group, a late confirm, an action on a lapsed hold, the
-- house before it takes seats): the show's holds lapsed at p_at (core.lapsed), at most p_limit of
-- them, only those of p_ids when given, move to the status they lapse to (core.move_bookings:
-- EXPIRED, their seats back on sale). Caller holds the show's lock. Returns how many, their seats,
-- the seat numbers freed (seated) and how late each was (seconds past its expires_at).
CREATE FUNCTION core.expire_overdue(
  p_show uuid,
  p_at timestamptz,
  p_limit integer DEFAULT NULL,
  p_ids uuid[] DEFAULT NULL
) RETURNS TABLE (bookings integer, seats integer, freed integer[], late_seconds float8[])
LANGUAGE plpgsql AS $$
DECLARE
  v_ids uuid[];
  v_from booking_status[];
  v_to booking_status[];
BEGIN
  SELECT array_agg(b.id), array_agg(b.status), array_agg(s.lapses_to) INTO v_ids, v_from, v_to
  FROM (
    SELECT b.id, b.status FROM bookings b
    WHERE b.show_id = p_show AND core.lapsed(b.status, b.expires_at, p_at) AND (p_ids IS NULL OR b.id = ANY (p_ids))
    LIMIT p_limit) b
  JOIN core.booking_statuses s ON s.status = b.status;
  IF v_ids IS NULL THEN
    RETURN QUERY SELECT 0, 0, '{}'::integer[], '{}'::float8[];
    RETURN;
  END IF;
  RETURN QUERY
  WITH moved AS (SELECT * FROM core.move_bookings(p_show, p_at, v_ids, v_from, v_to))
  SELECT (SELECT count(*)::integer FROM moved), (SELECT coalesce(sum(m.seats), 0)::integer FROM moved m),
         coalesce((SELECT array_agg(n.seat_no ORDER BY n.seat_no) FROM moved m, unnest(m.seat_nos) AS n(seat_no)), '{}'),
         (SELECT array_agg(extract(epoch FROM p_at - m.expires_at)::float8) FROM moved m);
END;
$$;
