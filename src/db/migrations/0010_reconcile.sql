-- Up Migration

-- Where an event came from: a webhook delivery, or reconciliation (a lead C2S lists as updated
-- whose (lead, updated_at) no webhook brought). Catalogue-only on PostgreSQL 11+: a constant
-- DEFAULT rewrites nothing, and a webhook insert, which names no source, gets 'webhook' for free.
-- The check is NOT VALID so that adding it scans nothing under this migration's exclusive lock:
-- every existing row holds the default, and new and updated rows are checked all the same.
ALTER TABLE webhook_events ADD COLUMN source text NOT NULL DEFAULT 'webhook';
ALTER TABLE webhook_events
  ADD CONSTRAINT webhook_events_source_check CHECK (source IN ('webhook', 'reconcile')) NOT VALID;

-- One row per scheduled reconciliation run. A run is inserted `running` before it lists
-- anything and ends `succeeded` or `failed`; one that a crash cut stays `running` until the next
-- run (which holds the reconciliation lock, so no other run can be live) marks it failed. The
-- next window starts from the last succeeded run's window_until (minus an overlap), never from a
-- failed or crashed one: a window that was not finished is covered again.
CREATE TABLE reconcile_runs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  window_from timestamptz NOT NULL,
  window_until timestamptz NOT NULL,
  -- Leads listed in the window, stored now as new events, already stored.
  listed integer NOT NULL DEFAULT 0,
  new integer NOT NULL DEFAULT 0,
  known integer NOT NULL DEFAULT 0,
  -- `<code>: <message>` of a failed run; messages of our errors hold no personal data or URL.
  error text,
  -- hostname:pid of the process that ran it.
  process text NOT NULL,
  CHECK (window_from < window_until)
);

-- Newest first, for `stats`, the gauges and the count of failures since the last success.
CREATE INDEX reconcile_runs_started_idx ON reconcile_runs (started_at);

-- Down Migration
DROP TABLE reconcile_runs;
ALTER TABLE webhook_events DROP COLUMN source;
