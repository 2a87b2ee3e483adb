-- Up Migration

-- One hold group of one show, decided and written by one statement. Called on its own
-- (autocommit), the show's row lock is held for exactly one round trip: nothing between
-- the lock and the commit waits on the API's event loop. Called inside a transaction that
-- already holds the lock (a group that also confirms or cancels), it takes that
-- transaction's instant (p_now) so every deadline of the group is judged at one instant.
--
-- Requests are given in arrival order, one array element each. Each gets one outcome:
--   held           its seats are held: the booking row is returned
--   sold_out       not enough seats were left when its turn came (first come, first
--                  served; never a partial hold: a later, smaller request may still fit)
--   show_started   the show had started when the lock was granted
--   taken_over     its Idempotency-Key was taken over by a retry meanwhile: it holds nothing
--   show_not_found
--   show_busy      (only with p_skip_locked) another transaction holds the show's lock: the
--                  caller retries the group on its own, where it waits for the lock
-- Overdue holds are reclaimed (EXPIRED, seats back) only when seats are short.
--
-- A keyed request's answer is recorded with its hold, in this statement, only while its
-- claim still owns the key (the keys are locked first). The answer is written by the API
-- (status, body, location); the instants only the database knows appear in the body as
-- "@@now@@" and "@@expires@@" and are filled in here as JavaScript's toISOString writes them.
-- One row per request of a group: its outcome, the seats left free after the group, the
-- overdue holds the group reclaimed, and the booking written when it was held.
CREATE TYPE hold_group_result AS (
  request integer,
  outcome text,
  available integer,
  reclaimed integer,
  id uuid,
  show_id uuid,
  seats integer,
  status booking_status,
  created_at timestamptz,
  expires_at timestamptz,
  updated_at timestamptz
);

CREATE FUNCTION hold_group(
  p_show uuid,
  p_ttl_seconds integer,
  p_now timestamptz,
  p_ids uuid[],
  p_seats integer[],
  p_token_hashes bytea[],
  p_scopes bytea[],
  p_claims uuid[],
  p_answer_statuses integer[],
  p_answer_bodies text[],
  p_answer_locations text[],
  p_skip_locked boolean DEFAULT false
) RETURNS SETOF hold_group_result
LANGUAGE plpgsql AS $$
DECLARE
  n integer := coalesce(array_length(p_ids, 1), 0);
  v_total integer;
  v_taken integer;
  v_start timestamptz;
  v_now timestamptz;
  v_expires timestamptz;
  v_free integer;
  v_wanted integer := 0;
  v_freed integer := 0;
  v_owned uuid[] := '{}';
  v_outcomes text[] := array_fill(NULL::text, ARRAY[n]);
  v_keyed_winners integer := 0;
  v_freed_holds integer := 0;
  v_recorded integer;
