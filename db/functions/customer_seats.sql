-- The seats each of p_refs has on the show at p_at: those of its bookings whose status then owns
-- seats (core.booking_statuses: held or sold). What a per-customer limit counts, for a hold and a
-- late confirm alike; a hold past its deadline counts for nothing.
CREATE FUNCTION core.customer_seats(p_show uuid, p_refs text[], p_at timestamptz)
RETURNS TABLE (customer_ref text, seats integer)
LANGUAGE sql STABLE AS $$
  SELECT b.customer_ref, sum(b.seats)::integer
  FROM bookings b
  JOIN core.booking_statuses s ON s.status = core.status_at(b.status, b.expires_at, p_at)
  WHERE b.show_id = p_show AND b.customer_ref = ANY (p_refs) AND s.seats <> 'none'
  GROUP BY b.customer_ref
$$;
