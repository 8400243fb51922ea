-- Trigram search on names (installed once per database, shared by every schema).
CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;

-- The six catalogs in one table: their fields differ, their life cycle does not.
-- `data` holds the catalog fields as the API shows them; hot filter keys are columns.
CREATE TABLE catalog_objects (
    id uuid PRIMARY KEY,
    kind text NOT NULL,
    name text NOT NULL,
    data jsonb NOT NULL,
    phones text[] NOT NULL DEFAULT '{}',
    counterparty_id uuid,
    deleted boolean NOT NULL DEFAULT false,
    version bigint NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX catalog_objects_by_name ON catalog_objects (kind, deleted, name, id);
CREATE INDEX catalog_objects_name_search ON catalog_objects USING gin (lower(name) public.gin_trgm_ops);
CREATE INDEX catalog_objects_phones ON catalog_objects USING gin (phones);
CREATE INDEX catalog_objects_counterparty ON catalog_objects (counterparty_id) WHERE counterparty_id IS NOT NULL;
CREATE INDEX catalog_objects_data ON catalog_objects USING gin (data jsonb_path_ops);

-- One row per kind that has ever had a set; `version` grows with every set change.
CREATE TABLE attribute_sets (
    kind text PRIMARY KEY,
    version bigint NOT NULL DEFAULT 0
);

-- Attributes of a kind's set. Retired ones keep their key (values stay stored) but lose their position.
CREATE TABLE attribute_definitions (
    id uuid PRIMARY KEY,
    kind text NOT NULL,
    key text NOT NULL,
    name text NOT NULL,
    type text NOT NULL,
    options text[] NOT NULL DEFAULT '{}',
    reference_kind text,
    required boolean NOT NULL DEFAULT false,
    position integer,
    description text,
    retired boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, key)
);
CREATE INDEX attribute_definitions_active ON attribute_definitions (kind, position) WHERE NOT retired;

-- All values of one object, keyed by attribute key; containment queries use the GIN index.
CREATE TABLE attribute_values (
    kind text NOT NULL,
    object_id uuid NOT NULL,
    "values" jsonb NOT NULL DEFAULT '{}',
    version bigint NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (kind, object_id)
);
CREATE INDEX attribute_values_search ON attribute_values USING gin ("values" jsonb_path_ops);

-- Events and orders this service has seen on their topics (values may be attached to them).
CREATE TABLE known_objects (
    id uuid PRIMARY KEY,
    kind text NOT NULL,
    deleted boolean NOT NULL,
    version bigint NOT NULL
);
