-- Each booking created is recorded in the outbox as the lifecycle names its creation
-- (core.booking_transitions from no status: booking.held for a hold, booking.confirmed for a comp),
-- in the statement that inserts it: a group of 200 holds writes its 200 events in one INSERT. A
-- booking created in a status the lifecycle does not create is refused
-- (core.refuse_booking_change).
CREATE FUNCTION core.bookings_record_inserts() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO outbox_events (type, show_id, occurred_at, data)
  SELECT coalesce(t.event, core.refuse_booking_change(n.id, NULL, n.status)), n.show_id, n.updated_at,
         to_jsonb(n) - 'hold_token_hash'
  FROM new_bookings n
  LEFT JOIN core.booking_transitions t ON t.from_status IS NULL AND t.to_status = n.status
  ORDER BY n.created_at, n.id;
  RETURN NULL;
END;
$$;

CREATE TRIGGER bookings_record_inserts AFTER INSERT ON public.bookings
  REFERENCING NEW TABLE AS new_bookings
  FOR EACH STATEMENT EXECUTE FUNCTION core.bookings_record_inserts();
