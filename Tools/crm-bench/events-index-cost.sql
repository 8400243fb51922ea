-- What each index of crm-events' `events` table costs on the telephony ingest path.
--
--   psql "$CRM_DATABASE_URL" -v rows=50000 -v runs=3 -f Tools/crm-bench/events-index-cost.sql
--
-- Run from the repository root (it loads the migrations themselves). Works in a throw-away
-- schema that it drops at the end. For each index set it inserts `rows` call events as
-- 500-row multi-row statements into an empty table, the shape of the set-based telephony
-- handler's insert (without its round trips: this is the server's insert and index work), and
-- prints the best of `runs`: rows per second, WAL bytes per row (steady even on a busy
-- machine, where the rate is not) and index bytes per row. Prints figures; asserts nothing.
\set ON_ERROR_STOP on
\if :{?rows} \else \set rows 50000 \endif
\if :{?runs} \else \set runs 3 \endif

DROP SCHEMA IF EXISTS events_index_cost CASCADE;
CREATE SCHEMA events_index_cost;
SET search_path = events_index_cost, public;
SET client_min_messages = notice;
\i Services/Events/Library/Migrations/0001_events.sql
CREATE TABLE index_sets AS
    SELECT 'first' AS index_set, indexname AS name, indexdef AS definition FROM pg_indexes
    WHERE schemaname = 'events_index_cost' AND tablename = 'events' AND indexname NOT IN ('events_pkey', 'events_number_key', 'events_call_id_key');
\i Services/Events/Library/Migrations/0002_event_index_trade_off.sql
INSERT INTO index_sets
    SELECT 'migrated', indexname, indexdef FROM pg_indexes
    WHERE schemaname = 'events_index_cost' AND tablename = 'events' AND indexname NOT IN ('events_pkey', 'events_number_key', 'events_call_id_key');

-- Replaces the non-key indexes of `events` by `wanted` (definitions).
CREATE FUNCTION use_indexes(wanted text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE name text; definition text;
BEGIN
    FOR name IN SELECT indexname FROM pg_indexes WHERE schemaname = 'events_index_cost' AND tablename = 'events'
        AND indexname NOT IN ('events_pkey', 'events_number_key', 'events_call_id_key') LOOP
        EXECUTE format('DROP INDEX %I', name);
    END LOOP;
    FOREACH definition IN ARRAY wanted LOOP EXECUTE definition; END LOOP;
END $$;

-- Inserts `total` telephony events in 500-row statements; returns rows per second, the WAL
-- written per row (every index entry is WAL-logged: a figure the machine's load does not blur)
-- and the index bytes per row.
CREATE TABLE results (index_set text, rows_per_second numeric, wal_bytes_per_row numeric, index_bytes_per_row numeric);

CREATE FUNCTION ingest(total int, OUT rate numeric, OUT wal numeric, OUT index_bytes numeric) LANGUAGE plpgsql AS $$
DECLARE
    started timestamptz;
    wal_start pg_lsn;
    chunk int;
BEGIN
    TRUNCATE events;
    started := clock_timestamp();
    wal_start := pg_current_wal_insert_lsn();
    FOR chunk IN 0 .. (total - 1) / 500 LOOP
        INSERT INTO events (id, number, channel, direction, state, subject, content, counterparty_id, contact_id, deal_id,
            project_id, responsible_id, starts_at, ends_at, source, call, call_id, unmatched, completed_at, version,
            created_at, updated_at)
        SELECT gen_random_uuid(), 'EV-' || lpad((chunk * 500 + i)::text, 7, '0'), 'phone-call', 'incoming', 'completed',
            'Incoming call from +7495123' || lpad((i % 10000)::text, 4, '0'), NULL,
            ('00000000-0000-0000-0000-' || lpad((i % 100)::text, 12, '0'))::uuid, NULL, NULL, NULL,
            ('00000000-0000-0000-0001-' || lpad((i % 20)::text, 12, '0'))::uuid,
            now() - make_interval(secs => chunk * 500 + i), now() - make_interval(secs => chunk * 500 + i - 271),
            'telephony',
            jsonb_build_object('callId', 'pbx-' || (chunk * 500 + i), 'direction', 'inbound', 'from', '+74951234567',
                'to', '+74951110000', 'extension', '101', 'status', 'answered', 'startedAt', now(), 'answeredAt', now(),
                'endedAt', now(), 'durationSeconds', 264, 'recordingUrl', 'https://pbx.example/rec/' || gen_random_uuid()),
            'pbx-' || (chunk * 500 + i), false, now(), 1, now(), now()
        FROM generate_series(1, least(500, total - chunk * 500)) AS i;
    END LOOP;
    rate := round(total / extract(epoch FROM clock_timestamp() - started));
    wal := round(pg_wal_lsn_diff(pg_current_wal_insert_lsn(), wal_start) / total);
    index_bytes := round(pg_indexes_size('events') / total::numeric);
END $$;

-- The best of `runs`: the highest rate, the least WAL.
CREATE FUNCTION measure(label text, total int, runs int) RETURNS SETOF results LANGUAGE sql AS $$
    SELECT label, max(r.rate), min(r.wal), min(r.index_bytes) FROM generate_series(1, runs), LATERAL ingest(total) r
$$;

-- Before and after this trade-off, then the keys alone and each index of each set on its own.
CREATE FUNCTION rate_with(label text, definitions text[], total int, runs int) RETURNS SETOF results
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM use_indexes(definitions);
    RETURN QUERY SELECT * FROM measure(label, total, runs);
END $$;
INSERT INTO results SELECT * FROM rate_with('0001 indexes (before)', (SELECT array_agg(definition) FROM index_sets WHERE index_set = 'first'), :rows, :runs);
INSERT INTO results SELECT * FROM rate_with('0001 + 0002 indexes (now)', (SELECT array_agg(definition) FROM index_sets WHERE index_set = 'migrated'), :rows, :runs);
INSERT INTO results SELECT * FROM rate_with('keys only (id, number, call_id)', '{}', :rows, :runs);
INSERT INTO results
    SELECT r.* FROM index_sets s, rate_with('keys + ' || s.name || ' (' || s.index_set || ')', ARRAY[s.definition], :rows, :runs) r
    WHERE s.index_set = 'migrated' OR s.definition NOT IN (SELECT definition FROM index_sets WHERE index_set = 'migrated')
    ORDER BY s.name, s.index_set;

\echo
\echo 'events ingest cost per index set (best of' :runs 'runs of' :rows 'rows):'
SELECT * FROM results;

RESET search_path;
DROP SCHEMA events_index_cost CASCADE;
