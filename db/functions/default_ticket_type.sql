-- The ticket type a hold that names none is of (`{"seats": N}`, a hold with no body, the storefront's
-- seated holds) and a comp is of: the show's first type on sale to anyone (not retired, no presale
-- code needed), in position order; the first type at all when none is (its refusal then says why).
CREATE FUNCTION core.default_ticket_type(p_show uuid, OUT code text, OUT name text)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT t.code, t.name FROM ticket_types t
  WHERE t.show_id = p_show
  ORDER BY (t.retired OR t.requires_code), t.position
  LIMIT 1
$$;
