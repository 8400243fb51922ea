-- Who may change an event's or an order's attribute values: the same people who may change the
-- event or order itself (its author and its responsible employee), besides admins.
ALTER TABLE known_objects ADD COLUMN author_id text, ADD COLUMN responsible_id text;
