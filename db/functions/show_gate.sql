-- The gate of every change that takes seats, judged at p_at under the show's lock (NULL: it
-- passes). A sale (a hold, a late confirm) is refused once the show has started and outside the
-- sales window; the house (a block, a comp) only once the show has started: it acts before sales
-- open and after they close.
CREATE FUNCTION core.show_gate(
  p_kind text,
  p_at timestamptz,
  p_start timestamptz,
  p_sales_start timestamptz,
  p_sales_end timestamptz
) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN p_start <= p_at THEN 'show_started'
    WHEN p_kind = 'house' THEN NULL
    WHEN p_sales_start > p_at THEN 'sales_not_open'
    WHEN p_sales_end <= p_at THEN 'sales_closed'
  END
$$;
