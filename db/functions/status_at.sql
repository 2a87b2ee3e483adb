-- A booking's status as of p_at: the status its row has, or the one it lapsed to (core.lapsed).
-- What every answer shows and every decision is made on.
CREATE FUNCTION core.status_at(p_status booking_status, p_expires_at timestamptz, p_at timestamptz)
RETURNS booking_status
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN core.lapsed(p_status, p_expires_at, p_at) THEN 'EXPIRED'::booking_status ELSE p_status END
$$;
