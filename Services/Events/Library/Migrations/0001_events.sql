CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;

CREATE SEQUENCE event_numbers;

CREATE TABLE events (
    id uuid PRIMARY KEY,
    number text NOT NULL UNIQUE,
    channel text NOT NULL,
    direction text NOT NULL,
    state text NOT NULL,
    subject text NOT NULL,
    content text,
    counterparty_id uuid,
    contact_id uuid,
    deal_id uuid,
    project_id uuid,
    responsible_id uuid,
    starts_at timestamptz,
    ends_at timestamptz,
    basis_kind text,
    basis_id uuid,
    author_id text,
    source text NOT NULL,
    call jsonb,
    call_id text UNIQUE,
    unmatched boolean NOT NULL DEFAULT false,
    cancel_reason text,
    completed_at timestamptz,
    cancelled_at timestamptz,
    deleted boolean NOT NULL DEFAULT false,
    version bigint NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    -- The history order: start time, or creation time for events without one.
    sort_at timestamptz GENERATED ALWAYS AS (coalesce(starts_at, created_at)) STORED
);
-- "A counterparty's latest 50 events" and the other history filters walk these in order.
CREATE INDEX events_history ON events (sort_at DESC, id DESC) WHERE NOT deleted;
CREATE INDEX events_by_counterparty ON events (counterparty_id, sort_at DESC, id DESC) WHERE NOT deleted;
CREATE INDEX events_by_contact ON events (contact_id, sort_at DESC, id DESC) WHERE NOT deleted;
CREATE INDEX events_by_deal ON events (deal_id, sort_at DESC, id DESC) WHERE NOT deleted;
CREATE INDEX events_by_project ON events (project_id, sort_at DESC, id DESC) WHERE NOT deleted;
CREATE INDEX events_by_responsible ON events (responsible_id, sort_at DESC, id DESC) WHERE NOT deleted;
CREATE INDEX events_unmatched ON events (sort_at DESC, id DESC) WHERE unmatched AND NOT deleted;
CREATE INDEX events_text ON events USING gin ((lower(subject || ' ' || coalesce(content, ''))) public.gin_trgm_ops);

-- Projections of the catalog topics (newest version wins).
CREATE TABLE counterparties (
    id uuid PRIMARY KEY, name text NOT NULL, phones text[] NOT NULL DEFAULT '{}',
    deleted boolean NOT NULL, version bigint NOT NULL);
CREATE TABLE contacts (
    id uuid PRIMARY KEY, counterparty_id uuid, name text NOT NULL, phones text[] NOT NULL DEFAULT '{}',
    deleted boolean NOT NULL, version bigint NOT NULL);
CREATE TABLE employees (
    id uuid PRIMARY KEY, name text NOT NULL, phone_extension text,
    deleted boolean NOT NULL, version bigint NOT NULL);
CREATE INDEX employees_by_extension ON employees (phone_extension) WHERE NOT deleted;
CREATE TABLE projects (id uuid PRIMARY KEY, name text NOT NULL, deleted boolean NOT NULL, version bigint NOT NULL);
CREATE TABLE deals (
    id uuid PRIMARY KEY, name text NOT NULL, counterparty_id uuid, deleted boolean NOT NULL, version bigint NOT NULL);

-- The phone index for call matching: one row per number of a counterparty or contact.
CREATE TABLE phone_index (
    e164 text NOT NULL,
    last10 text NOT NULL,
    counterparty_id uuid NOT NULL,
    contact_id uuid,
    owner_id uuid NOT NULL
);
CREATE INDEX phone_index_e164 ON phone_index (e164);
CREATE INDEX phone_index_last10 ON phone_index (last10);
CREATE INDEX phone_index_owner ON phone_index (owner_id);
