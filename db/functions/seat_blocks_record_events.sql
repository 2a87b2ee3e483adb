-- House seats: show.seats_blocked when a block is made, show.seats_released when it is released
-- and its seats go back on sale. A comp taking seats out of a block is its booking.confirmed, and
-- a block the comps empty is used up, not released: its seats were sold.
CREATE FUNCTION core.seat_blocks_record_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO outbox_events (type, show_id, occurred_at, data)
  VALUES (CASE WHEN TG_OP = 'INSERT' THEN 'show.seats_blocked' ELSE 'show.seats_released' END, NEW.show_id,
          coalesce(NEW.released_at, NEW.created_at),
          jsonb_build_object('id', NEW.id, 'show_id', NEW.show_id, 'seats', CASE WHEN TG_OP = 'INSERT' THEN NEW.seats ELSE OLD.seats END,
                             'seat_ids', CASE WHEN TG_OP = 'INSERT' THEN NEW.seat_ids ELSE OLD.seat_ids END,
                             'seat_nos', CASE WHEN TG_OP = 'INSERT' THEN NEW.seat_nos ELSE OLD.seat_nos END,
                             'note', NEW.note, 'created_at', NEW.created_at, 'released_at', NEW.released_at));
  RETURN NULL;
END;
$$;

CREATE TRIGGER seat_blocks_record_inserts AFTER INSERT ON public.seat_blocks
  FOR EACH ROW EXECUTE FUNCTION core.seat_blocks_record_events();
CREATE TRIGGER seat_blocks_record_releases AFTER UPDATE ON public.seat_blocks
  FOR EACH ROW WHEN (OLD.released_at IS NULL AND NEW.released_at IS NOT NULL)
  EXECUTE FUNCTION core.seat_blocks_record_events();