BEGIN
  IF p_skip_locked THEN
    SELECT s.total_seats, s.held_seats + s.confirmed_seats, s.start_time INTO v_total, v_taken, v_start
    FROM shows s WHERE s.id = p_show FOR UPDATE SKIP LOCKED;
  ELSE
    SELECT s.total_seats, s.held_seats + s.confirmed_seats, s.start_time INTO v_total, v_taken, v_start
    FROM shows s WHERE s.id = p_show FOR UPDATE;
  END IF;
  IF NOT FOUND THEN
    RETURN QUERY SELECT o.i::integer,
                        CASE WHEN EXISTS (SELECT 1 FROM shows WHERE shows.id = p_show)
                             THEN 'show_busy' ELSE 'show_not_found' END,
                        NULL::integer, 0, NULL::uuid, NULL::uuid, NULL::integer,
                        NULL::booking_status, NULL::timestamptz, NULL::timestamptz, NULL::timestamptz
                 FROM generate_series(1, n) AS o(i);
    RETURN;
  END IF;
  -- Read once the lock is granted: a request that waited for it is judged now, not when it began.
  v_now := coalesce(p_now, clock_timestamp());
  v_expires := v_now + make_interval(secs => p_ttl_seconds);

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
      v_outcomes[i] := 'taken_over';
    ELSIF v_start <= v_now THEN
      v_outcomes[i] := 'show_started';
    ELSE
      v_wanted := v_wanted + p_seats[i];
    END IF;
  END LOOP;

  v_free := v_total - v_taken;
  IF v_free < v_wanted THEN
    WITH expired AS (
      UPDATE bookings b SET status = 'EXPIRED', updated_at = v_now
      WHERE b.show_id = p_show AND b.status = 'PENDING' AND b.expires_at <= v_now
      RETURNING b.seats)
    SELECT coalesce(sum(e.seats), 0)::integer, count(*)::integer INTO v_freed, v_freed_holds FROM expired e;
    IF v_freed > 0 THEN
      UPDATE shows SET held_seats = held_seats - v_freed WHERE shows.id = p_show;
      v_free := v_free + v_freed;
    END IF;
  END IF;

  FOR i IN 1..n LOOP
    CONTINUE WHEN v_outcomes[i] IS NOT NULL;
    IF p_seats[i] <= v_free THEN
      v_outcomes[i] := 'held';
      v_free := v_free - p_seats[i];
      IF p_claims[i] IS NOT NULL THEN v_keyed_winners := v_keyed_winners + 1; END IF;
    ELSE
      v_outcomes[i] := 'sold_out';
    END IF;
  END LOOP;

  -- The held counter moves in the statement that inserts, by the seats of the rows inserted.
  RETURN QUERY
  WITH inserted AS (
    INSERT INTO bookings AS b (id, show_id, seats, hold_token_hash, created_at, expires_at, updated_at)
    SELECT r.id, p_show, r.seats, r.hash, v_now, v_expires, v_now
    FROM unnest(p_ids, p_seats, p_token_hashes, v_outcomes) AS r(id, seats, hash, outcome)
    WHERE r.outcome = 'held'
    RETURNING b.id, b.show_id, b.seats, b.status, b.created_at, b.expires_at, b.updated_at),
  counted AS (
    UPDATE shows SET held_seats = held_seats + (SELECT sum(i.seats) FROM inserted i)
    WHERE shows.id = p_show AND EXISTS (SELECT 1 FROM inserted))
  SELECT o.i::integer, o.outcome, v_free, v_freed_holds, ins.id, ins.show_id, ins.seats, ins.status,
         ins.created_at, ins.expires_at, ins.updated_at
  FROM unnest(p_ids, v_outcomes) WITH ORDINALITY AS o(booking_id, outcome, i)
  LEFT JOIN inserted ins ON ins.id = o.booking_id
  ORDER BY o.i;

  IF v_keyed_winners > 0 THEN
    UPDATE idempotency_keys k SET
      status_code = a.status_code,
      body = replace(replace(a.body,
        '"@@now@@"', to_json(to_char(v_now AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text),
        '"@@expires@@"', to_json(to_char(v_expires AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text),
      location = a.location
    FROM unnest(p_scopes, p_claims, p_answer_statuses, p_answer_bodies, p_answer_locations, v_outcomes)
      AS a(scope_hash, claim_id, status_code, body, location, outcome)
    WHERE a.outcome = 'held' AND a.claim_id IS NOT NULL
      AND k.scope_hash = a.scope_hash AND k.claim_id = a.claim_id AND k.status_code IS NULL;
    GET DIAGNOSTICS v_recorded = ROW_COUNT;
    IF v_recorded <> v_keyed_winners THEN
      RAISE EXCEPTION 'recorded % of % locked idempotency keys', v_recorded, v_keyed_winners;
    END IF;
  END IF;
END;
$$;

-- The groups of several shows that are ready together, in one statement and so one commit:
-- hold_group for each show, in the order given (callers sort by show id), each show's lock
-- taken with SKIP LOCKED: a show locked elsewhere never stalls the rest of the batch, and a
-- batch never waits on a show's lock, so batches cannot wait for each other in a cycle. The requests of all groups are
-- concatenated; p_group_ends[g] is the last request (1-based) of show p_shows[g]. `request`
-- numbers the requests of the whole batch.
CREATE FUNCTION hold_groups(
  p_shows uuid[],
  p_group_ends integer[],
  p_ttl_seconds integer,
  p_ids uuid[],
  p_seats integer[],
  p_token_hashes bytea[],
  p_scopes bytea[],
  p_claims uuid[],
  p_answer_statuses integer[],
  p_answer_bodies text[],
  p_answer_locations text[]
) RETURNS SETOF hold_group_result
LANGUAGE plpgsql AS $$
DECLARE
  v_first integer := 1;
BEGIN
  FOR g IN 1..coalesce(array_length(p_shows, 1), 0) LOOP
    RETURN QUERY
      SELECT r.request + v_first - 1, r.outcome, r.available, r.reclaimed, r.id, r.show_id, r.seats, r.status,
             r.created_at, r.expires_at, r.updated_at
      FROM hold_group(p_shows[g], p_ttl_seconds, NULL,
                      p_ids[v_first:p_group_ends[g]], p_seats[v_first:p_group_ends[g]],
                      p_token_hashes[v_first:p_group_ends[g]], p_scopes[v_first:p_group_ends[g]],
                      p_claims[v_first:p_group_ends[g]], p_answer_statuses[v_first:p_group_ends[g]],
                      p_answer_bodies[v_first:p_group_ends[g]], p_answer_locations[v_first:p_group_ends[g]],
                      true) AS r;
    v_first := p_group_ends[g] + 1;
  END LOOP;
END;
$$;

-- Down Migration

DROP FUNCTION IF EXISTS hold_groups(uuid[], integer[], integer, uuid[], integer[], bytea[], bytea[], uuid[], integer[], text[], text[]);
DROP FUNCTION IF EXISTS hold_group(uuid, integer, timestamptz, uuid[], integer[], bytea[], bytea[], uuid[], integer[], text[], text[], boolean);
DROP TYPE IF EXISTS hold_group_result;
