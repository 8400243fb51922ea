-- crm-reporting: facts (one row per source object, with its version) and the aggregates
-- maintained from them. Every fact change runs through one of the ingest_* functions below,
-- inside the consumer's batch transaction: the old fact row is locked, its contribution is
-- subtracted from every aggregate it touches, the new row is written and its contribution added.
-- A snapshot that is not newer than the fact row changes nothing, so replays are harmless.
--
-- Segments are two-level: per-counterparty rollups (counterparty_stats, counterparty_orders) and
-- per-(attribute, value) segment rows (segment_stats, segment_orders) that hold the sum of the
-- rollups of their members (segment_members). A counterparty whose value changes leaves its old
-- segments and joins the new ones with its whole rollup, set-based; a newly defined attribute is
-- built from the rollups in one statement per table. The "not set" segment is value ''.

-- Facts -----------------------------------------------------------------------------------------

CREATE TABLE event_facts (
    id uuid PRIMARY KEY,
    version bigint NOT NULL,
    project_id uuid,
    counterparty_id uuid,
    responsible_id uuid,
    channel text NOT NULL,
    state text NOT NULL,
    deleted boolean NOT NULL,
    sort_at timestamptz,
    completed_day date
);
CREATE INDEX event_facts_last ON event_facts (counterparty_id, sort_at DESC) WHERE NOT deleted;

CREATE TABLE order_facts (
    id uuid PRIMARY KEY,
    version bigint NOT NULL,
    kind text NOT NULL,            -- customer | supplier
    state text NOT NULL,
    counterparty_id uuid,
    project_id uuid,
    currency text,
    total numeric,
    deleted boolean NOT NULL
);

-- Attribute values of any object kind (counterparty values define segments, event values feed
-- the project attribute aggregates).
CREATE TABLE value_facts (
    kind text NOT NULL,
    object_id uuid NOT NULL,
    version bigint NOT NULL,
    vals jsonb NOT NULL,
    PRIMARY KEY (kind, object_id)
);

-- The attribute set of each kind, as published on crm.attribute-sets.v1.
CREATE TABLE attribute_set_facts (
    kind text PRIMARY KEY,
    version bigint NOT NULL,
    attributes jsonb NOT NULL
);

CREATE TABLE counterparty_facts (id uuid PRIMARY KEY, version bigint NOT NULL, name text NOT NULL, deleted boolean NOT NULL);
CREATE TABLE project_facts (id uuid PRIMARY KEY, version bigint NOT NULL, name text NOT NULL, deleted boolean NOT NULL);
CREATE INDEX project_facts_by_name ON project_facts (name, id) WHERE NOT deleted;
CREATE TABLE employee_facts (id uuid PRIMARY KEY, version bigint NOT NULL, name text NOT NULL, deleted boolean NOT NULL);

-- Aggregates ------------------------------------------------------------------------------------

