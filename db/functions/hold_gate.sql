-- What every sale checks per request before seats, in arrival order, under the show's lock (a hold
-- group, general admission or seated, and a late confirm): a taken-over Idempotency-Key (the keys
-- still owned are locked until commit), the show's gate (core.show_gate), and, on a show that
-- limits seats per customer, a customer_ref; then each ticket type the request's lines name must be
-- on sale at p_at (not retired, within its own available_from / available_until:
-- type_not_on_sale, the first such type in `off_sale_types`). NULL: the request goes on to the
-- seats. Also the seats each customer named already has (core.customer_seats), for
-- core.decide_holds. The types' windows are looked at only when the show has a type with one (or
-- a retired type): most shows' groups pay one index probe.
CREATE FUNCTION core.hold_gate(
  p_show uuid,
  p_at timestamptz,
  p_start timestamptz,
  p_sales_start timestamptz,
  p_sales_end timestamptz,
  p_limited boolean,
  p_customer_refs text[],
  p_scopes bytea[],
  p_claims uuid[],
  n integer,
  p_lines jsonb[] DEFAULT NULL,
  OUT outcomes text[],
  OUT customers text[],
  OUT used integer[],
  OUT off_sale_types text[]
)
LANGUAGE plpgsql AS $$
DECLARE
  v_owned uuid[] := '{}'::uuid[];
  v_gate text := core.show_gate('sale', p_at, p_start, p_sales_start, p_sales_end);
BEGIN
  outcomes := array_fill(NULL::text, ARRAY[n]);
  off_sale_types := array_fill(NULL::text, ARRAY[n]);
  IF p_lines IS NOT NULL AND EXISTS (
    SELECT 1 FROM ticket_types t
    WHERE t.show_id = p_show AND (t.retired OR t.available_from IS NOT NULL OR t.available_until IS NOT NULL)) THEN
    SELECT array_agg(w.code ORDER BY w.i) INTO off_sale_types FROM (
      SELECT r.i, (SELECT t.code FROM jsonb_array_elements(r.lines) AS l(line)
                   JOIN ticket_types t ON t.show_id = p_show AND t.code = l.line->>'type'
                   WHERE t.retired OR p_at < t.available_from OR p_at >= t.available_until
                   LIMIT 1) AS code
      FROM unnest(p_lines) WITH ORDINALITY AS r(lines, i)) w;
  END IF;
  IF p_claims IS NOT NULL THEN
    SELECT coalesce(array_agg(owned.claim_id), '{}') INTO v_owned FROM (
      SELECT k.claim_id FROM idempotency_keys k
      JOIN unnest(p_scopes, p_claims) AS c(scope_hash, claim_id)
        ON k.scope_hash = c.scope_hash AND k.claim_id = c.claim_id
      WHERE k.status_code IS NULL
      FOR UPDATE OF k) AS owned;
  END IF;
  FOR i IN 1..n LOOP
    IF p_claims[i] IS NOT NULL AND NOT p_claims[i] = ANY (v_owned) THEN
      outcomes[i] := 'taken_over';
    ELSIF v_gate IS NOT NULL THEN
      outcomes[i] := v_gate;
    ELSIF off_sale_types[i] IS NOT NULL THEN
      outcomes[i] := 'type_not_on_sale';
    ELSIF p_limited AND p_customer_refs[i] IS NULL THEN
      outcomes[i] := 'customer_ref_required';
    END IF;
  END LOOP;
  customers := '{}';
  used := '{}';
  IF p_limited THEN
    SELECT coalesce(array_agg(c.customer_ref), '{}'), coalesce(array_agg(c.seats), '{}') INTO customers, used
    FROM core.customer_seats(p_show, p_customer_refs, p_at) c;
  END IF;
END;
$$;
