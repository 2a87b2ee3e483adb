-- A seated show's new map (PATCH), under the show's lock: seats keep their ids but are
-- renumbered in the new map's order (p_from[k] becomes p_to[k]); p_removed are free seats the
-- new map no longer has; the seats the new map adds are created. Bookings and blocks follow
-- their seats (a past booking's seat that no longer exists becomes -1); categories keep their
-- numbers by name, new ones are added and empty ones dropped; seat_map_version moves, so API
-- processes drop what they know of the old numbering.
CREATE FUNCTION core.remap_seats(
  p_show uuid,
  p_map jsonb,
  p_total integer,
  p_from integer[],
  p_to integer[],
  p_removed integer[],
  p_row_starts integer[],
  p_row_lengths integer[],
  p_row_categories text[]
) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_next bigint;
  v_offset constant integer := 1000000;
BEGIN
  SELECT seat_version + 1 INTO v_next FROM shows WHERE id = p_show;

  -- Categories new to the map, numbered after the existing ones, with their totals.
  INSERT INTO show_categories (show_id, category, name, total_seats)
  SELECT p_show, (SELECT coalesce(max(category), 0) FROM show_categories WHERE show_id = p_show) + row_number() OVER (ORDER BY n.first),
         n.name, n.total
  FROM (
    SELECT r.category AS name, min(r.ord) AS first, sum(r.length)::integer AS total
    FROM unnest(p_row_categories, p_row_lengths) WITH ORDINALITY AS r(category, length, ord)
    GROUP BY r.category) n
  WHERE NOT EXISTS (SELECT 1 FROM show_categories c WHERE c.show_id = p_show AND c.name = n.name);

  -- Totals only grow until the seats have moved (a category's counters never exceed its total).
  UPDATE show_categories c SET total_seats = greatest(c.total_seats, t.total)
  FROM (SELECT r.category AS name, sum(r.length)::integer AS total
        FROM unnest(p_row_categories, p_row_lengths) AS r(category, length) GROUP BY r.category) t
  WHERE c.show_id = p_show AND c.name = t.name;

  DELETE FROM seats WHERE show_id = p_show AND seat_no = ANY (p_removed) AND state = 'F';

  -- Renumbered in two steps so that no two seats ever share a number in between.
  UPDATE seats st SET seat_no = m.to_no + v_offset
  FROM unnest(p_from, p_to) AS m(from_no, to_no)
  WHERE st.show_id = p_show AND st.seat_no = m.from_no;
  UPDATE seats SET seat_no = seat_no - v_offset, version = v_next WHERE show_id = p_show AND seat_no >= v_offset;

  -- Each seat's category is its row's in the new map; the seats the new map adds are created free.
  WITH new_seats AS (
    SELECT g.seat_no, c.category
    FROM unnest(p_row_starts, p_row_lengths, p_row_categories) AS r(start, length, category)
    JOIN show_categories c ON c.show_id = p_show AND c.name = r.category
    CROSS JOIN LATERAL generate_series(r.start, r.start + r.length - 1) AS g(seat_no)),
  recategorized AS (
    UPDATE seats st SET category = n.category
    FROM new_seats n WHERE st.show_id = p_show AND st.seat_no = n.seat_no AND st.category <> n.category)
  INSERT INTO seats (show_id, seat_no, category, version)
  SELECT p_show, n.seat_no, n.category, v_next FROM new_seats n
  WHERE NOT n.seat_no = ANY (p_to);

  UPDATE show_categories c SET total_seats = t.total
  FROM (SELECT r.category AS name, sum(r.length)::integer AS total
        FROM unnest(p_row_categories, p_row_lengths) AS r(category, length) GROUP BY r.category) t
  WHERE c.show_id = p_show AND c.name = t.name AND c.total_seats <> t.total;
  DELETE FROM show_categories c
  WHERE c.show_id = p_show AND NOT c.name = ANY (p_row_categories);

  UPDATE bookings b SET seat_nos = (
    SELECT array_agg(coalesce(m.to_no, -1) ORDER BY coalesce(m.to_no, -1))
    FROM unnest(b.seat_nos) AS n(seat_no) LEFT JOIN unnest(p_from, p_to) AS m(from_no, to_no) ON m.from_no = n.seat_no)
  WHERE b.show_id = p_show AND b.seat_nos IS NOT NULL;
  UPDATE seat_blocks sb SET seat_nos = (
    SELECT array_agg(coalesce(m.to_no, -1) ORDER BY k.ord)
    FROM unnest(sb.seat_nos) WITH ORDINALITY AS k(seat_no, ord)
    LEFT JOIN unnest(p_from, p_to) AS m(from_no, to_no) ON m.from_no = k.seat_no)
  WHERE sb.show_id = p_show AND sb.seat_nos IS NOT NULL AND sb.seats > 0;

  UPDATE shows SET seat_map = p_map, total_seats = p_total, seat_map_version = seat_map_version + 1,
                   seat_version = v_next
  WHERE id = p_show;
END;
$$;
