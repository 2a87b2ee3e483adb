-- At commit, a seated booking owns exactly its seats, in the state its status gives them (the
-- lifecycle: a PENDING hold's are held, H; a CONFIRMED booking's sold, S), or none at all in a
-- status that has no seats. With the single owner column of a seat, this makes "a seat is in at
-- most one live booking" a property of the database, not of the code.
CREATE FUNCTION core.booking_seats_owned() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  -- The booking as it is at commit: NEW is the row as one change left it, and a transaction may
  -- change it again (a late confirm expires a hold, then confirms it).
  b bookings%ROWTYPE;
  v_state "char";
  v_owned integer;
BEGIN
  SELECT * INTO b FROM bookings WHERE id = NEW.id;
  SELECT s.seat_state INTO v_state FROM core.booking_statuses s WHERE s.status = b.status;
  SELECT count(*) INTO v_owned FROM seats st
  WHERE st.show_id = b.show_id AND st.seat_no = ANY (b.seat_nos) AND st.booking_id = b.id
    AND (v_state IS NULL OR st.state = v_state);
  IF v_owned <> (CASE WHEN v_state IS NULL THEN 0 ELSE cardinality(b.seat_nos) END) THEN
    RAISE EXCEPTION 'booking % (%) owns % of its % seats', b.id, b.status, v_owned, cardinality(b.seat_nos)
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER bookings_own_their_seats AFTER INSERT OR UPDATE OF status ON public.bookings
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (NEW.seat_nos IS NOT NULL)
  EXECUTE FUNCTION core.booking_seats_owned();
