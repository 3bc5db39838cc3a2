-- Up Migration

-- Step outputs keep ids, references, counts and flags only, under their step's output version
-- (`{"v": …, "output": …, "outcome": …}`). Rows written before held the lead's phone, e-mail and
-- name, the CPFs found and the whole note body: blank them. A finished event keeps its timeline
-- (statuses, attempts, times, errors); an unfinished one runs those steps again when resumed
-- (the runner reuses only outputs of the current version).
UPDATE event_steps SET output = NULL WHERE output IS NOT NULL AND NOT (output ? 'v');

-- `due_at` says when a waiting event runs next: `next_attempt_at` repeated it.
ALTER TABLE webhook_events DROP COLUMN next_attempt_at;

-- Down Migration
ALTER TABLE webhook_events ADD COLUMN next_attempt_at timestamptz;
UPDATE webhook_events SET next_attempt_at = due_at WHERE status = 'processing' AND claimed_by IS NULL;
