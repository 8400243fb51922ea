-- The telephony batch's three lookups (callIds already stored, the numbers' owners, the
-- extensions' employees) in one function (issue 11). Sent as three statements they cost three
-- round trips and three plans per batch, and at a light load every call is a batch of its own:
-- pg_stat_statements at 100 calls/s put the number match's planning alone at 0.76 ms a call,
-- three times its execution. PL/pgSQL keeps each query's plan for the session; generic plans
-- (the arrays would otherwise make the plan cache choose custom plans, i.e. plan every call),
-- and only index scans, so that a plan made while a table was small does not stay a sequential
-- scan as it grows (as the outbox relay and crm-reporting do, see docs/architecture.md).
--
-- One row per finding: ('seen', callId), ('number', number, counterparty, contact) and
-- ('extension', extension, employee). The rules are the handler's: a number matches on its E.164
-- form first, then on its last ten digits; among several owners, the counterparty with the most
-- recent event, a contact before the company's own number, then the lowest id; several
-- employees on one extension: the lowest id.
CREATE FUNCTION telephony_lookup(call_ids text[], numbers text[], last10s text[], extensions text[])
RETURNS TABLE (found text, found_key text, found_id uuid, found_contact uuid)
LANGUAGE plpgsql STABLE
SET enable_seqscan = off SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    RETURN QUERY
    SELECT 'seen'::text, e.call_id, NULL::uuid, NULL::uuid FROM events e WHERE e.call_id = ANY(call_ids);

    RETURN QUERY
    WITH wanted AS (
        SELECT * FROM unnest(numbers, last10s) AS w(number, last10)
    ),
    candidates AS (
        SELECT w.number, 0 AS rank, p.counterparty_id, p.contact_id
        FROM wanted w JOIN phone_index p ON p.e164 = w.number WHERE w.number <> ''
        UNION ALL
        SELECT w.number, 1 AS rank, p.counterparty_id, p.contact_id
        FROM wanted w JOIN phone_index p ON p.last10 = w.last10 WHERE w.last10 <> ''
    )
    SELECT DISTINCT ON (c.number) 'number'::text, c.number, c.counterparty_id, c.contact_id
    FROM candidates c
    JOIN counterparties cp ON cp.id = c.counterparty_id AND NOT cp.deleted
    LEFT JOIN LATERAL (
        SELECT max(e.sort_at) AS last_at FROM events e WHERE e.counterparty_id = c.counterparty_id AND NOT e.deleted
    ) activity ON true
    ORDER BY c.number, c.rank, activity.last_at DESC NULLS LAST, c.contact_id IS NULL, c.counterparty_id;

    RETURN QUERY
    SELECT DISTINCT ON (m.phone_extension) 'extension'::text, m.phone_extension, m.id, NULL::uuid
    FROM employees m
    WHERE m.phone_extension = ANY(extensions) AND m.phone_extension <> '' AND NOT m.deleted
    ORDER BY m.phone_extension, m.id;
END
$$;
