-- Up Migration

-- The event row is its own job. An unfinished event (received or processing) is taken by a
-- worker once `due_at` has come: at once for a new event, at the retry time after a failure. A
-- worker that takes it pushes `due_at` one lease ahead and keeps pushing it while the event runs,
-- so the event of a worker that died becomes due again when its lease runs out. Storing an event
-- is therefore storing its job, in one row and one statement: the job table of pg-boss (16
-- indexes, two foreign keys) cost more than the event itself and is gone.
ALTER TABLE webhook_events
  ADD COLUMN due_at     timestamptz NOT NULL DEFAULT now(),
  ADD COLUMN claimed_by text;
-- Events waiting for a retry keep their time.
UPDATE webhook_events SET due_at = next_attempt_at
WHERE status = 'processing' AND next_attempt_at > now();

-- The queue: only unfinished events, in the order they become due.
CREATE INDEX webhook_events_due_idx ON webhook_events (due_at) WHERE status IN ('received', 'processing');
-- One event of a lead runs at a time, whichever workers try to take two.
CREATE UNIQUE INDEX webhook_events_one_claim_per_lead ON webhook_events (lead_id) WHERE claimed_by IS NOT NULL;

-- The backlog now reads the queue index; nothing queried these by time or status.
DROP INDEX webhook_events_backlog_idx;
DROP INDEX webhook_events_status_received_at_idx;
DROP INDEX webhook_events_received_at_idx;

-- Jobs still waiting in pg-boss are waiting events already (status received or processing, due
-- now): nothing is lost with its schema.
DROP SCHEMA IF EXISTS pgboss CASCADE;

-- A step is recorded once it ends.
ALTER TABLE event_steps DROP CONSTRAINT event_steps_status_check;
ALTER TABLE event_steps ADD CONSTRAINT event_steps_status_check CHECK (status IN ('succeeded', 'failed'));

-- Down Migration
ALTER TABLE event_steps DROP CONSTRAINT event_steps_status_check;
ALTER TABLE event_steps ADD CONSTRAINT event_steps_status_check CHECK (status IN ('running', 'succeeded', 'failed'));
CREATE INDEX webhook_events_backlog_idx ON webhook_events (received_at) WHERE status IN ('received', 'processing');
CREATE INDEX webhook_events_status_received_at_idx ON webhook_events (status, received_at);
CREATE INDEX webhook_events_received_at_idx ON webhook_events (received_at);
DROP INDEX webhook_events_one_claim_per_lead;
DROP INDEX webhook_events_due_idx;
ALTER TABLE webhook_events DROP COLUMN claimed_by, DROP COLUMN due_at;
