-- Raises: a booking created in, or moved to, a status the lifecycle has no move for
-- (core.booking_transitions). Called by the outbox triggers of bookings where the event of a
-- change should be, so a change the lifecycle lacks is refused in the same pass that records the
-- others. Declared to return the event's type; it never returns.
CREATE FUNCTION core.refuse_booking_change(p_id uuid, p_from booking_status, p_to booking_status)
RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
  IF p_from IS NULL THEN
    RAISE EXCEPTION 'booking % cannot be created % (src/domain/booking-lifecycle.ts)', p_id, p_to
      USING ERRCODE = 'check_violation';
  END IF;
  RAISE EXCEPTION 'booking % cannot go from % to % (src/domain/booking-lifecycle.ts)', p_id, p_from, p_to
    USING ERRCODE = 'check_violation';
END;
$$;
