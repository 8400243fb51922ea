-- The structure query (GET /v1/structure) as a function: one recursive query, planned once per
-- session (a generic plan) instead of once per request. Planning the recursive query over the
-- union of events and orders costs several milliseconds, more than running it on a tree.
--
-- p_mode: 'document' (p_kind, p_id), 'counterparty' or 'deal' (p_id). Up from each starting
-- document to its topmost basis (one link past p_depth, to see it was cut), the farthest
-- document reached per start is a root; down from the roots, breadth first, at most p_limit + 1
-- rows; `path` stops a cycle an edited event basis might have made.
CREATE FUNCTION document_structure(p_mode text, p_kind text, p_id uuid, p_depth integer, p_limit integer)
RETURNS TABLE (
    kind text, id uuid, number text, at timestamptz, state text, title text, counterparty_id uuid, deal_id uuid,
    basis_kind text, basis_id uuid, deleted boolean, depth integer, cut_above boolean)
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
-- The generic plan's estimates (unknown ids, unknown tree sizes) are huge; JIT-compiling it
-- would take seconds for a query that runs in about a millisecond.
SET jit = off
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH RECURSIVE starts AS (
        SELECT n.kind, n.id FROM structure_nodes n WHERE p_mode = 'document' AND n.kind = p_kind AND n.id = p_id
        UNION ALL
        (SELECT n.kind, n.id FROM structure_nodes n
         WHERE p_mode = 'counterparty' AND n.counterparty_id = p_id AND NOT n.deleted LIMIT p_limit)
        UNION ALL
        (SELECT n.kind, n.id FROM structure_nodes n WHERE p_mode = 'deal' AND n.deal_id = p_id AND NOT n.deleted LIMIT p_limit)
    ), up AS (
        SELECT n.kind, n.id, n.basis_kind, n.basis_id, s.kind AS start_kind, s.id AS start_id, 0 AS depth
        FROM starts s JOIN structure_nodes n ON n.kind = s.kind AND n.id = s.id
      UNION ALL
        SELECT p.kind, p.id, p.basis_kind, p.basis_id, up.start_kind, up.start_id, up.depth + 1
        FROM up JOIN structure_nodes p ON p.id = up.basis_id AND p.kind = up.basis_kind
        WHERE up.depth <= p_depth
    ), roots AS (
        SELECT DISTINCT farthest.kind, farthest.id FROM (
            SELECT DISTINCT ON (up.start_kind, up.start_id) up.kind, up.id FROM up WHERE up.depth <= p_depth
            ORDER BY up.start_kind, up.start_id, up.depth DESC) AS farthest
    ), down AS (
        SELECT n.kind, n.id, n.number, n.at, n.state, n.title, n.counterparty_id, n.deal_id, n.basis_kind, n.basis_id,
            n.deleted, 0 AS depth, ARRAY[n.id] AS path
        FROM roots r JOIN structure_nodes n ON n.kind = r.kind AND n.id = r.id
      UNION ALL
        SELECT c.kind, c.id, c.number, c.at, c.state, c.title, c.counterparty_id, c.deal_id, c.basis_kind, c.basis_id,
            c.deleted, down.depth + 1, down.path || c.id
        FROM down JOIN structure_nodes c ON c.basis_id = down.id AND c.basis_kind = down.kind
        WHERE down.depth <= p_depth AND c.id <> ALL (down.path)
    )
    SELECT found.kind, found.id, found.number, found.at, found.state, found.title, found.counterparty_id, found.deal_id,
        found.basis_kind, found.basis_id, found.deleted, found.depth,
        coalesce((SELECT max(up.depth) FROM up) > p_depth, false)
    FROM (SELECT * FROM down LIMIT p_limit + 1) AS found;
END
$$;
