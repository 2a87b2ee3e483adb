-- The requests a gate let through (p_outcomes[i] NULL), decided in arrival order, for a hold group
-- (general admission or seated) and a late confirm alike. A request whose customer would then have
-- more than p_max seats is refused (customer_limit; `allowed` says how many it may still have);
-- then, when p_free is given (general admission: the seats left), one that needs more than are
-- left is sold_out, and does not count toward its customer (first come, first served, never a
-- partial hold: a later, smaller request may still fit); the rest are held. p_counts[i] = 0 (a
-- seated request the API found no seats for): refused. p_max NULL: no limit. p_customers and
-- p_used: the seats each customer already has (core.hold_gate).
CREATE FUNCTION core.decide_holds(
  p_outcomes text[],
  p_counts integer[],
  p_customer_refs text[],
  p_max integer,
  p_customers text[],
  p_used integer[],
  p_free integer,
  OUT outcomes text[],
  OUT allowed integer[],
  OUT free integer
)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  n integer := coalesce(array_length(p_counts, 1), 0);
  v_customers text[] := p_customers;
  v_used integer[] := p_used;
  v_at integer;
BEGIN
  outcomes := p_outcomes;
  allowed := array_fill(NULL::integer, ARRAY[n]);
  free := p_free;
  FOR i IN 1..n LOOP
    CONTINUE WHEN outcomes[i] IS NOT NULL;
    IF p_counts[i] = 0 THEN
      outcomes[i] := 'refused';
      CONTINUE;
    END IF;
    v_at := NULL;
    IF p_max IS NOT NULL THEN
      v_at := array_position(v_customers, p_customer_refs[i]);
      IF v_at IS NULL THEN
        v_customers := v_customers || p_customer_refs[i];
        v_used := v_used || 0;
        v_at := cardinality(v_customers);
      END IF;
      IF v_used[v_at] + p_counts[i] > p_max THEN
        outcomes[i] := 'customer_limit';
        allowed[i] := greatest(p_max - v_used[v_at], 0);
        CONTINUE;
      END IF;
    END IF;
    IF free IS NOT NULL AND p_counts[i] > free THEN
      outcomes[i] := 'sold_out';
      CONTINUE;
    END IF;
    outcomes[i] := 'held';
    free := free - p_counts[i];
    IF v_at IS NOT NULL THEN v_used[v_at] := v_used[v_at] + p_counts[i]; END IF;
  END LOOP;
END;
$$;
