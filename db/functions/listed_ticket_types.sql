-- The ticket types a show lists to anyone (GET /api/shows/:id, the show's events), in order, as
-- stored: not retired, and not one that needs a presale code. What each shows of itself (its
-- price per category, how many are available) is src/domain/ticket-types.ts (listedTicketType).
CREATE FUNCTION core.listed_ticket_types(p_show uuid)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT coalesce(jsonb_agg(to_jsonb(t) - 'show_id' - 'position' ORDER BY t.position), '[]'::jsonb)
  FROM ticket_types t
  WHERE t.show_id = p_show AND NOT t.retired AND NOT t.requires_code
$$;
