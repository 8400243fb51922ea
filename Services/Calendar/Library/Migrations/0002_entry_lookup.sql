-- An event batch's reads in one function (issue 11): the stored entries, locked (lock, then
-- check, then write), the names of the batch's counterparties, for the entries' messages, and
-- which of the events have a scheduled reminder (a completed call has none, and its batch then
-- needs no reminder statement). As separate statements they cost a round trip and a plan each,
-- and at a light load every event is a batch of its own (pg_stat_statements at 100 calls/s:
-- 0.17 ms of planning a batch, three times their execution). PL/pgSQL keeps the plans for the
-- session; generic plans (arrays would otherwise make the plan cache plan every call) and only
-- index scans, so that a plan made while a table was small does not stay a sequential scan as
-- it grows, as crm-events' telephony_lookup does.
--
-- One row per stored entry (found = 'entry'), per known counterparty (found = 'counterparty')
-- and per event with a scheduled reminder (found = 'reminder').
--
-- The batch's events are locked first by key (a transaction-level advisory lock per event, in
-- one order), entry or not: two instances may hold the same event for a moment (a rebalance
-- hands its partition over while the old owner still applies it), and for an event without an
-- entry yet there is no row to lock. The second waits until the first commits, then sees its
-- entry and its reminder; without the key lock it would take the event for new, see no
-- reminder, and leave the first one's reminder of an old start behind. Only this projection
-- schedules or drops reminders, so under these locks the reminder rows read here stay as read
-- (the scheduler only moves them out of `scheduled`, which the later statements check again).
CREATE FUNCTION entry_lookup(event_ids uuid[], counterparty_ids uuid[])
RETURNS TABLE (found text, found_id uuid, active boolean, employee_id uuid, version bigint, name text)
LANGUAGE plpgsql
SET enable_seqscan = off SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('crm.calendar.entry'), k.key)
    FROM (SELECT DISTINCT hashtext(i::text) AS key FROM unnest(event_ids) AS i ORDER BY 1) k;

    RETURN QUERY
    SELECT 'entry'::text, e.event_id, e.active, e.employee_id, e.version, NULL::text
    FROM entries e WHERE e.event_id = ANY(event_ids) FOR UPDATE;

    RETURN QUERY
    SELECT 'counterparty'::text, c.id, NULL::boolean, NULL::uuid, NULL::bigint, c.name
    FROM counterparties c WHERE c.id = ANY(counterparty_ids);

    RETURN QUERY
    SELECT DISTINCT 'reminder'::text, r.event_id, NULL::boolean, NULL::uuid, NULL::bigint, NULL::text
    FROM reminders r WHERE r.event_id = ANY(event_ids) AND r.status = 'scheduled';
END
$$;
