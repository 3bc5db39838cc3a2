-- Up Migration

-- An operator can queue a finished event again (reprocess, replay). Attempts keep counting (they
-- fence the event's writes), but those made before the requeue do not count against the retry
-- budget of the new run: `uncounted_attempts` holds how many not to count. Waits imposed by this
-- service's own provider pacing are not counted either (a replay of thousands queues behind the
-- limiter instead of exhausting its retries).
ALTER TABLE webhook_events
  ADD COLUMN uncounted_attempts integer NOT NULL DEFAULT 0,
  ADD COLUMN requeued_at        timestamptz;

-- The admin lists, newest first by (received_at, id) and paged by keyset, each filter on an index
-- that hands rows over in that order, so a page reads about a page of rows however big the
-- table. `phase` is the status, or for a completed event its outcome: one index serves both
-- filters (the completed events, most of the table, are served by the received-time index).
-- Both hold finished events only: an event enters them once, when it finishes, and storing or
-- claiming one (the hot paths) never touches them. Unfinished events are few, and the queue's own
-- index (webhook_events_due_idx) lists them.
CREATE INDEX webhook_events_received_idx ON webhook_events (received_at, id)
  WHERE status NOT IN ('received', 'processing');
CREATE INDEX webhook_events_phase_idx ON webhook_events
  ((CASE WHEN status = 'completed' THEN outcome ELSE status END), received_at, id)
  WHERE status NOT IN ('received', 'processing');
-- Error codes are set on failed and retrying events only: a small index.
CREATE INDEX webhook_events_error_code_idx ON webhook_events (error_code, received_at, id)
  WHERE error_code IS NOT NULL;

-- Event counts by status per hour of received time, for hours that can no longer change by
-- themselves (ended a while ago, nothing unfinished): `stats` adds these up and counts only the
-- hours not sealed (the last one or two), never the whole table. Queuing an event of a sealed hour
-- again unseals that hour.
CREATE TABLE event_hour_counts (
  hour      timestamptz PRIMARY KEY, -- start of the hour
  counts    jsonb       NOT NULL,    -- {"completed": n, "failed": n, ...}
  sealed_at timestamptz NOT NULL DEFAULT now()
);

-- What happened per minute (events received, completed by outcome, failed), added up across
-- processes from their own counters every few seconds; kept two days. The last hour's series and
-- the last day's outcomes come from here.
CREATE TABLE event_tallies (
  minute timestamptz NOT NULL,
  kind   text        NOT NULL, -- received | completed:<outcome> | failed
  n      integer     NOT NULL,
  PRIMARY KEY (minute, kind)
);

-- Provider health as each process running provider calls last reported it (every few seconds),
-- so any process, and the command line, can answer `stats`.
CREATE TABLE provider_health (
  provider        text        NOT NULL,
  process         text        NOT NULL,
  breaker         text        NOT NULL CHECK (breaker IN ('closed', 'open', 'half_open')),
  last_error_code text,
  last_error_at   timestamptz,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, process)
);

-- Calls and errors per provider and minute, added up across processes; kept a day.
CREATE TABLE provider_calls (
  provider text        NOT NULL,
  minute   timestamptz NOT NULL,
  calls    integer     NOT NULL DEFAULT 0,
  errors   integer     NOT NULL DEFAULT 0,
  PRIMARY KEY (provider, minute)
);

-- Down Migration
DROP TABLE provider_calls;
DROP TABLE provider_health;
DROP TABLE event_tallies;
DROP TABLE event_hour_counts;
DROP INDEX webhook_events_error_code_idx;
DROP INDEX webhook_events_phase_idx;
DROP INDEX webhook_events_received_idx;
ALTER TABLE webhook_events DROP COLUMN requeued_at, DROP COLUMN uncounted_attempts;
