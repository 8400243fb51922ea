-- The reference indexes only hold the rows that have the reference. A call event (the bulk of
-- the table) has no contact, deal or project, often no counterparty (unmatched calls), and
-- each index it enters costs ingest time (Tools/crm-bench/events-index-cost.sql); the list
-- filters ask `column = $id`, which implies IS NOT NULL, so they use these partial indexes as
-- before, as does the call matcher's latest-activity lookup per counterparty.
-- events_history, events_unmatched (already partial) and the trigram events_text (the `q`
-- search; the dearest one, kept because no other path serves substring search) stay as they are.
DROP INDEX events_by_counterparty;
DROP INDEX events_by_contact;
DROP INDEX events_by_deal;
DROP INDEX events_by_project;
DROP INDEX events_by_responsible;
CREATE INDEX events_by_counterparty ON events (counterparty_id, sort_at DESC, id DESC) WHERE counterparty_id IS NOT NULL AND NOT deleted;
CREATE INDEX events_by_contact ON events (contact_id, sort_at DESC, id DESC) WHERE contact_id IS NOT NULL AND NOT deleted;
CREATE INDEX events_by_deal ON events (deal_id, sort_at DESC, id DESC) WHERE deal_id IS NOT NULL AND NOT deleted;
CREATE INDEX events_by_project ON events (project_id, sort_at DESC, id DESC) WHERE project_id IS NOT NULL AND NOT deleted;
CREATE INDEX events_by_responsible ON events (responsible_id, sort_at DESC, id DESC) WHERE responsible_id IS NOT NULL AND NOT deleted;
