-- crm-documents: customer and supplier orders, and the projections they refer to.

CREATE SEQUENCE customer_order_numbers;
CREATE SEQUENCE supplier_order_numbers;

-- Money rounding of API.md: half-even ("banker's") rounding to `places` decimals.
-- PostgreSQL's round(numeric) rounds half away from zero, so ties are settled here: a value
-- exactly halfway goes to the even neighbour. Exact for any numeric, no floating point.
CREATE FUNCTION round_half_even(value numeric, places integer) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT round(
        CASE
            WHEN abs(scaled - trunc(scaled)) = 0.5 AND mod(trunc(scaled), 2) = 0 THEN trunc(scaled)
            ELSE round(scaled)
        END * power(10::numeric, -places), places)
    FROM (SELECT value * power(10::numeric, places) AS scaled) AS s
$$;

-- Both kinds of order in one table: they share every column, and the structure query walks
-- them together.
CREATE TABLE orders (
    id uuid PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('customer-order', 'supplier-order')),
    -- The sequence value behind `number`; orders of one date list by it, newest first.
    seq bigint NOT NULL,
    number text NOT NULL UNIQUE,
    state text NOT NULL CHECK (state IN ('draft', 'confirmed', 'completed', 'cancelled')),
    counterparty_id uuid NOT NULL,
    contact_id uuid,
    deal_id uuid,
    project_id uuid,
    responsible_id uuid,
    date date NOT NULL,
    currency text NOT NULL,
    comment text,
    basis_kind text,
    basis_id uuid,
    total numeric NOT NULL,
    author_id text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    confirmed_at timestamptz,
    completed_at timestamptz,
    cancelled_at timestamptz,
    deleted boolean NOT NULL DEFAULT false,
    version bigint NOT NULL,
    UNIQUE (kind, seq)
);
-- Lists: newest first per kind, with the filters of API.md.
CREATE INDEX orders_list ON orders (kind, date DESC, seq DESC) WHERE NOT deleted;
CREATE INDEX orders_by_counterparty ON orders (counterparty_id, kind, date DESC, seq DESC);
CREATE INDEX orders_by_deal ON orders (deal_id, kind, date DESC, seq DESC) WHERE deal_id IS NOT NULL;
CREATE INDEX orders_by_project ON orders (project_id, kind, date DESC, seq DESC) WHERE project_id IS NOT NULL;
-- The structure walks down from a document to what is based on it.
CREATE INDEX orders_by_basis ON orders (basis_id, basis_kind) WHERE basis_id IS NOT NULL;

CREATE TABLE order_lines (
    order_id uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    position integer NOT NULL,
    product_id uuid,
    description text NOT NULL,
    quantity numeric NOT NULL,
    price numeric NOT NULL,
    discount_percent numeric NOT NULL,
    amount numeric NOT NULL,
    PRIMARY KEY (order_id, position)
);

-- Projections of the catalog topics (newest version wins).
CREATE TABLE counterparties (id uuid PRIMARY KEY, name text NOT NULL, deleted boolean NOT NULL, version bigint NOT NULL);
CREATE TABLE contacts (
    id uuid PRIMARY KEY, counterparty_id uuid, name text NOT NULL, deleted boolean NOT NULL, version bigint NOT NULL);
CREATE TABLE employees (id uuid PRIMARY KEY, name text NOT NULL, deleted boolean NOT NULL, version bigint NOT NULL);
CREATE TABLE projects (id uuid PRIMARY KEY, name text NOT NULL, deleted boolean NOT NULL, version bigint NOT NULL);
CREATE TABLE deals (
    id uuid PRIMARY KEY, name text NOT NULL, counterparty_id uuid, deleted boolean NOT NULL, version bigint NOT NULL);
CREATE TABLE products (
    id uuid PRIMARY KEY, name text NOT NULL, price numeric, currency text, deleted boolean NOT NULL, version bigint NOT NULL);

-- Projection of crm.events.v1: what orders are based on and what the structure shows.
CREATE TABLE events (
    id uuid PRIMARY KEY,
    number text NOT NULL,
    state text NOT NULL,
    subject text NOT NULL,
    starts_at timestamptz,
    created_at timestamptz NOT NULL,
    counterparty_id uuid,
    contact_id uuid,
    deal_id uuid,
    project_id uuid,
    responsible_id uuid,
    basis_kind text,
    basis_id uuid,
    deleted boolean NOT NULL,
    version bigint NOT NULL
);
CREATE INDEX events_by_basis ON events (basis_id, basis_kind) WHERE basis_id IS NOT NULL;
CREATE INDEX events_by_counterparty ON events (counterparty_id) WHERE counterparty_id IS NOT NULL;
CREATE INDEX events_by_deal ON events (deal_id) WHERE deal_id IS NOT NULL;

-- The document graph the structure query walks: every event and order as a node with its
-- basis link. A view, so it is never out of step with the tables it reads.
CREATE VIEW structure_nodes AS
    SELECT 'event'::text AS kind, id, number, coalesce(starts_at, created_at) AS at, state, subject AS title,
           counterparty_id, deal_id, basis_kind, basis_id, deleted
    FROM events
    UNION ALL
    SELECT kind, id, number, (date::timestamp AT TIME ZONE 'UTC') AS at, state,
           number || ', ' || total::text || ' ' || currency AS title,
           counterparty_id, deal_id, basis_kind, basis_id, deleted
    FROM orders;
