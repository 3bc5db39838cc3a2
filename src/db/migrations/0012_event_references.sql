-- Up Migration

-- Checkpoints and note claims no longer reference their event by foreign key. Every write of
-- either is fenced on the event row already (it joins the row and checks the claim), and events
-- are never deleted, so the key checked nothing the fence does not. What it cost: each inserted
-- row locked its event row again (FOR KEY SHARE), a WAL record and a dirtied heap page, and
-- where that lock overlapped a run's own FOR SHARE fence, a MultiXact.
ALTER TABLE event_steps DROP CONSTRAINT event_steps_event_id_fkey;
ALTER TABLE notes DROP CONSTRAINT notes_event_id_fkey;

-- Down Migration
ALTER TABLE notes ADD CONSTRAINT notes_event_id_fkey
  FOREIGN KEY (event_id) REFERENCES webhook_events (id) ON DELETE SET NULL;
ALTER TABLE event_steps ADD CONSTRAINT event_steps_event_id_fkey
  FOREIGN KEY (event_id) REFERENCES webhook_events (id) ON DELETE CASCADE;
