-- Cached plans for the report path (issue 11). Profiling paced telephony (100 calls/s, one call
-- per batch) with pg_stat_statements put crm-reporting's two statements at half of PostgreSQL's
-- time: ingest_events 7.4 ms a call and take_dirty_reports 2.4 ms, most of it planning.
--
-- ingest_events: its statements take the batch as array variables, so plan_cache_mode = auto kept
-- planning them afresh for every batch (a custom plan knows the array lengths and looks cheaper
-- than the generic one). The generic plan is what the function is written for: point lookups
-- per fact (enable_seqscan = off). 7.4 ms → 2.7–3.0 ms a call under the same load.
ALTER FUNCTION ingest_events(jsonb) SET plan_cache_mode = force_generic_plan;

-- take_dirty_reports, project_report and segment_item were LANGUAGE sql functions that cannot be
-- inlined (they write, or have a FROM clause), which PostgreSQL plans again for every statement
-- that calls them. As PL/pgSQL their plans are prepared once per session (as in 0003). The
-- bodies are those of 0002, unchanged. The two report builders read by key only, so like the
-- ingest functions they run with enable_seqscan = off: a plan cached while a table was nearly
-- empty must not stay a sequential scan as it grows (docs/architecture.md).

CREATE OR REPLACE FUNCTION project_report(p uuid) RETURNS jsonb LANGUAGE plpgsql STABLE
SET enable_seqscan = off AS $$
BEGIN
    RETURN (
        SELECT jsonb_build_object(
            'projectId', f.id, 'name', f.name, 'deleted', f.deleted,
            'events', jsonb_build_object(
                'total', coalesce(s.total, 0),
                'byState', by_state(coalesce(s.total, 0), coalesce(s.planned, 0), coalesce(s.completed, 0), coalesce(s.cancelled, 0)),
                'byChannel', by_channel(coalesce(s.phone_call, 0), coalesce(s.email, 0), coalesce(s.meeting, 0),
                    coalesce(s.message, 0), coalesce(s.other, 0)),
                'byResponsible', coalesce((
                    SELECT jsonb_agg(jsonb_build_object('employeeId', r.employee_id, 'name', e.name, 'total', r.total,
                        'completed', r.completed) ORDER BY r.total DESC, r.employee_id)
                    FROM project_responsibles r LEFT JOIN employee_facts e ON e.id = r.employee_id
                    WHERE r.project_id = f.id), '[]'::jsonb)),
            'completionRate', CASE WHEN coalesce(s.total, 0) = 0 THEN 0 ELSE round(s.completed::numeric / s.total, 4) END,
            'attributes', coalesce((
                SELECT jsonb_object_agg(a.attr_key, jsonb_build_object(
                    'type', d ->> 'type',
                    'count', a.count,
                    'avg', CASE WHEN a.num_count = 0 THEN NULL
                                WHEN d ->> 'type' = 'integer' THEN to_jsonb(round(a.num_sum / a.num_count, 4))
                                WHEN d ->> 'type' = 'decimal' THEN to_jsonb(trim_scale(round(a.num_sum / a.num_count, 6))::text) END,
                    'min', CASE WHEN d ->> 'type' = 'integer' THEN to_jsonb(mm.min_num)
                                WHEN d ->> 'type' = 'decimal' THEN to_jsonb(mm.min_num::text) END,
                    'max', CASE WHEN d ->> 'type' = 'integer' THEN to_jsonb(mm.max_num)
                                WHEN d ->> 'type' = 'decimal' THEN to_jsonb(mm.max_num::text) END,
                    'distribution', CASE WHEN d ->> 'type' IN ('boolean', 'enum', 'integer', 'reference') THEN coalesce((
                        SELECT jsonb_object_agg(v.value, v.count) FROM project_attribute_values v
                        WHERE v.project_id = f.id AND v.attr_key = a.attr_key), '{}'::jsonb) END))
                FROM project_attributes a
                CROSS JOIN LATERAL (SELECT attribute_definition('event', a.attr_key) AS d) def
                CROSS JOIN LATERAL (
                    SELECT (SELECT v.num FROM project_attribute_values v WHERE v.project_id = f.id AND v.attr_key = a.attr_key
                            AND v.num IS NOT NULL ORDER BY v.num ASC LIMIT 1) AS min_num,
                           (SELECT v.num FROM project_attribute_values v WHERE v.project_id = f.id AND v.attr_key = a.attr_key
                            AND v.num IS NOT NULL ORDER BY v.num DESC LIMIT 1) AS max_num) mm
                WHERE a.project_id = f.id AND d IS NOT NULL), '{}'::jsonb),
            'timeline', (
                SELECT jsonb_agg(jsonb_build_object('date', to_char(g.day, 'YYYY-MM-DD'), 'completed', coalesce(pd.completed, 0)) ORDER BY g.day)
                FROM generate_series((now() AT TIME ZONE 'UTC')::date - 89, (now() AT TIME ZONE 'UTC')::date, interval '1 day') g(day)
                LEFT JOIN project_days pd ON pd.project_id = f.id AND pd.day = g.day::date),
            'updatedAt', rfc3339(s.updated_at))
        FROM project_facts f LEFT JOIN project_stats s ON s.project_id = f.id
        WHERE f.id = p);
