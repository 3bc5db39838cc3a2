-- Up Migration

-- One row per webhook event C2S delivered, identified by (lead_id, updated_at).
-- Columns up to error_message are those of the earlier service, kept for its tools.
CREATE TABLE webhook_events (
  id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  lead_id       text        NOT NULL,
  updated_at    timestamptz NOT NULL,
  hook_action   text,
  payload_raw   jsonb       NOT NULL,
  received_at   timestamptz NOT NULL DEFAULT now(),
  processed_at  timestamptz,
  status        text        NOT NULL DEFAULT 'received'
                CHECK (status IN ('received', 'processing', 'completed', 'failed', 'stale', 'superseded')),
  error_message text,
  outcome       text        CHECK (outcome IN ('enriched', 'no_match', 'unchanged', 'closed')),
  request_id    text
);

-- Idempotency: concurrent identical deliveries store exactly one row. Also serves
-- "newest event of this lead" (stale detection) as a backward index scan.
CREATE UNIQUE INDEX webhook_events_lead_id_updated_at_key ON webhook_events (lead_id, updated_at);
CREATE INDEX webhook_events_status_received_at_idx ON webhook_events (status, received_at);
CREATE INDEX webhook_events_received_at_idx ON webhook_events (received_at);
-- The backlog (events still to process) is counted often; keep that scan small.
CREATE INDEX webhook_events_backlog_idx ON webhook_events (received_at) WHERE status IN ('received', 'processing');

-- Whatever arrived but could not be accepted, kept for inspection: bounded in size per row
-- (payload_excerpt) and in rows (trimmed to the newest REJECTED_EVENTS_KEEP on insert).
CREATE TABLE rejected_webhooks (
  id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  received_at     timestamptz NOT NULL DEFAULT now(),
  request_id      text,
  event_index     integer,
  reason          text        NOT NULL,
  message         text        NOT NULL,
  lead_id         text,
  payload_excerpt text        NOT NULL
);
CREATE INDEX rejected_webhooks_received_at_idx ON rejected_webhooks (received_at);

-- Down Migration
DROP TABLE rejected_webhooks;
DROP TABLE webhook_events;
