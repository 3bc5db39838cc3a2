-- Up Migration

-- DRY_RUN: the note an event would have posted is kept in the ledger instead (state `dry_run`,
-- with its text) so operators can compare it with what the old automation posted. The text is
-- personal data: retention deletes it after RETENTION_DAYS, erasure with the person. A replay
-- with DRY_RUN off takes the row over and posts it (the text then lives in C2S, not here).
ALTER TABLE notes ADD COLUMN body text;
ALTER TABLE notes DROP CONSTRAINT notes_state_check;
ALTER TABLE notes ADD CONSTRAINT notes_state_check
  CHECK (state IN ('pending', 'sent', 'unknown', 'dry_run')) NOT VALID;
ALTER TABLE notes VALIDATE CONSTRAINT notes_state_check;

-- Dry-run texts still held, oldest first: what retention has left to delete (a small index, as
-- most notes are sent and hold no text).
CREATE INDEX notes_dry_run_body_idx ON notes (updated_at) WHERE body IS NOT NULL;

-- Down Migration
DROP INDEX notes_dry_run_body_idx;
DELETE FROM notes WHERE state = 'dry_run';
ALTER TABLE notes DROP CONSTRAINT notes_state_check;
ALTER TABLE notes ADD CONSTRAINT notes_state_check CHECK (state IN ('pending', 'sent', 'unknown'));
ALTER TABLE notes DROP COLUMN body;
