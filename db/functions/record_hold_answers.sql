-- Records the answers of the keyed requests of a hold group that were held, with their holds (the
-- same statement): every one of them must still own its key (core.hold_gate locked them). The answer
-- is written by the API (status, body, location); the instants only the database knows appear in
-- the body as "@@now@@" and "@@expires@@" and are filled in here as JavaScript's toISOString writes
-- them.
CREATE FUNCTION core.record_hold_answers(
  p_now timestamptz,
  p_expires timestamptz,
  p_outcomes text[],
  p_scopes bytea[],
  p_claims uuid[],
  p_answer_statuses integer[],
  p_answer_bodies text[],
  p_answer_locations text[]
) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_winners integer;
  v_recorded integer;
BEGIN
  IF p_claims IS NULL THEN RETURN; END IF;
  SELECT count(*) INTO v_winners FROM unnest(p_claims, p_outcomes) AS w(claim_id, outcome)
  WHERE w.outcome = 'held' AND w.claim_id IS NOT NULL;
  IF v_winners = 0 THEN RETURN; END IF;
  UPDATE idempotency_keys k SET
    status_code = a.status_code,
    body = replace(replace(a.body,
      '"@@now@@"', to_json(to_char(p_now AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text),
      '"@@expires@@"', to_json(to_char(p_expires AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text),
    location = a.location
  FROM unnest(p_scopes, p_claims, p_answer_statuses, p_answer_bodies, p_answer_locations, p_outcomes)
    AS a(scope_hash, claim_id, status_code, body, location, outcome)
  WHERE a.outcome = 'held' AND a.claim_id IS NOT NULL
    AND k.scope_hash = a.scope_hash AND k.claim_id = a.claim_id AND k.status_code IS NULL;
  GET DIAGNOSTICS v_recorded = ROW_COUNT;
  IF v_recorded <> v_winners THEN
    RAISE EXCEPTION 'recorded % of % locked idempotency keys', v_recorded, v_winners;
  END IF;
END;
$$;
