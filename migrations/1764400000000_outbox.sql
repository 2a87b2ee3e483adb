-- Up Migration

-- The transactional outbox: one row per event, written by triggers in the transaction (and,
-- for a statement that changes many bookings, in the statement) that made the change, so an
-- event exists exactly when its change committed, whichever code path made it.
--
-- Readers (the webhook relay, each API process's live-availability feed) follow the outbox in
-- (tx, seq) order, and only up to the oldest transaction still running
-- (pg_snapshot_xmin(pg_current_snapshot())): every row below it is committed or gone for good,
-- and every row a running transaction may still commit is above it. seq alone is not
-- commit order: a transaction can take a lower seq and commit after a higher one.
CREATE TABLE outbox_events (
  seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tx          xid8        NOT NULL DEFAULT pg_current_xact_id(),
  -- The public id: webhook-id, the same across every retry of a delivery.
  id          uuid        NOT NULL DEFAULT gen_random_uuid(),
  type        text        NOT NULL,
  show_id     uuid,
  -- A ping (POST /api/webhooks/:id/test) is for its endpoint only.
  endpoint_id uuid,
  -- The database time of the change: the booking's updated_at, the show's statement time.
  occurred_at timestamptz NOT NULL,
  -- The booking (without its token hash), the show (without its seat map) or the block, as
  -- stored; the API maps it to what it shows (src/domain/events.ts).
  data        jsonb       NOT NULL
);
CREATE INDEX outbox_events_in_commit_order ON outbox_events (tx, seq);

-- Each booking inserted: booking.held (PENDING) or booking.confirmed (a comp).
CREATE FUNCTION bookings_record_inserts() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO outbox_events (type, show_id, occurred_at, data)
  SELECT CASE n.status WHEN 'PENDING' THEN 'booking.held' ELSE 'booking.confirmed' END,
         n.show_id, n.updated_at, to_jsonb(n) - 'hold_token_hash'
  FROM new_bookings n
  ORDER BY n.created_at, n.id;
  RETURN NULL;
END;
$$;

-- Each booking whose status moved, or whose hold was extended (a renumbering of its seats by a
-- new seat map is no event of its own: show.updated says the map changed).
CREATE FUNCTION bookings_record_updates() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO outbox_events (type, show_id, occurred_at, data)
  SELECT CASE
           WHEN n.status = o.status THEN 'booking.extended'
           WHEN n.status = 'CONFIRMED' THEN 'booking.confirmed'
           WHEN n.status = 'CANCELLED' THEN 'booking.cancelled'
           ELSE 'booking.expired'
         END,
         n.show_id, n.updated_at, to_jsonb(n) - 'hold_token_hash'
  FROM new_bookings n JOIN old_bookings o ON o.id = n.id
  WHERE n.status <> o.status OR (n.status = 'PENDING' AND n.expires_at <> o.expires_at)
  ORDER BY n.updated_at, n.id;
  RETURN NULL;
END;
$$;

CREATE TRIGGER bookings_record_inserts AFTER INSERT ON bookings
  REFERENCING NEW TABLE AS new_bookings
  FOR EACH STATEMENT EXECUTE FUNCTION bookings_record_inserts();
CREATE TRIGGER bookings_record_updates AFTER UPDATE ON bookings
  REFERENCING OLD TABLE AS old_bookings NEW TABLE AS new_bookings
  FOR EACH STATEMENT EXECUTE FUNCTION bookings_record_updates();

-- show.created; show.updated when what the admin sets changed; show.sold_out and
-- show.back_on_sale when the seats left (by the counters) reach 0 or leave it. The seat map is
-- left out (it can be megabytes): a changed map shows as a new seat_map_version.
CREATE FUNCTION shows_record_events() RETURNS trigger
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
    'seat_map_version', NEW.seat_map_version);
  IF TG_OP = 'INSERT' THEN
    INSERT INTO outbox_events (type, show_id, occurred_at, data) VALUES ('show.created', NEW.id, v_at, v_data);
    RETURN NULL;
  END IF;
  IF (OLD.title, OLD.description, OLD.start_time, OLD.total_seats, OLD.late_confirm, OLD.max_seats_per_customer,
      OLD.sales_start, OLD.sales_end, OLD.seat_map_version)
     IS DISTINCT FROM
     (NEW.title, NEW.description, NEW.start_time, NEW.total_seats, NEW.late_confirm, NEW.max_seats_per_customer,
      NEW.sales_start, NEW.sales_end, NEW.seat_map_version) THEN
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

CREATE TRIGGER shows_record_inserts AFTER INSERT ON shows
  FOR EACH ROW EXECUTE FUNCTION shows_record_events();
-- The WHEN clause keeps the hot path's counter updates from calling the function at all.
CREATE TRIGGER shows_record_updates AFTER UPDATE ON shows
  FOR EACH ROW
  WHEN ((OLD.total_seats - OLD.held_seats - OLD.confirmed_seats - OLD.blocked_seats = 0)
          <> (NEW.total_seats - NEW.held_seats - NEW.confirmed_seats - NEW.blocked_seats = 0)
        OR (OLD.title, OLD.description, OLD.start_time, OLD.total_seats, OLD.late_confirm, OLD.max_seats_per_customer,
            OLD.sales_start, OLD.sales_end, OLD.seat_map_version)
           IS DISTINCT FROM
           (NEW.title, NEW.description, NEW.start_time, NEW.total_seats, NEW.late_confirm, NEW.max_seats_per_customer,
            NEW.sales_start, NEW.sales_end, NEW.seat_map_version))
  EXECUTE FUNCTION shows_record_events();

-- House seats: show.seats_blocked when a block is made, show.seats_released when it is
-- released (a comp taking seats out of a block is its booking.confirmed).
CREATE FUNCTION seat_blocks_record_events() RETURNS trigger
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

CREATE TRIGGER seat_blocks_record_inserts AFTER INSERT ON seat_blocks
  FOR EACH ROW EXECUTE FUNCTION seat_blocks_record_events();
CREATE TRIGGER seat_blocks_record_releases AFTER UPDATE ON seat_blocks
  FOR EACH ROW WHEN (OLD.released_at IS NULL AND NEW.released_at IS NOT NULL)
  EXECUTE FUNCTION seat_blocks_record_events();

-- Down Migration

DROP TRIGGER seat_blocks_record_releases ON seat_blocks;
DROP TRIGGER seat_blocks_record_inserts ON seat_blocks;
DROP FUNCTION seat_blocks_record_events();
DROP TRIGGER shows_record_updates ON shows;
DROP TRIGGER shows_record_inserts ON shows;
DROP FUNCTION shows_record_events();
DROP TRIGGER bookings_record_updates ON bookings;
DROP TRIGGER bookings_record_inserts ON bookings;
DROP FUNCTION bookings_record_updates();
DROP FUNCTION bookings_record_inserts();
DROP TABLE outbox_events;
