-- Up Migration

-- A show's events in commit order: a live stream resuming from its Last-Event-ID reads only its
-- own show's events after that position, however many other events the outbox holds, so a resume
-- costs what it returns whatever position a client sends.
CREATE INDEX outbox_events_of_show ON outbox_events (show_id, tx, seq);
