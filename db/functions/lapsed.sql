-- Whether a booking has lapsed at p_at: a hold (PENDING, the status with a deadline in
-- src/domain/booking-lifecycle.ts) whose expires_at has passed. It is then EXPIRED whether or not
-- its row says so yet (core.status_at), its seats are free to anyone, and only `expire` may move it.
-- The one test of a hold's deadline: every statement that judges one calls this. A simple SQL
-- function, it is inlined where it is called: it costs nothing, and a WHERE clause that calls it
-- still uses the partial index of PENDING holds (bookings_pending_by_show).
CREATE FUNCTION core.lapsed(p_status booking_status, p_expires_at timestamptz, p_at timestamptz)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT p_status = 'PENDING' AND p_expires_at <= p_at
$$;
