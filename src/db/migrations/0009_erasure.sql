-- Up Migration

-- A later event naming an erased and suppressed person completes as `suppressed`. The new check
-- is added NOT VALID and validated apart: validating takes a lock that lets the webhook and the
-- workers write meanwhile, where a plain ADD CONSTRAINT would stop them for the whole scan.
ALTER TABLE webhook_events DROP CONSTRAINT webhook_events_outcome_check;
ALTER TABLE webhook_events ADD CONSTRAINT webhook_events_outcome_check
  CHECK (outcome IN ('enriched', 'no_match', 'unchanged', 'closed', 'suppressed')) NOT VALID;
ALTER TABLE webhook_events VALIDATE CONSTRAINT webhook_events_outcome_check;

-- The suppression list (`erase --suppress`, LGPD art. 18 opposition): a keyed hash (HMAC-SHA256
-- under SUPPRESSION_SECRET) of each CPF, phone and e-mail of an erased person, never the value.
-- The kind is part of the hashed text, so a phone can never match a CPF of the same digits.
CREATE TABLE suppressed_identifiers (
  digest     bytea       PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- What each erasure did, for the controller's records: when, by which kind of identifier, and
-- how many rows of each place it removed. The identifier itself is never recorded.
CREATE TABLE erasures (
  id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  erased_at  timestamptz NOT NULL DEFAULT now(),
  kind       text        NOT NULL CHECK (kind IN ('cpf', 'phone', 'email')),
  suppressed boolean     NOT NULL,
  counts     jsonb       NOT NULL
);

-- How a person was found for a lead (the lead's own CPF, its phone, its e-mail), linked the moment
-- the party is found, in the same fenced statement: an erasure by phone finds, through the leads
-- naming that phone, the person a run in flight has just found for it, before anything else of
-- theirs is stored. Null for links made before.
ALTER TABLE people.party_leads ADD COLUMN found_by text CHECK (found_by IN ('lead', 'phone', 'email'));

-- Down Migration
ALTER TABLE people.party_leads DROP COLUMN found_by;
DROP TABLE erasures;
DROP TABLE suppressed_identifiers;
UPDATE webhook_events SET outcome = 'no_match' WHERE outcome = 'suppressed';
ALTER TABLE webhook_events DROP CONSTRAINT webhook_events_outcome_check;
ALTER TABLE webhook_events ADD CONSTRAINT webhook_events_outcome_check
  CHECK (outcome IN ('enriched', 'no_match', 'unchanged', 'closed'));