CREATE TABLE project_stats (
    project_id uuid PRIMARY KEY,
    total bigint NOT NULL DEFAULT 0,
    planned bigint NOT NULL DEFAULT 0,
    completed bigint NOT NULL DEFAULT 0,
    cancelled bigint NOT NULL DEFAULT 0,
    phone_call bigint NOT NULL DEFAULT 0,
    email bigint NOT NULL DEFAULT 0,
    meeting bigint NOT NULL DEFAULT 0,
    message bigint NOT NULL DEFAULT 0,
    other bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE project_responsibles (
    project_id uuid NOT NULL,
    employee_id uuid NOT NULL,
    total bigint NOT NULL,
    completed bigint NOT NULL,
    PRIMARY KEY (project_id, employee_id)
);
CREATE TABLE project_days (
    project_id uuid NOT NULL,
    day date NOT NULL,
    completed bigint NOT NULL,
    PRIMARY KEY (project_id, day)
);
CREATE TABLE project_attributes (
    project_id uuid NOT NULL,
    attr_key text NOT NULL,
    count bigint NOT NULL,
    num_count bigint NOT NULL,
    num_sum numeric NOT NULL,
    PRIMARY KEY (project_id, attr_key)
);
CREATE TABLE project_attribute_values (
    project_id uuid NOT NULL,
    attr_key text NOT NULL,
    value text NOT NULL,
    num numeric,
    count bigint NOT NULL,
    PRIMARY KEY (project_id, attr_key, value)
);
-- min/max of a numeric attribute: the first and last entry of this index.
CREATE INDEX project_attribute_values_num ON project_attribute_values (project_id, attr_key, num) WHERE num IS NOT NULL;

CREATE TABLE counterparty_stats (
    counterparty_id uuid PRIMARY KEY,
    total bigint NOT NULL DEFAULT 0,
    planned bigint NOT NULL DEFAULT 0,
    completed bigint NOT NULL DEFAULT 0,
    cancelled bigint NOT NULL DEFAULT 0,
    phone_call bigint NOT NULL DEFAULT 0,
    email bigint NOT NULL DEFAULT 0,
    meeting bigint NOT NULL DEFAULT 0,
    message bigint NOT NULL DEFAULT 0,
    other bigint NOT NULL DEFAULT 0,
    last_event_at timestamptz
);
CREATE TABLE counterparty_orders (
    counterparty_id uuid NOT NULL,
    kind text NOT NULL,
    currency text NOT NULL,
    count bigint NOT NULL,
    total numeric NOT NULL,
    PRIMARY KEY (counterparty_id, kind, currency)
);

-- The segmentable attributes (kind counterparty; boolean, enum, reference) the segment rows exist for.
CREATE TABLE segment_attributes (attr_key text PRIMARY KEY, type text NOT NULL);

CREATE TABLE segment_members (
    attr_key text NOT NULL,
    value text NOT NULL,
    counterparty_id uuid NOT NULL,
    last_event_at timestamptz,
    PRIMARY KEY (attr_key, value, counterparty_id),
    UNIQUE (counterparty_id, attr_key)
);
CREATE INDEX segment_members_last ON segment_members (attr_key, value, last_event_at DESC NULLS LAST);

CREATE TABLE segment_stats (
    attr_key text NOT NULL,
    value text NOT NULL,
    counterparties bigint NOT NULL DEFAULT 0,
    total bigint NOT NULL DEFAULT 0,
    planned bigint NOT NULL DEFAULT 0,
    completed bigint NOT NULL DEFAULT 0,
    cancelled bigint NOT NULL DEFAULT 0,
    phone_call bigint NOT NULL DEFAULT 0,
    email bigint NOT NULL DEFAULT 0,
    meeting bigint NOT NULL DEFAULT 0,
    message bigint NOT NULL DEFAULT 0,
    other bigint NOT NULL DEFAULT 0,
    last_event_at timestamptz,
    PRIMARY KEY (attr_key, value)
);
CREATE TABLE segment_orders (
    attr_key text NOT NULL,
    value text NOT NULL,
    kind text NOT NULL,
    currency text NOT NULL,
    count bigint NOT NULL,
    total numeric NOT NULL,
    PRIMARY KEY (attr_key, value, kind, currency)
);

-- Report keys changed by the current batch; the consumer publishes one snapshot per key at the
-- end of the batch and empties the table (coalescing).
CREATE TABLE report_dirty (topic text NOT NULL, key text NOT NULL, PRIMARY KEY (topic, key));
-- The version of each published report snapshot (+1 per publication).
CREATE TABLE report_versions (topic text NOT NULL, key text NOT NULL, version bigint NOT NULL, PRIMARY KEY (topic, key));

-- Contributions ---------------------------------------------------------------------------------

-- The per-state and per-channel figures of one event: a vector of nine counts.
CREATE FUNCTION event_vector(state text, channel text, sign int)
RETURNS bigint[] LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY[sign,
        CASE WHEN state = 'planned' THEN sign ELSE 0 END,
        CASE WHEN state = 'completed' THEN sign ELSE 0 END,
        CASE WHEN state = 'cancelled' THEN sign ELSE 0 END,
        CASE WHEN channel = 'phone-call' THEN sign ELSE 0 END,
        CASE WHEN channel = 'email' THEN sign ELSE 0 END,
        CASE WHEN channel = 'meeting' THEN sign ELSE 0 END,
        CASE WHEN channel = 'message' THEN sign ELSE 0 END,
        CASE WHEN channel = 'other' THEN sign ELSE 0 END]::bigint[]
$$;

CREATE FUNCTION mark_dirty(topic text, key text) RETURNS void LANGUAGE sql AS $$
    INSERT INTO report_dirty (topic, key) VALUES (topic, key) ON CONFLICT DO NOTHING
$$;

CREATE FUNCTION mark_segments_dirty(counterparty uuid) RETURNS void LANGUAGE sql AS $$
    INSERT INTO report_dirty (topic, key)
    SELECT 'segments', attr_key || E'\x1f' || value FROM segment_members WHERE counterparty_id = counterparty
    ON CONFLICT DO NOTHING
$$;

-- Adds sign × (the attribute values of one event) to its project's attribute aggregates.
CREATE FUNCTION apply_event_values(project uuid, vals jsonb, sign int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF project IS NULL OR vals IS NULL THEN RETURN; END IF;
    WITH entries AS (
        SELECT e.key AS attr_key, vals ->> e.key AS value,
            CASE WHEN jsonb_typeof(e.value) = 'number' THEN (e.value #>> '{}')::numeric
                 WHEN jsonb_typeof(e.value) = 'string' AND (e.value #>> '{}') ~ '^-?[0-9]{1,30}(\.[0-9]{1,30})?$'
                     THEN (e.value #>> '{}')::numeric
            END AS num
        FROM jsonb_each(vals) e
        WHERE jsonb_typeof(e.value) IN ('string', 'number', 'boolean')
    ), upsert_values AS (
        -- Only short values get a distribution row (an index entry holds at most ~2.7 kB, and a
        -- free-text answer has no useful distribution): counts, avg/min/max still include them.
        INSERT INTO project_attribute_values AS t (project_id, attr_key, value, num, count)
        SELECT project, attr_key, value, num, sign FROM entries WHERE octet_length(value) <= 256
        ON CONFLICT (project_id, attr_key, value) DO UPDATE SET count = t.count + EXCLUDED.count
    )
    INSERT INTO project_attributes AS t (project_id, attr_key, count, num_count, num_sum)
    SELECT project, attr_key, sign, CASE WHEN num IS NULL THEN 0 ELSE sign END, coalesce(num, 0) * sign FROM entries
    ON CONFLICT (project_id, attr_key) DO UPDATE SET
        count = t.count + EXCLUDED.count, num_count = t.num_count + EXCLUDED.num_count,
        num_sum = t.num_sum + EXCLUDED.num_sum;
    -- Only the keys just touched: the project's other values are not scanned.
    DELETE FROM project_attribute_values
    WHERE project_id = project AND attr_key = ANY(ARRAY(SELECT jsonb_object_keys(vals))) AND count = 0;
    DELETE FROM project_attributes
    WHERE project_id = project AND attr_key = ANY(ARRAY(SELECT jsonb_object_keys(vals))) AND count = 0;
END
$$;

-- Adds sign × (the contribution of one event fact) to every aggregate it touches.
CREATE FUNCTION apply_event(f event_facts, sign int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v bigint[];
BEGIN
    IF f.id IS NULL OR f.deleted THEN RETURN; END IF;
    v := event_vector(f.state, f.channel, sign);
    IF f.project_id IS NOT NULL THEN
        INSERT INTO project_stats AS t (project_id, total, planned, completed, cancelled, phone_call, email, meeting, message, other, updated_at)
        VALUES (f.project_id, v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], now())
        ON CONFLICT (project_id) DO UPDATE SET
            total = t.total + EXCLUDED.total, planned = t.planned + EXCLUDED.planned,
            completed = t.completed + EXCLUDED.completed, cancelled = t.cancelled + EXCLUDED.cancelled,
            phone_call = t.phone_call + EXCLUDED.phone_call, email = t.email + EXCLUDED.email,
            meeting = t.meeting + EXCLUDED.meeting, message = t.message + EXCLUDED.message,
            other = t.other + EXCLUDED.other, updated_at = now();
        IF f.responsible_id IS NOT NULL THEN
            INSERT INTO project_responsibles AS t (project_id, employee_id, total, completed)
            VALUES (f.project_id, f.responsible_id, sign, v[3])
            ON CONFLICT (project_id, employee_id) DO UPDATE SET total = t.total + EXCLUDED.total, completed = t.completed + EXCLUDED.completed;
            DELETE FROM project_responsibles WHERE project_id = f.project_id AND employee_id = f.responsible_id AND total = 0;
        END IF;
        IF f.state = 'completed' AND f.completed_day IS NOT NULL THEN
            INSERT INTO project_days AS t (project_id, day, completed) VALUES (f.project_id, f.completed_day, sign)
            ON CONFLICT (project_id, day) DO UPDATE SET completed = t.completed + EXCLUDED.completed;
            DELETE FROM project_days WHERE project_id = f.project_id AND day = f.completed_day AND completed = 0;
        END IF;
        PERFORM apply_event_values(f.project_id, (SELECT vals FROM value_facts WHERE kind = 'event' AND object_id = f.id), sign);
        PERFORM mark_dirty('projects', f.project_id::text);
    END IF;
    IF f.counterparty_id IS NOT NULL THEN
        INSERT INTO counterparty_stats AS t (counterparty_id, total, planned, completed, cancelled, phone_call, email, meeting, message, other)
        VALUES (f.counterparty_id, v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9])
        ON CONFLICT (counterparty_id) DO UPDATE SET
            total = t.total + EXCLUDED.total, planned = t.planned + EXCLUDED.planned,
            completed = t.completed + EXCLUDED.completed, cancelled = t.cancelled + EXCLUDED.cancelled,
            phone_call = t.phone_call + EXCLUDED.phone_call, email = t.email + EXCLUDED.email,
            meeting = t.meeting + EXCLUDED.meeting, message = t.message + EXCLUDED.message,
            other = t.other + EXCLUDED.other;
        UPDATE segment_stats s SET
            total = s.total + v[1], planned = s.planned + v[2], completed = s.completed + v[3], cancelled = s.cancelled + v[4],
            phone_call = s.phone_call + v[5], email = s.email + v[6], meeting = s.meeting + v[7],
            message = s.message + v[8], other = s.other + v[9]
        FROM segment_members m
        WHERE m.counterparty_id = f.counterparty_id AND s.attr_key = m.attr_key AND s.value = m.value;
        PERFORM mark_segments_dirty(f.counterparty_id);
    END IF;
END
$$;

-- Recomputes a counterparty's latest event time and carries it into its segments. When it grew,
-- each segment takes the greater of its own and the new time; only when it shrank (the latest event
-- deleted or moved away) is the segment's maximum looked up again (top of segment_members_last).
CREATE FUNCTION refresh_last_event(counterparty uuid) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    previous timestamptz;
    latest timestamptz;
BEGIN
    IF counterparty IS NULL THEN RETURN; END IF;
    SELECT last_event_at INTO previous FROM counterparty_stats WHERE counterparty_id = counterparty;
    SELECT max(sort_at) INTO latest FROM event_facts WHERE counterparty_id = counterparty AND NOT deleted;
    IF latest IS NOT DISTINCT FROM previous THEN RETURN; END IF;
    UPDATE counterparty_stats SET last_event_at = latest WHERE counterparty_id = counterparty;
    UPDATE segment_members SET last_event_at = latest WHERE counterparty_id = counterparty;
    IF previous IS NULL OR latest > previous THEN
        UPDATE segment_stats s SET last_event_at = greatest(s.last_event_at, latest)
        FROM segment_members m
        WHERE m.counterparty_id = counterparty AND s.attr_key = m.attr_key AND s.value = m.value;
    ELSE
        UPDATE segment_stats s SET last_event_at = (
            SELECT max(m2.last_event_at) FROM segment_members m2 WHERE m2.attr_key = s.attr_key AND m2.value = s.value)
        FROM segment_members m
        WHERE m.counterparty_id = counterparty AND s.attr_key = m.attr_key AND s.value = m.value;
    END IF;
END
$$;

-- Adds sign × (the contribution of one order fact): confirmed and completed, non-deleted orders
-- of a counterparty count, one sum per currency.
CREATE FUNCTION apply_order(o order_facts, sign int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF o.id IS NULL OR o.deleted OR o.state NOT IN ('confirmed', 'completed') OR o.counterparty_id IS NULL
        OR o.currency IS NULL OR o.total IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO counterparty_orders AS t (counterparty_id, kind, currency, count, total)
    VALUES (o.counterparty_id, o.kind, o.currency, sign, sign * o.total)
    ON CONFLICT (counterparty_id, kind, currency) DO UPDATE SET count = t.count + EXCLUDED.count, total = t.total + EXCLUDED.total;
    DELETE FROM counterparty_orders WHERE counterparty_id = o.counterparty_id AND kind = o.kind AND currency = o.currency AND count = 0;
    INSERT INTO segment_orders AS t (attr_key, value, kind, currency, count, total)
    SELECT m.attr_key, m.value, o.kind, o.currency, sign, sign * o.total FROM segment_members m WHERE m.counterparty_id = o.counterparty_id
    ON CONFLICT (attr_key, value, kind, currency) DO UPDATE SET count = t.count + EXCLUDED.count, total = t.total + EXCLUDED.total;
    DELETE FROM segment_orders s USING segment_members m
    WHERE m.counterparty_id = o.counterparty_id AND s.attr_key = m.attr_key AND s.value = m.value
        AND s.kind = o.kind AND s.currency = o.currency AND s.count = 0;
    PERFORM mark_segments_dirty(o.counterparty_id);
END
$$;

-- Segment membership ----------------------------------------------------------------------------

-- Takes a counterparty with its whole rollup out of every segment it is in.
CREATE FUNCTION segment_leave(counterparty uuid) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    left_keys text[];
    left_values text[];
BEGIN
    PERFORM mark_segments_dirty(counterparty);
    UPDATE segment_stats s SET
        counterparties = s.counterparties - 1,
        total = s.total - c.total, planned = s.planned - c.planned, completed = s.completed - c.completed,
        cancelled = s.cancelled - c.cancelled, phone_call = s.phone_call - c.phone_call, email = s.email - c.email,
        meeting = s.meeting - c.meeting, message = s.message - c.message, other = s.other - c.other
    FROM segment_members m, counterparty_stats c
    WHERE m.counterparty_id = counterparty AND c.counterparty_id = counterparty AND s.attr_key = m.attr_key AND s.value = m.value;
    INSERT INTO segment_orders AS t (attr_key, value, kind, currency, count, total)
    SELECT m.attr_key, m.value, o.kind, o.currency, -o.count, -o.total
    FROM segment_members m JOIN counterparty_orders o ON o.counterparty_id = m.counterparty_id
    WHERE m.counterparty_id = counterparty
    ON CONFLICT (attr_key, value, kind, currency) DO UPDATE SET count = t.count + EXCLUDED.count, total = t.total + EXCLUDED.total;
    DELETE FROM segment_orders s USING segment_members m
    WHERE m.counterparty_id = counterparty AND s.attr_key = m.attr_key AND s.value = m.value AND s.count = 0;
    SELECT array_agg(attr_key), array_agg(value) INTO left_keys, left_values FROM segment_members WHERE counterparty_id = counterparty;
    DELETE FROM segment_members WHERE counterparty_id = counterparty;
    DELETE FROM segment_stats s USING unnest(left_keys, left_values) l(attr_key, value)
    WHERE s.attr_key = l.attr_key AND s.value = l.value AND s.counterparties = 0;
    UPDATE segment_stats s SET last_event_at = (
        SELECT max(m2.last_event_at) FROM segment_members m2 WHERE m2.attr_key = s.attr_key AND m2.value = s.value)
    FROM unnest(left_keys, left_values) l(attr_key, value) WHERE s.attr_key = l.attr_key AND s.value = l.value;
END
$$;

-- Puts a live counterparty with its whole rollup into its segment of every segmentable attribute.
CREATE FUNCTION segment_join(counterparty uuid) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    cp_vals jsonb;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM counterparty_facts WHERE id = counterparty AND NOT deleted) THEN RETURN; END IF;
    INSERT INTO counterparty_stats (counterparty_id) VALUES (counterparty) ON CONFLICT DO NOTHING;
    cp_vals := coalesce((SELECT v.vals FROM value_facts v WHERE v.kind = 'counterparty' AND v.object_id = counterparty), '{}');
    INSERT INTO segment_members (attr_key, value, counterparty_id, last_event_at)
    SELECT a.attr_key, coalesce(cp_vals ->> a.attr_key, ''), counterparty, c.last_event_at
    FROM segment_attributes a, counterparty_stats c WHERE c.counterparty_id = counterparty;
    INSERT INTO segment_stats (attr_key, value)
    SELECT attr_key, value FROM segment_members WHERE counterparty_id = counterparty ON CONFLICT DO NOTHING;
    UPDATE segment_stats s SET
        counterparties = s.counterparties + 1,
        total = s.total + c.total, planned = s.planned + c.planned, completed = s.completed + c.completed,
        cancelled = s.cancelled + c.cancelled, phone_call = s.phone_call + c.phone_call, email = s.email + c.email,
        meeting = s.meeting + c.meeting, message = s.message + c.message, other = s.other + c.other,
        last_event_at = CASE WHEN s.last_event_at IS NULL THEN c.last_event_at
                             WHEN c.last_event_at IS NULL THEN s.last_event_at
                             ELSE greatest(s.last_event_at, c.last_event_at) END
    FROM segment_members m, counterparty_stats c
    WHERE m.counterparty_id = counterparty AND c.counterparty_id = counterparty AND s.attr_key = m.attr_key AND s.value = m.value;
    INSERT INTO segment_orders AS t (attr_key, value, kind, currency, count, total)
    SELECT m.attr_key, m.value, o.kind, o.currency, o.count, o.total
    FROM segment_members m JOIN counterparty_orders o ON o.counterparty_id = m.counterparty_id
    WHERE m.counterparty_id = counterparty
    ON CONFLICT (attr_key, value, kind, currency) DO UPDATE SET count = t.count + EXCLUDED.count, total = t.total + EXCLUDED.total;
    PERFORM mark_segments_dirty(counterparty);
END
$$;

-- Builds every segment of a newly defined attribute from the rollups (one statement per table).
CREATE FUNCTION segment_attribute_added(key text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO counterparty_stats (counterparty_id) SELECT id FROM counterparty_facts WHERE NOT deleted ON CONFLICT DO NOTHING;
    INSERT INTO segment_members (attr_key, value, counterparty_id, last_event_at)
    SELECT key, coalesce(v.vals ->> key, ''), f.id, c.last_event_at
    FROM counterparty_facts f
    JOIN counterparty_stats c ON c.counterparty_id = f.id
    LEFT JOIN value_facts v ON v.kind = 'counterparty' AND v.object_id = f.id
    WHERE NOT f.deleted;
    INSERT INTO segment_stats (attr_key, value, counterparties, total, planned, completed, cancelled,
        phone_call, email, meeting, message, other, last_event_at)
    SELECT m.attr_key, m.value, count(*), sum(c.total), sum(c.planned), sum(c.completed), sum(c.cancelled),
        sum(c.phone_call), sum(c.email), sum(c.meeting), sum(c.message), sum(c.other), max(c.last_event_at)
    FROM segment_members m JOIN counterparty_stats c ON c.counterparty_id = m.counterparty_id
    WHERE m.attr_key = key GROUP BY m.attr_key, m.value;
    INSERT INTO segment_orders (attr_key, value, kind, currency, count, total)
    SELECT m.attr_key, m.value, o.kind, o.currency, sum(o.count), sum(o.total)
    FROM segment_members m JOIN counterparty_orders o ON o.counterparty_id = m.counterparty_id
    WHERE m.attr_key = key GROUP BY m.attr_key, m.value, o.kind, o.currency;
    INSERT INTO report_dirty (topic, key) SELECT 'segments', attr_key || E'\x1f' || value FROM segment_stats WHERE attr_key = key
    ON CONFLICT DO NOTHING;
END
$$;

CREATE FUNCTION segment_attribute_removed(key text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM segment_members WHERE attr_key = key;
    DELETE FROM segment_stats WHERE attr_key = key;
    DELETE FROM segment_orders WHERE attr_key = key;
END
$$;

-- Ingestion: one call per snapshot ----------------------------------------------------------

CREATE FUNCTION ingest_event(fresh event_facts) RETURNS boolean LANGUAGE plpgsql
-- Point lookups only: plans cached by this session while a table was small must not stay seq scans.
SET enable_seqscan = off AS $$
DECLARE
    prior event_facts;
BEGIN
    SELECT * INTO prior FROM event_facts WHERE id = fresh.id FOR UPDATE;
    IF FOUND AND prior.version >= fresh.version THEN RETURN false; END IF;
    PERFORM apply_event(prior, -1);
    INSERT INTO event_facts VALUES (fresh.*)
    ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, project_id = EXCLUDED.project_id,
        counterparty_id = EXCLUDED.counterparty_id, responsible_id = EXCLUDED.responsible_id, channel = EXCLUDED.channel,
        state = EXCLUDED.state, deleted = EXCLUDED.deleted, sort_at = EXCLUDED.sort_at, completed_day = EXCLUDED.completed_day;
    PERFORM apply_event(fresh, 1);
    PERFORM refresh_last_event(prior.counterparty_id);
    IF fresh.counterparty_id IS DISTINCT FROM prior.counterparty_id THEN PERFORM refresh_last_event(fresh.counterparty_id); END IF;
    RETURN true;
END
$$;

CREATE FUNCTION ingest_order(fresh order_facts) RETURNS boolean LANGUAGE plpgsql
-- Point lookups only: plans cached by this session while a table was small must not stay seq scans.
SET enable_seqscan = off AS $$
DECLARE
    prior order_facts;
BEGIN
    SELECT * INTO prior FROM order_facts WHERE id = fresh.id FOR UPDATE;
    IF FOUND AND prior.version >= fresh.version THEN RETURN false; END IF;
    PERFORM apply_order(prior, -1);
    INSERT INTO order_facts VALUES (fresh.*)
    ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, kind = EXCLUDED.kind, state = EXCLUDED.state,
        counterparty_id = EXCLUDED.counterparty_id, project_id = EXCLUDED.project_id, currency = EXCLUDED.currency,
        total = EXCLUDED.total, deleted = EXCLUDED.deleted;
    PERFORM apply_order(fresh, 1);
    RETURN true;
END
$$;

CREATE FUNCTION ingest_values(object_kind text, object uuid, new_version bigint, new_vals jsonb) RETURNS boolean LANGUAGE plpgsql
-- Point lookups only: plans cached by this session while a table was small must not stay seq scans.
SET enable_seqscan = off AS $$
DECLARE
    prior value_facts;
    e event_facts;
    regroup boolean := false;
BEGIN
    SELECT * INTO prior FROM value_facts WHERE kind = object_kind AND object_id = object FOR UPDATE;
    IF FOUND AND prior.version >= new_version THEN RETURN false; END IF;
    IF object_kind = 'event' THEN
        SELECT * INTO e FROM event_facts WHERE id = object FOR UPDATE;
        IF FOUND AND NOT e.deleted AND e.project_id IS NOT NULL THEN
            PERFORM apply_event_values(e.project_id, prior.vals, -1);
            PERFORM apply_event_values(e.project_id, new_vals, 1);
            UPDATE project_stats SET updated_at = now() WHERE project_id = e.project_id;
            PERFORM mark_dirty('projects', e.project_id::text);
        END IF;
    ELSIF object_kind = 'counterparty' THEN
        regroup := EXISTS (SELECT 1 FROM segment_attributes a
            WHERE (prior.vals ->> a.attr_key) IS DISTINCT FROM (new_vals ->> a.attr_key));
        IF regroup THEN PERFORM segment_leave(object); END IF;
    END IF;
    INSERT INTO value_facts (kind, object_id, version, vals) VALUES (object_kind, object, new_version, new_vals)
    ON CONFLICT (kind, object_id) DO UPDATE SET version = EXCLUDED.version, vals = EXCLUDED.vals;
    IF regroup THEN PERFORM segment_join(object); END IF;
    RETURN true;
END
$$;

CREATE FUNCTION ingest_counterparty(object uuid, new_version bigint, new_name text, new_deleted boolean) RETURNS boolean LANGUAGE plpgsql
-- Point lookups only: plans cached by this session while a table was small must not stay seq scans.
SET enable_seqscan = off AS $$
DECLARE
    prior counterparty_facts;
    was_live boolean;
BEGIN
    SELECT * INTO prior FROM counterparty_facts WHERE id = object FOR UPDATE;
    IF FOUND AND prior.version >= new_version THEN RETURN false; END IF;
    was_live := FOUND AND NOT prior.deleted;
    IF was_live AND new_deleted THEN PERFORM segment_leave(object); END IF;
    INSERT INTO counterparty_facts (id, version, name, deleted) VALUES (object, new_version, new_name, new_deleted)
    ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, name = EXCLUDED.name, deleted = EXCLUDED.deleted;
    IF NOT was_live AND NOT new_deleted THEN PERFORM segment_join(object); END IF;
    RETURN true;
END
$$;

CREATE FUNCTION ingest_attribute_set(set_kind text, new_version bigint, new_attributes jsonb) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    prior attribute_set_facts;
    k text;
BEGIN
    SELECT * INTO prior FROM attribute_set_facts WHERE kind = set_kind FOR UPDATE;
    IF FOUND AND prior.version >= new_version THEN RETURN false; END IF;
    INSERT INTO attribute_set_facts (kind, version, attributes) VALUES (set_kind, new_version, new_attributes)
    ON CONFLICT (kind) DO UPDATE SET version = EXCLUDED.version, attributes = EXCLUDED.attributes;
    IF set_kind = 'counterparty' THEN
        FOR k IN
            SELECT s.attr_key FROM segment_attributes s
            WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements(new_attributes) a
                WHERE a ->> 'key' = s.attr_key AND a ->> 'type' IN ('boolean', 'enum', 'reference'))
        LOOP
            DELETE FROM segment_attributes WHERE attr_key = k;
            PERFORM segment_attribute_removed(k);
        END LOOP;
        FOR k IN
            SELECT a ->> 'key' FROM jsonb_array_elements(new_attributes) a
            WHERE a ->> 'type' IN ('boolean', 'enum', 'reference')
                AND NOT EXISTS (SELECT 1 FROM segment_attributes s WHERE s.attr_key = a ->> 'key')
        LOOP
            INSERT INTO segment_attributes (attr_key, type)
            SELECT k, a ->> 'type' FROM jsonb_array_elements(new_attributes) a WHERE a ->> 'key' = k LIMIT 1;
            PERFORM segment_attribute_added(k);
        END LOOP;
    END IF;
    RETURN true;
END
$$;

CREATE FUNCTION ingest_project(object uuid, new_version bigint, new_name text, new_deleted boolean) RETURNS boolean LANGUAGE plpgsql
-- Point lookups only: plans cached by this session while a table was small must not stay seq scans.
SET enable_seqscan = off AS $$
BEGIN
    INSERT INTO project_facts AS t (id, version, name, deleted) VALUES (object, new_version, new_name, new_deleted)
    ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, name = EXCLUDED.name, deleted = EXCLUDED.deleted
    WHERE t.version < EXCLUDED.version;
    IF NOT FOUND THEN RETURN false; END IF;
    PERFORM mark_dirty('projects', object::text);
    RETURN true;
END
$$;

CREATE FUNCTION ingest_employee(object uuid, new_version bigint, new_name text, new_deleted boolean) RETURNS boolean LANGUAGE plpgsql
-- Point lookups only: plans cached by this session while a table was small must not stay seq scans.
SET enable_seqscan = off AS $$
BEGIN
    INSERT INTO employee_facts AS t (id, version, name, deleted) VALUES (object, new_version, new_name, new_deleted)
    ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, name = EXCLUDED.name, deleted = EXCLUDED.deleted
    WHERE t.version < EXCLUDED.version;
    IF NOT FOUND THEN RETURN false; END IF;
    -- Names appear in byResponsible of the projects the employee works on.
    INSERT INTO report_dirty (topic, key)
    SELECT 'projects', project_id::text FROM project_responsibles WHERE employee_id = object ON CONFLICT DO NOTHING;
    RETURN true;
END
$$;
