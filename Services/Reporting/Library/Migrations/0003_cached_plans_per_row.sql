-- mark_dirty and mark_segments_dirty run once per ingested fact. As LANGUAGE sql functions that
-- cannot be inlined (they write), PostgreSQL 15 parses and plans their statement on every call:
-- profiling a telephony burst showed parse and plan at over half of the reporting consumer's
-- server time. In PL/pgSQL the plan is prepared once per session and reused.
CREATE OR REPLACE FUNCTION mark_dirty(topic text, key text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_dirty (topic, key) VALUES (mark_dirty.topic, mark_dirty.key) ON CONFLICT DO NOTHING;
END
$$;

CREATE OR REPLACE FUNCTION mark_segments_dirty(counterparty uuid) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_dirty (topic, key)
    SELECT 'segments', m.attr_key || E'\x1f' || m.value FROM segment_members m
    WHERE m.counterparty_id = mark_segments_dirty.counterparty
    ON CONFLICT DO NOTHING;
END
$$;
