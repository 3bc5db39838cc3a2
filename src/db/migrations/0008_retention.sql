-- Up Migration

-- Retention (RETENTION_DAYS): a finished event loses its raw payload (and its steps' outputs)
-- once it is old enough; the row stays for history. `purged_at` says when, so a purge is visible
-- (the admin API shows `payload: null`) and never done twice. Both changes are catalogue-only:
-- no table rewrite.
ALTER TABLE webhook_events
  ALTER COLUMN payload_raw DROP NOT NULL,
  ADD COLUMN purged_at timestamptz;

-- What a purge has left to do, oldest first: finished events not purged yet. The admin list index
-- on finished events (webhook_events_received_idx) would serve the same range, but it keeps every
-- purged event too, so each purge would step over all the history purged before it (months of
-- rows, growing forever) before finding the first one left. This one holds about RETENTION_DAYS
-- of events: an event enters it once, when it finishes (an update that already enters the two
-- list indexes), and leaves it when purged.
CREATE INDEX webhook_events_unpurged_idx ON webhook_events (received_at)
  WHERE purged_at IS NULL AND status NOT IN ('received', 'processing');

-- People not updated for PEOPLE_RETENTION_DAYS, oldest first, walked by keyset (updated_at, id):
-- without it every batch would read the whole parties table. Costs an index entry when a person
-- is stored again (enrichments are paced by the providers: a few a second at most).
CREATE INDEX parties_updated_at_idx ON people.parties (updated_at, id);

-- Down Migration
DROP INDEX people.parties_updated_at_idx;
DROP INDEX webhook_events_unpurged_idx;
UPDATE webhook_events SET payload_raw = '{"purged": true}' WHERE payload_raw IS NULL;
ALTER TABLE webhook_events
  DROP COLUMN purged_at,
  ALTER COLUMN payload_raw SET NOT NULL;
