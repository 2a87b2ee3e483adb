-- Each booking created is recorded in the outbox as the lifecycle names its creation
-- (core.booking_transitions from no status: booking.held for a hold, booking.confirmed for a comp),
-- in the statement that inserts it: a group of 200 holds writes its 200 events in one INSERT. A
-- booking created in a status the lifecycle does not create is refused.
CREATE FUNCTION core.bookings_record_inserts() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  v_refused record;
BEGIN
  SELECT n.id, n.status INTO v_refused FROM new_bookings n
  WHERE NOT EXISTS (SELECT 1 FROM core.booking_transitions t WHERE t.from_status IS NULL AND t.to_status = n.status)
  LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'booking % cannot be created % (src/domain/booking-lifecycle.ts)', v_refused.id, v_refused.status
      USING ERRCODE = 'check_violation';
  END IF;
  INSERT INTO outbox_events (type, show_id, occurred_at, data)
  SELECT t.event, n.show_id, n.updated_at, to_jsonb(n) - 'hold_token_hash'
  FROM new_bookings n
  JOIN core.booking_transitions t ON t.from_status IS NULL AND t.to_status = n.status
  ORDER BY n.created_at, n.id;
  RETURN NULL;
END;
$$;

CREATE TRIGGER bookings_record_inserts AFTER INSERT ON public.bookings
  REFERENCING NEW TABLE AS new_bookings
  FOR EACH STATEMENT EXECUTE FUNCTION core.bookings_record_inserts();
