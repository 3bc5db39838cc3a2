-- Up Migration

-- Progress of an event's workflow run.
ALTER TABLE webhook_events
  ADD COLUMN attempts        integer     NOT NULL DEFAULT 0,
  ADD COLUMN started_at      timestamptz,
  ADD COLUMN next_attempt_at timestamptz,
  ADD COLUMN error_code      text;

-- One row per (event, step): the checkpoint a retry resumes from. A succeeded step is never run
-- again; its output feeds the steps after it.
CREATE TABLE event_steps (
  event_id      uuid        NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
  step          text        NOT NULL,
  status        text        NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
  attempts      integer     NOT NULL DEFAULT 0,
  started_at    timestamptz NOT NULL,
  finished_at   timestamptz,
  duration_ms   integer,
  error_code    text,
  error_message text,
  output        jsonb,
  PRIMARY KEY (event_id, step)
);

-- The notes ledger: at most one note per reference (one per lead and enrichment). A row is
-- claimed (`pending`) before C2S is called; `unknown` means a call may or may not have landed,
-- so the next attempt looks for the reference on the lead before posting again.
CREATE TABLE notes (
  ref        text        PRIMARY KEY,
  lead_id    text        NOT NULL,
  event_id   uuid        REFERENCES webhook_events (id) ON DELETE SET NULL,
  state      text        NOT NULL CHECK (state IN ('pending', 'sent', 'unknown')),
  attempts   integer     NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  sent_at    timestamptz
);
CREATE INDEX notes_lead_id_idx ON notes (lead_id);
CREATE INDEX notes_state_idx ON notes (state) WHERE state <> 'sent';

-- Down Migration
DROP TABLE notes;
DROP TABLE event_steps;
ALTER TABLE webhook_events DROP COLUMN attempts, DROP COLUMN started_at, DROP COLUMN next_attempt_at, DROP COLUMN error_code;
