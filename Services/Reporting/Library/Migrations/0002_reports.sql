-- Report documents, read from the maintained rows only (never from the facts), and the
-- consistency check that recomputes every aggregate from the facts.

CREATE FUNCTION rfc3339(at timestamptz) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

CREATE FUNCTION by_state(total bigint, planned bigint, completed bigint, cancelled bigint) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('planned', planned, 'completed', completed, 'cancelled', cancelled)
$$;

CREATE FUNCTION by_channel(phone_call bigint, email bigint, meeting bigint, message bigint, other bigint) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('phone-call', phone_call, 'email', email, 'meeting', meeting, 'message', message, 'other', other)
$$;

-- The active definition of an attribute of `set_kind`, or null.
CREATE FUNCTION attribute_definition(set_kind text, attribute text) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT a FROM attribute_set_facts s, jsonb_array_elements(s.attributes) a WHERE s.kind = set_kind AND a ->> 'key' = attribute LIMIT 1
$$;

-- One item of GET /v1/reports/projects.
CREATE FUNCTION project_summary(p uuid) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'projectId', f.id, 'name', f.name,
        'events', jsonb_build_object('total', coalesce(s.total, 0), 'planned', coalesce(s.planned, 0),
            'completed', coalesce(s.completed, 0), 'cancelled', coalesce(s.cancelled, 0)),
        'completionRate', CASE WHEN coalesce(s.total, 0) = 0 THEN 0
                               ELSE round(s.completed::numeric / s.total, 4) END)
    FROM project_facts f LEFT JOIN project_stats s ON s.project_id = f.id
    WHERE f.id = p
$$;

-- GET /v1/reports/projects/{projectId}: null when the project is unknown.
CREATE FUNCTION project_report(p uuid) RETURNS jsonb LANGUAGE sql STABLE AS $$
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
    WHERE f.id = p
$$;

-- The JSON value of a segment: null for "not set", true/false for booleans, else the string.
CREATE FUNCTION segment_value_json(attr_type text, value text) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN value = '' THEN 'null'::jsonb
                WHEN attr_type = 'boolean' AND value IN ('true', 'false') THEN value::jsonb
                ELSE to_jsonb(value) END
$$;


-- One segment item; zeros when the segment has no rows.
CREATE FUNCTION segment_item(attribute text, attr_type text, segment text) RETURNS jsonb LANGUAGE sql STABLE AS $$
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
    FROM (SELECT 1) one LEFT JOIN segment_stats s ON s.attr_key = attribute AND s.value = segment
$$;

-- The segments of an attribute: every stored one, plus the not-set segment, both booleans and
-- every enum option (with zeros), ordered: not set first, then by value.
CREATE FUNCTION segment_values(attribute text, definition jsonb) RETURNS TABLE (value text) LANGUAGE sql STABLE AS $$
    SELECT DISTINCT v FROM (
        SELECT s.value AS v FROM segment_stats s WHERE s.attr_key = attribute
        UNION ALL SELECT ''
        UNION ALL SELECT unnest(ARRAY['true', 'false']) WHERE definition ->> 'type' = 'boolean'
        UNION ALL SELECT jsonb_array_elements_text(coalesce(definition -> 'options', '[]')) WHERE definition ->> 'type' = 'enum'
    ) x ORDER BY v
$$;

CREATE FUNCTION segment_report(attribute text) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'kind', 'counterparty', 'attribute', attribute,
        'segments', coalesce((SELECT jsonb_agg(segment_item(attribute, d ->> 'type', sv.value) ORDER BY sv.value)
                              FROM segment_values(attribute, d) sv), '[]'::jsonb))
    FROM (SELECT attribute_definition('counterparty', attribute) AS d) def
$$;

-- One member of a segment with its own figures.
CREATE FUNCTION member_item(cp uuid) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'counterpartyId', f.id, 'name', f.name,
        'events', jsonb_build_object(
            'total', coalesce(s.total, 0),
            'byState', by_state(coalesce(s.total, 0), coalesce(s.planned, 0), coalesce(s.completed, 0), coalesce(s.cancelled, 0)),
            'byChannel', by_channel(coalesce(s.phone_call, 0), coalesce(s.email, 0), coalesce(s.meeting, 0),
                coalesce(s.message, 0), coalesce(s.other, 0))),
        'lastEventAt', rfc3339(s.last_event_at),
        'customerOrders', (
            SELECT jsonb_build_object('count', coalesce(sum(o.count), 0),
                'totals', coalesce(jsonb_object_agg(o.currency, round(o.total, 2)::text) FILTER (WHERE o.currency IS NOT NULL), '{}'::jsonb))
            FROM counterparty_orders o WHERE o.counterparty_id = f.id AND o.kind = 'customer'),
        'supplierOrders', (
            SELECT jsonb_build_object('count', coalesce(sum(o.count), 0),
                'totals', coalesce(jsonb_object_agg(o.currency, round(o.total, 2)::text) FILTER (WHERE o.currency IS NOT NULL), '{}'::jsonb))
            FROM counterparty_orders o WHERE o.counterparty_id = f.id AND o.kind = 'supplier'))
    FROM counterparty_facts f LEFT JOIN counterparty_stats s ON s.counterparty_id = f.id
    WHERE f.id = cp
