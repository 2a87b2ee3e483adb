-- Up Migration

-- What a booking sells, frozen when it is made: its currency (the show's), its lines (each a ticket
-- type with its quantity, its unit price at that moment and, seated, its seats) and their total. A
-- later price change touches new holds only. Bookings made before prices existed have one line of
-- their show's first type at price 0.
ALTER TABLE bookings ADD COLUMN currency text, ADD COLUMN lines jsonb, ADD COLUMN total bigint;
UPDATE bookings b SET
  currency = s.currency,
  total = 0,
  lines = jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
    'type', t.code, 'name', t.name, 'quantity', b.seats, 'unit_price', 0, 'seat_ids', to_jsonb(b.seat_ids))))
FROM shows s, ticket_types t
WHERE s.id = b.show_id AND t.show_id = s.id AND t.position = (
  SELECT min(f.position) FROM ticket_types f WHERE f.show_id = s.id);
ALTER TABLE bookings
  ALTER COLUMN currency SET NOT NULL,
  ALTER COLUMN lines SET NOT NULL,
  ALTER COLUMN total SET NOT NULL,
  ADD CONSTRAINT bookings_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
  ADD CONSTRAINT bookings_lines_check CHECK (jsonb_typeof(lines) = 'array' AND jsonb_array_length(lines) >= 1),
  ADD CONSTRAINT bookings_total_check CHECK (total >= 0);
