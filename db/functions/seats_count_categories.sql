-- A seated show's per-category counters follow its seat rows, one update per statement that
-- changes seats, with the same CHECKs as the show's own counters (show_categories).
CREATE FUNCTION core.seats_count_categories() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE show_categories c
  SET held_seats = c.held_seats + d.held, sold_seats = c.sold_seats + d.sold, blocked_seats = c.blocked_seats + d.blocked
  FROM (
    SELECT x.show_id, x.category, sum(x.held)::integer AS held, sum(x.sold)::integer AS sold,
           sum(x.blocked)::integer AS blocked
    FROM (
      SELECT n.show_id, n.category, (n.state = 'H')::integer AS held, (n.state = 'S')::integer AS sold,
             (n.state = 'B')::integer AS blocked
      FROM new_seats n
      UNION ALL
      SELECT o.show_id, o.category, -(o.state = 'H')::integer, -(o.state = 'S')::integer, -(o.state = 'B')::integer
      FROM old_seats o
    ) x
    GROUP BY x.show_id, x.category
  ) d
  WHERE c.show_id = d.show_id AND c.category = d.category AND (d.held <> 0 OR d.sold <> 0 OR d.blocked <> 0);
  RETURN NULL;
END;
$$;

CREATE TRIGGER seats_counted AFTER UPDATE ON public.seats
  REFERENCING OLD TABLE AS old_seats NEW TABLE AS new_seats
  FOR EACH STATEMENT EXECUTE FUNCTION core.seats_count_categories();
