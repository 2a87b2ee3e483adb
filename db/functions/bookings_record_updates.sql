-- Each booking whose status moved, or whose deadline moved (an extension), is recorded in the
-- outbox as the lifecycle names that move (core.booking_transitions), in the statement that made
-- it. A move the lifecycle does not have is refused, whatever statement tries it
-- (core.refuse_booking_change). (A renumbering of a booking's seats by a new seat map is no event
-- of its own: show.updated says the map changed.)
CREATE FUNCTION core.bookings_record_updates() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO outbox_events (type, show_id, occurred_at, data)
  SELECT coalesce(t.event, core.refuse_booking_change(n.id, o.status, n.status)), n.show_id, n.updated_at,
         to_jsonb(n) - 'hold_token_hash'
  FROM new_bookings n
  JOIN old_bookings o ON o.id = n.id
  LEFT JOIN core.booking_transitions t ON t.from_status = o.status AND t.to_status = n.status
  WHERE n.status <> o.status OR n.expires_at <> o.expires_at
  ORDER BY n.updated_at, n.id;
  RETURN NULL;
END;
$$;

CREATE TRIGGER bookings_record_updates AFTER UPDATE ON public.bookings
  REFERENCING OLD TABLE AS old_bookings NEW TABLE AS new_bookings
  FOR EACH STATEMENT EXECUTE FUNCTION core.bookings_record_updates();
