-- The hold groups of several general-admission shows that are ready together, in one statement and
-- so one commit: core.hold_group for each show, in the order given (callers sort by show id), each
-- show's lock taken with SKIP LOCKED: a show locked elsewhere never stalls the rest of the batch,
-- and a batch never waits on a show's lock, so batches cannot wait for each other in a cycle. The
-- requests of all groups are concatenated; p_group_ends[g] is the last request (1-based) of show
-- p_shows[g], priced at p_types_versions[g]. `request` numbers the requests of the whole batch.
CREATE FUNCTION core.hold_groups(
  p_shows uuid[],
  p_group_ends integer[],
  p_ttl_seconds integer,
  p_ids uuid[],
  p_seats integer[],
  p_token_hashes bytea[],
  p_customer_refs text[],
  p_scopes bytea[],
  p_claims uuid[],
  p_answer_statuses integer[],
  p_answer_bodies text[],
  p_answer_locations text[],
  p_types_versions integer[],
  p_lines jsonb[],
  p_totals bigint[]
) RETURNS SETOF core.hold_group_result
LANGUAGE plpgsql AS $$
DECLARE
  v_first integer := 1;
BEGIN
  FOR g IN 1..coalesce(array_length(p_shows, 1), 0) LOOP
    RETURN QUERY
      SELECT r.request + v_first - 1, r.outcome, r.available, r.reclaimed, r.allowed, r.sales_start, r.ticket_type,
             r.id, r.show_id,
             r.seats, r.status, r.created_at, r.expires_at, r.updated_at
      FROM core.hold_group(p_shows[g], p_ttl_seconds, NULL,
                           p_ids[v_first:p_group_ends[g]], p_seats[v_first:p_group_ends[g]],
                           p_token_hashes[v_first:p_group_ends[g]], p_customer_refs[v_first:p_group_ends[g]],
                           p_scopes[v_first:p_group_ends[g]],
                           p_claims[v_first:p_group_ends[g]], p_answer_statuses[v_first:p_group_ends[g]],
                           p_answer_bodies[v_first:p_group_ends[g]], p_answer_locations[v_first:p_group_ends[g]],
                           p_types_versions[g], p_lines[v_first:p_group_ends[g]], p_totals[v_first:p_group_ends[g]],
                           true) AS r;
    v_first := p_group_ends[g] + 1;
  END LOOP;
END;
$$;
