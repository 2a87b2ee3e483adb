-- At commit, a seated booking owns exactly its seats, in the state its status gives them (the
-- lifecycle: a PENDING hold's are held, H; a CONFIRMED booking's sold, S), or none at all in a
-- status that has no seats. With the single owner column of a seat, this makes "a seat is in at
-- most one live booking" a property of the database, not of the code.
CREATE FUNCTION core.booking_seats_owned() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  v record;
BEGIN
  -- The booking as it is at commit (NEW is the row as one change left it, and a transaction may
  -- change it again: a late confirm expires a hold, then confirms it), the state its status gives
  -- its seats, and how many of them it owns in that state.
  SELECT b.id, b.status, cardinality(b.seat_nos) AS seats, s.seat_state,
         (SELECT count(*) FROM seats st
          WHERE st.show_id = b.show_id AND st.seat_no = ANY (b.seat_nos) AND st.booking_id = b.id
            AND (s.seat_state IS NULL OR st.state = s.seat_state)) AS owned
  INTO v
  FROM bookings b JOIN core.booking_statuses s ON s.status = b.status
  WHERE b.id = NEW.id;
  IF v.owned <> (CASE WHEN v.seat_state IS NULL THEN 0 ELSE v.seats END) THEN
    RAISE EXCEPTION 'booking % (%) owns % of its % seats', v.id, v.status, v.owned, v.seats
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER bookings_own_their_seats AFTER INSERT OR UPDATE OF status ON public.bookings
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (NEW.seat_nos IS NOT NULL)
  EXECUTE FUNCTION core.booking_seats_owned();
