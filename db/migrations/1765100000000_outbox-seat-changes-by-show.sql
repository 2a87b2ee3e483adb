-- Up Migration

-- The events a live stream of a seated show replays from its Last-Event-ID (the seats each change
-- names, and show.updated, which says the map may have changed), by show in commit order: a resume
-- reads only its own show's events after that position, however many other events the outbox
-- holds, so it costs what it returns whatever position a client sends. Partial: a general-admission
-- hold's event (the hot path of an on-sale) writes no entry here.
CREATE INDEX outbox_events_seat_changes_of_show ON outbox_events (show_id, tx, seq)
  WHERE jsonb_typeof(data -> 'seat_ids') = 'array' OR type = 'show.updated';
