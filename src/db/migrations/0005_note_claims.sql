-- Up Migration

-- The notes ledger is keyed by (lead, reference): references are per lead, so two leads can
-- never share a row, whatever their references. References grow from 8 to 16 hex digits; rows
-- with the old short ones stay and are still recognised (see src/notes/reference.ts).
ALTER TABLE notes DROP CONSTRAINT notes_pkey;
ALTER TABLE notes ADD PRIMARY KEY (lead_id, ref);
DROP INDEX notes_lead_id_idx; -- the primary key serves "notes of this lead"

-- Who holds the claim on an unsent note: the attempt (worker and attempt number of the event)
-- that may be posting it right now. A `pending` note claimed by another attempt counts as in
-- flight until the claim is older than the C2S timeout plus the lease plus a margin.
ALTER TABLE notes
  ADD COLUMN claimed_by    text,
  ADD COLUMN claim_attempt integer,
  ADD COLUMN claimed_at    timestamptz NOT NULL DEFAULT now();
UPDATE notes SET claimed_at = updated_at;

-- Down Migration
ALTER TABLE notes DROP COLUMN claimed_at, DROP COLUMN claim_attempt, DROP COLUMN claimed_by;
CREATE INDEX notes_lead_id_idx ON notes (lead_id);
ALTER TABLE notes DROP CONSTRAINT notes_pkey;
ALTER TABLE notes ADD PRIMARY KEY (ref);