$$;

-- Consistency: every aggregate recomputed from the facts; one row per key that differs.
-- Rows whose figures are all zero count as absent on both sides.
CREATE FUNCTION consistency() RETURNS TABLE (aggregate text, key text, expected jsonb, actual jsonb) LANGUAGE sql STABLE AS $$
    WITH live_events AS (SELECT * FROM event_facts WHERE NOT deleted),
    live_orders AS (
        SELECT * FROM order_facts
        WHERE NOT deleted AND state IN ('confirmed', 'completed') AND counterparty_id IS NOT NULL
            AND currency IS NOT NULL AND total IS NOT NULL),
    event_values AS (
        SELECT e.project_id, x.key AS attr_key, v.vals ->> x.key AS value,
            CASE WHEN jsonb_typeof(x.value) = 'number' THEN (x.value #>> '{}')::numeric
                 WHEN jsonb_typeof(x.value) = 'string' AND (x.value #>> '{}') ~ '^-?[0-9]{1,30}(\.[0-9]{1,30})?$'
                     THEN (x.value #>> '{}')::numeric END AS num
        FROM live_events e JOIN value_facts v ON v.kind = 'event' AND v.object_id = e.id, jsonb_each(v.vals) x
        WHERE e.project_id IS NOT NULL AND jsonb_typeof(x.value) IN ('string', 'number', 'boolean')),
    cp_vectors AS (
        SELECT counterparty_id, count(*) AS total,
            count(*) FILTER (WHERE state = 'planned') AS planned, count(*) FILTER (WHERE state = 'completed') AS completed,
            count(*) FILTER (WHERE state = 'cancelled') AS cancelled,
            count(*) FILTER (WHERE channel = 'phone-call') AS phone_call, count(*) FILTER (WHERE channel = 'email') AS email,
            count(*) FILTER (WHERE channel = 'meeting') AS meeting, count(*) FILTER (WHERE channel = 'message') AS message,
            count(*) FILTER (WHERE channel = 'other') AS other, max(sort_at) AS last_event_at
        FROM live_events WHERE counterparty_id IS NOT NULL GROUP BY counterparty_id),
    seg_attrs AS (
        SELECT a ->> 'key' AS attr_key FROM attribute_set_facts s, jsonb_array_elements(s.attributes) a
        WHERE s.kind = 'counterparty' AND a ->> 'type' IN ('boolean', 'enum', 'reference')),
    members AS (
        SELECT sa.attr_key, coalesce(v.vals ->> sa.attr_key, '') AS value, f.id AS counterparty_id
        FROM seg_attrs sa CROSS JOIN counterparty_facts f
        LEFT JOIN value_facts v ON v.kind = 'counterparty' AND v.object_id = f.id
        WHERE NOT f.deleted),
    expected(aggregate, key, figures) AS (
        SELECT 'segmentAttributes', attr_key, to_jsonb(true) FROM seg_attrs
        UNION ALL
        SELECT 'projectEvents', project_id::text, jsonb_build_array(count(*),
            count(*) FILTER (WHERE state = 'planned'), count(*) FILTER (WHERE state = 'completed'),
            count(*) FILTER (WHERE state = 'cancelled'), count(*) FILTER (WHERE channel = 'phone-call'),
            count(*) FILTER (WHERE channel = 'email'), count(*) FILTER (WHERE channel = 'meeting'),
            count(*) FILTER (WHERE channel = 'message'), count(*) FILTER (WHERE channel = 'other'))
        FROM live_events WHERE project_id IS NOT NULL GROUP BY project_id
        UNION ALL
        SELECT 'projectResponsibles', project_id || ':' || responsible_id,
            jsonb_build_array(count(*), count(*) FILTER (WHERE state = 'completed'))
        FROM live_events WHERE project_id IS NOT NULL AND responsible_id IS NOT NULL GROUP BY project_id, responsible_id
        UNION ALL
        SELECT 'projectTimeline', project_id || ':' || completed_day, to_jsonb(count(*))
        FROM live_events WHERE project_id IS NOT NULL AND state = 'completed' AND completed_day IS NOT NULL
        GROUP BY project_id, completed_day
        UNION ALL
        SELECT 'projectAttributes', project_id || ':' || attr_key,
            jsonb_build_array(count(*), count(num), coalesce(sum(num), 0))
        FROM event_values GROUP BY project_id, attr_key
        UNION ALL
        SELECT 'projectAttributeValues', project_id || ':' || attr_key || ':' || value, jsonb_build_array(count(*), min(num))
        FROM event_values WHERE octet_length(value) <= 256 GROUP BY project_id, attr_key, value
        UNION ALL
        SELECT 'counterpartyEvents', counterparty_id::text, jsonb_build_array(total, planned, completed, cancelled,
            phone_call, email, meeting, message, other, last_event_at)
        FROM cp_vectors
        UNION ALL
        SELECT 'counterpartyOrders', counterparty_id || ':' || kind || ':' || currency, jsonb_build_array(count(*), sum(total))
        FROM live_orders GROUP BY counterparty_id, kind, currency
        UNION ALL
        SELECT 'segmentMembers', m.attr_key || ':' || m.counterparty_id, jsonb_build_array(m.value, c.last_event_at)
        FROM members m LEFT JOIN cp_vectors c ON c.counterparty_id = m.counterparty_id
        UNION ALL
        SELECT 'segmentEvents', m.attr_key || ':' || m.value, jsonb_build_array(count(*),
            coalesce(sum(c.total), 0), coalesce(sum(c.planned), 0), coalesce(sum(c.completed), 0),
            coalesce(sum(c.cancelled), 0), coalesce(sum(c.phone_call), 0), coalesce(sum(c.email), 0),
            coalesce(sum(c.meeting), 0), coalesce(sum(c.message), 0), coalesce(sum(c.other), 0), max(c.last_event_at))
        FROM members m LEFT JOIN cp_vectors c ON c.counterparty_id = m.counterparty_id
        GROUP BY m.attr_key, m.value
        UNION ALL
        SELECT 'segmentOrders', m.attr_key || ':' || m.value || ':' || o.kind || ':' || o.currency,
            jsonb_build_array(count(*), sum(o.total))
        FROM members m JOIN live_orders o ON o.counterparty_id = m.counterparty_id
        GROUP BY m.attr_key, m.value, o.kind, o.currency
    ),
    actual(aggregate, key, figures) AS (
        SELECT 'segmentAttributes', attr_key, to_jsonb(true) FROM segment_attributes
        UNION ALL
        SELECT 'projectEvents', project_id::text,
            jsonb_build_array(total, planned, completed, cancelled, phone_call, email, meeting, message, other)
        FROM project_stats
        WHERE (total, planned, completed, cancelled, phone_call, email, meeting, message, other) <> (0, 0, 0, 0, 0, 0, 0, 0, 0)
        UNION ALL
        SELECT 'projectResponsibles', project_id || ':' || employee_id, jsonb_build_array(total, completed)
        FROM project_responsibles WHERE (total, completed) <> (0, 0)
        UNION ALL
        SELECT 'projectTimeline', project_id || ':' || day, to_jsonb(completed) FROM project_days WHERE completed <> 0
        UNION ALL
        SELECT 'projectAttributes', project_id || ':' || attr_key, jsonb_build_array(count, num_count, num_sum)
        FROM project_attributes WHERE (count, num_count, num_sum) <> (0, 0, 0)
        UNION ALL
        SELECT 'projectAttributeValues', project_id || ':' || attr_key || ':' || value, jsonb_build_array(count, num)
        FROM project_attribute_values WHERE count <> 0
        UNION ALL
        SELECT 'counterpartyEvents', counterparty_id::text, jsonb_build_array(total, planned, completed, cancelled,
            phone_call, email, meeting, message, other, last_event_at)
        FROM counterparty_stats
        WHERE (total, planned, completed, cancelled, phone_call, email, meeting, message, other) <> (0, 0, 0, 0, 0, 0, 0, 0, 0)
            OR last_event_at IS NOT NULL
        UNION ALL
        SELECT 'counterpartyOrders', counterparty_id || ':' || kind || ':' || currency, jsonb_build_array(count, total)
        FROM counterparty_orders WHERE (count, total) <> (0, 0)
        UNION ALL
        SELECT 'segmentMembers', attr_key || ':' || counterparty_id, jsonb_build_array(value, last_event_at) FROM segment_members
        UNION ALL
        SELECT 'segmentEvents', attr_key || ':' || value, jsonb_build_array(counterparties, total, planned, completed,
            cancelled, phone_call, email, meeting, message, other, last_event_at)
        FROM segment_stats
        WHERE (counterparties, total, planned, completed, cancelled, phone_call, email, meeting, message, other)
            <> (0, 0, 0, 0, 0, 0, 0, 0, 0, 0) OR last_event_at IS NOT NULL
        UNION ALL
        SELECT 'segmentOrders', attr_key || ':' || value || ':' || kind || ':' || currency, jsonb_build_array(count, total)
        FROM segment_orders WHERE (count, total) <> (0, 0)
    )
    SELECT coalesce(e.aggregate, a.aggregate), coalesce(e.key, a.key), e.figures, a.figures
    FROM expected e FULL JOIN actual a ON a.aggregate = e.aggregate AND a.key = e.key
    WHERE e.figures IS DISTINCT FROM a.figures
    ORDER BY 1, 2
$$;

-- The report snapshots to publish for the keys the current batch changed: empties report_dirty,
-- bumps each key's publication version, and returns one document per key (none for a project
-- nobody published or a segment of an attribute that no longer exists).
CREATE FUNCTION take_dirty_reports() RETURNS TABLE (topic text, message_key text, version bigint, doc jsonb) LANGUAGE sql AS $$
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
    ORDER BY d.topic, d.message_key
$$;
