-- show.created; show.updated when what the admin sets changed; show.sold_out and
-- show.back_on_sale when the seats left (by the counters) reach 0 or leave it. The seat map is
-- left out (it can be megabytes): a changed map shows as a new seat_map_version. A change of the
-- ticket types moves ticket_types_version (the types themselves are in another table).
CREATE FUNCTION core.shows_record_events() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  v_data jsonb;
  v_left integer := NEW.total_seats - NEW.held_seats - NEW.confirmed_seats - NEW.blocked_seats;
  v_was_left integer;
  v_at timestamptz := statement_timestamp();
BEGIN
  v_data := jsonb_build_object(
    'id', NEW.id, 'title', NEW.title, 'description', NEW.description, 'start_time', NEW.start_time,
    'total_seats', NEW.total_seats, 'created_at', NEW.created_at, 'late_confirm', NEW.late_confirm,
    'max_seats_per_customer', NEW.max_seats_per_customer, 'sales_start', NEW.sales_start, 'sales_end', NEW.sales_end,
    'seating', CASE WHEN NEW.seat_map IS NULL THEN 'general_admission' ELSE 'assigned' END,
    'available_seats', v_left,
    'available_by_category', CASE WHEN NEW.seat_map IS NOT NULL THEN (
      SELECT jsonb_object_agg(c.name, c.total_seats - c.held_seats - c.sold_seats - c.blocked_seats ORDER BY c.category)
      FROM show_categories c WHERE c.show_id = NEW.id) END,
    'seat_map_version', NEW.seat_map_version,
    'currency', NEW.currency,
    'ticket_types', core.listed_ticket_types(NEW.id));
  IF TG_OP = 'INSERT' THEN
    INSERT INTO outbox_events (type, show_id, occurred_at, data) VALUES ('show.created', NEW.id, v_at, v_data);
    RETURN NULL;
  END IF;
  IF (OLD.title, OLD.description, OLD.start_time, OLD.total_seats, OLD.late_confirm, OLD.max_seats_per_customer,
      OLD.sales_start, OLD.sales_end, OLD.seat_map_version, OLD.ticket_types_version)
     IS DISTINCT FROM
     (NEW.title, NEW.description, NEW.start_time, NEW.total_seats, NEW.late_confirm, NEW.max_seats_per_customer,
      NEW.sales_start, NEW.sales_end, NEW.seat_map_version, NEW.ticket_types_version) THEN
    INSERT INTO outbox_events (type, show_id, occurred_at, data) VALUES ('show.updated', NEW.id, v_at, v_data);
  END IF;
  v_was_left := OLD.total_seats - OLD.held_seats - OLD.confirmed_seats - OLD.blocked_seats;
  IF v_was_left > 0 AND v_left = 0 THEN
    INSERT INTO outbox_events (type, show_id, occurred_at, data) VALUES ('show.sold_out', NEW.id, v_at, v_data);
  ELSIF v_was_left = 0 AND v_left > 0 THEN
    INSERT INTO outbox_events (type, show_id, occurred_at, data) VALUES ('show.back_on_sale', NEW.id, v_at, v_data);
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER shows_record_inserts AFTER INSERT ON public.shows
  FOR EACH ROW EXECUTE FUNCTION core.shows_record_events();
-- The WHEN clause keeps the hot path's counter updates from calling the function at all.
CREATE TRIGGER shows_record_updates AFTER UPDATE ON public.shows
  FOR EACH ROW
  WHEN ((OLD.total_seats - OLD.held_seats - OLD.confirmed_seats - OLD.blocked_seats = 0)
          <> (NEW.total_seats - NEW.held_seats - NEW.confirmed_seats - NEW.blocked_seats = 0)
        OR (OLD.title, OLD.description, OLD.start_time, OLD.total_seats, OLD.late_confirm, OLD.max_seats_per_customer,
            OLD.sales_start, OLD.sales_end, OLD.seat_map_version, OLD.ticket_types_version)
           IS DISTINCT FROM
           (NEW.title, NEW.description, NEW.start_time, NEW.total_seats, NEW.late_confirm, NEW.max_seats_per_customer,
            NEW.sales_start, NEW.sales_end, NEW.seat_map_version, NEW.ticket_types_version))
  EXECUTE FUNCTION core.shows_record_events();
