-- Each booking whose status moved, or whose deadline moved (an extension), is recorded in the
-- outbox as the lifecycle names that move (core.booking_transitions), in the statement that made
-- it. A move the lifecycle does not have is refused, whatever statement tries it. (A renumbering
-- of a booking's seats by a new seat map is no event of its own: show.updated says the map changed.)
CREATE FUNCTION core.bookings_record_updates() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  v_refused record;
BEGIN
  SELECT n.id, o.status AS was, n.status INTO v_refused
  FROM new_bookings n JOIN old_bookings o ON o.id = n.id
  WHERE (n.status <> o.status OR n.expires_at <> o.expires_at)
    AND NOT EXISTS (SELECT 1 FROM core.booking_transitions t WHERE t.from_status = o.status AND t.to_status = n.status)
  LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'booking % cannot go from % to % (src/domain/booking-lifecycle.ts)', v_refused.id, v_refused.was,
      v_refused.status USING ERRCODE = 'check_violation';
  END IF;
  INSERT INTO outbox_events (type, show_id, occurred_at, data)
  SELECT t.event, n.show_id, n.updated_at, to_jsonb(n) - 'hold_token_hash'
  FROM new_bookings n
  JOIN old_bookings o ON o.id = n.id
  JOIN core.booking_transitions t ON t.from_status = o.status AND t.to_status = n.status
  WHERE n.status <> o.status OR n.expires_at <> o.expires_at
  ORDER BY n.updated_at, n.id;
  RETURN NULL;
END;
$$;

CREATE TRIGGER bookings_record_updates AFTER UPDATE ON public.bookings
  REFERENCING OLD TABLE AS old_bookings NEW TABLE AS new_bookings
  FOR EACH STATEMENT EXECUTE FUNCTION core.bookings_record_updates();