END
$$;

CREATE OR REPLACE FUNCTION segment_item(attribute text, attr_type text, segment text) RETURNS jsonb LANGUAGE plpgsql STABLE
SET enable_seqscan = off AS $$
BEGIN
    RETURN (
        SELECT jsonb_build_object(
            'value', segment_value_json(attr_type, segment),
            'counterparties', coalesce(s.counterparties, 0),
            'events', jsonb_build_object(
                'total', coalesce(s.total, 0),
                'byState', by_state(coalesce(s.total, 0), coalesce(s.planned, 0), coalesce(s.completed, 0), coalesce(s.cancelled, 0)),
                'byChannel', by_channel(coalesce(s.phone_call, 0), coalesce(s.email, 0), coalesce(s.meeting, 0),
                    coalesce(s.message, 0), coalesce(s.other, 0))),
            'lastEventAt', rfc3339(s.last_event_at),
            'customerOrders', (
                SELECT jsonb_build_object('count', coalesce(sum(o.count), 0),
                    'totals', coalesce(jsonb_object_agg(o.currency, round(o.total, 2)::text) FILTER (WHERE o.currency IS NOT NULL), '{}'::jsonb))
                FROM segment_orders o WHERE o.attr_key = attribute AND o.value = segment AND o.kind = 'customer'),
            'supplierOrders', (
                SELECT jsonb_build_object('count', coalesce(sum(o.count), 0),
                    'totals', coalesce(jsonb_object_agg(o.currency, round(o.total, 2)::text) FILTER (WHERE o.currency IS NOT NULL), '{}'::jsonb))
                FROM segment_orders o WHERE o.attr_key = attribute AND o.value = segment AND o.kind = 'supplier'))
        FROM (SELECT 1) one LEFT JOIN segment_stats s ON s.attr_key = attribute AND s.value = segment);
END
$$;

CREATE OR REPLACE FUNCTION take_dirty_reports() RETURNS TABLE (topic text, message_key text, version bigint, doc jsonb) LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        WITH taken AS (DELETE FROM report_dirty RETURNING topic, key),
        docs AS (
            SELECT t.topic, t.key,
                CASE WHEN t.topic = 'projects' THEN t.key
                     ELSE 'counterparty:' || split_part(t.key, E'\x1f', 1) || ':'
                         || CASE WHEN split_part(t.key, E'\x1f', 2) = '' THEN 'null' ELSE split_part(t.key, E'\x1f', 2) END
                END AS message_key,
                CASE WHEN t.topic = 'projects' THEN project_report(t.key::uuid)
                     ELSE (SELECT jsonb_build_object('kind', 'counterparty', 'attribute', sa.attr_key)
                                  || segment_item(sa.attr_key, sa.type, split_part(t.key, E'\x1f', 2))
                           FROM segment_attributes sa WHERE sa.attr_key = split_part(t.key, E'\x1f', 1))
                END AS doc
            FROM taken t),
        versions AS (
            INSERT INTO report_versions AS r (topic, key, version)
            -- Versions follow the clock (milliseconds) and always grow, so a rebuild on an empty
            -- schema publishes versions above everything published before: consumers that ignore
            -- older versions take the rebuilt figures.
            SELECT topic, message_key, (extract(epoch FROM clock_timestamp()) * 1000)::bigint FROM docs WHERE doc IS NOT NULL
            ON CONFLICT (topic, key) DO UPDATE
                SET version = greatest(r.version + 1, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)
            RETURNING r.topic, r.key, r.version)
        SELECT d.topic, d.message_key, v.version, d.doc
        FROM docs d JOIN versions v ON v.topic = d.topic AND v.key = d.message_key
        ORDER BY d.topic, d.message_key;
END
$$;
