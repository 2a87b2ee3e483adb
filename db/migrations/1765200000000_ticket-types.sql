-- Up Migration

-- The currency of a show's prices (ISO 4217). Shows made before it had prices get EUR, with the
-- one free type below; a show made by the API always says its own (DEFAULT_CURRENCY).
ALTER TABLE shows ADD COLUMN currency text NOT NULL DEFAULT 'EUR',
  ADD CONSTRAINT shows_currency_check CHECK (currency ~ '^[A-Z]{3}$');
ALTER TABLE shows ALTER COLUMN currency DROP DEFAULT;
-- Moves with every change of the show's ticket types: the show's row changes with them, so its
-- show.updated event (core.shows_record_events) says so.
ALTER TABLE shows ADD COLUMN ticket_types_version integer NOT NULL DEFAULT 0;

-- What a show sells: its ticket types, in the order the storefront lists them (position). A type
-- is never deleted, as bookings name it: it is retired (no new holds).
CREATE TABLE ticket_types (
  show_id         uuid        NOT NULL,
  code            text        NOT NULL,
  position        smallint    NOT NULL,
  name            text        NOT NULL,
  -- In the show's currency's minor unit.
  price           integer     NOT NULL,
  -- Seated shows: {"category": price} instead of price in those categories.
  category_prices jsonb,
  -- Seated shows: sold only in these categories; NULL: in every category.
  categories      text[],
  max_per_booking integer,
  available_from  timestamptz,
  available_until timestamptz,
  requires_code   boolean     NOT NULL DEFAULT false,
  retired         boolean     NOT NULL DEFAULT false,
  CONSTRAINT ticket_types_pkey PRIMARY KEY (show_id, code),
  CONSTRAINT ticket_types_position_key UNIQUE (show_id, position),
  CONSTRAINT ticket_types_show_id_fkey FOREIGN KEY (show_id) REFERENCES shows (id),
  CONSTRAINT ticket_types_code_check CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,39}$'),
  CONSTRAINT ticket_types_name_check CHECK (char_length(name) >= 1 AND char_length(name) <= 100),
  CONSTRAINT ticket_types_price_check CHECK (price >= 0 AND price <= 1000000000),
  CONSTRAINT ticket_types_category_prices_check CHECK (jsonb_typeof(category_prices) = 'object'),
  CONSTRAINT ticket_types_max_per_booking_check CHECK (max_per_booking >= 1 AND max_per_booking <= 1000),
  CONSTRAINT ticket_types_window CHECK (
    available_from IS NULL OR available_until IS NULL OR available_until > available_from)
);

INSERT INTO ticket_types (show_id, code, position, name, price)
SELECT id, 'standard', 1, 'Admission', 0 FROM shows;
