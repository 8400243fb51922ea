-- GiST over (uuid, tstzrange) needs btree_gist's operator classes for the uuid column.
CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA public;

-- One row per event ever seen on crm.events.v1, also while it is not (or no longer) an entry:
-- the row keeps the newest version so that an older snapshot arriving later never brings a
-- removed or moved entry back. `active` = the event is an entry of `employee_id`'s calendar now.
CREATE TABLE entries (
    event_id uuid PRIMARY KEY,
    active boolean NOT NULL,
    employee_id uuid,
    number text NOT NULL DEFAULT '',
    subject text NOT NULL DEFAULT '',
    channel text NOT NULL DEFAULT '',
    direction text NOT NULL DEFAULT '',
    state text NOT NULL DEFAULT '',
    content text,
    counterparty_id uuid,
    contact_id uuid,
    starts_at timestamptz,
    ends_at timestamptz,
    event_updated_at timestamptz,
    version bigint NOT NULL,
    CHECK (NOT active OR (employee_id IS NOT NULL AND starts_at IS NOT NULL AND ends_at IS NOT NULL AND ends_at >= starts_at))
);
-- Range reads ("a week of one employee"): entries of one employee overlapping [from, to).
-- Closed ranges, so an entry with startsAt = endsAt is a point and not an empty range (which
-- would overlap nothing); the exact half-open test is applied on top of the index condition.
CREATE INDEX entries_by_employee_time ON entries USING gist (employee_id, tstzrange(starts_at, ends_at, '[]')) WHERE active;
-- Overdue: planned entries of one employee whose end has passed.
CREATE INDEX entries_overdue ON entries (employee_id, ends_at) WHERE active AND state = 'planned';

-- Projections of crm.employees.v1 and crm.counterparties.v1 (newest version wins).
CREATE TABLE employees (
    id uuid PRIMARY KEY, name text NOT NULL, time_zone text NOT NULL, active boolean NOT NULL,
    deleted boolean NOT NULL, version bigint NOT NULL);
CREATE TABLE counterparties (id uuid PRIMARY KEY, name text NOT NULL, deleted boolean NOT NULL, version bigint NOT NULL);

-- One reminder per event and start time. `scheduled` rows are picked by the scheduler when due
-- (FOR UPDATE SKIP LOCKED) and become `sent` (message on the outbox in the same transaction),
-- `missed` (the entry had already started) or `skipped` (the employee is inactive or deleted).
-- Rows that are no longer scheduled are never picked again, so each fires at most once.
CREATE TABLE reminders (
    event_id uuid NOT NULL,
    starts_at timestamptz NOT NULL,
    employee_id uuid NOT NULL,
    due_at timestamptz NOT NULL,
    status text NOT NULL CHECK (status IN ('scheduled', 'sent', 'missed', 'skipped')),
    settled_at timestamptz,
    PRIMARY KEY (event_id, starts_at)
);
CREATE INDEX reminders_due ON reminders (due_at) WHERE status = 'scheduled';
CREATE INDEX reminders_by_employee ON reminders (employee_id, due_at);

-- The calendar-feed token of each employee, SHA-256 hashed (hex); at most one per employee.
CREATE TABLE feed_tokens (
    employee_id uuid PRIMARY KEY,
    token_hash text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    created_by text NOT NULL
);
