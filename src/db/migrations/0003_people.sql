-- Up Migration

-- People found for leads, keeping only what the law allows (the Work API whitelist).
CREATE SCHEMA people;

-- One party per CPF.
CREATE TABLE people.parties (
  id                  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  cpf                 char(11)    NOT NULL UNIQUE,
  name                text,
  birth_date          date,
  sex                 text,
  mother_name         text,       -- for matching and the note only
  marital_status      text,
  registration_status text,
  income              numeric(14, 2),
  purchasing_power    text,
  income_band         text,
  credit_score        integer,
  risk_band           text,
  profession          text,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);

-- Phones (national digits) and e-mails (lowercase) of a party, unique per party.
CREATE TABLE people.contacts (
  party_id   bigint      NOT NULL REFERENCES people.parties (id) ON DELETE CASCADE,
  kind       text        NOT NULL CHECK (kind IN ('phone', 'email')),
  value      text        NOT NULL,
  whatsapp   boolean     NOT NULL DEFAULT false,
  label      text,       -- phone type or e-mail priority, as the provider gave it
  source     text        NOT NULL CHECK (source IN ('dossier', 'lead')),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (party_id, kind, value)
);
-- "Whose phone / e-mail is this?" from our own records.
CREATE INDEX contacts_kind_value_idx ON people.contacts (kind, value);

CREATE TABLE people.addresses (
  party_id    bigint NOT NULL REFERENCES people.parties (id) ON DELETE CASCADE,
  address_key text   NOT NULL, -- normalised street|number|complement|zip: the same address once
  street      text,
  number      text,
  complement  text,
  district    text,
  city        text,
  state       text,
  zip         text,
  PRIMARY KEY (party_id, address_key)
);

CREATE TABLE people.companies (
  party_id bigint  NOT NULL REFERENCES people.parties (id) ON DELETE CASCADE,
  cnpj     char(14) NOT NULL,
  relation text,
  PRIMARY KEY (party_id, cnpj)
);

-- The latest enrichment of a party by a provider: when, how complete, and the whitelisted,
-- normalised dossier. It doubles as the dossier cache (DOSSIER_CACHE_HOURS).
CREATE TABLE people.enrichments (
  party_id   bigint      NOT NULL REFERENCES people.parties (id) ON DELETE CASCADE,
  provider   text        NOT NULL,
  fetched_at timestamptz NOT NULL,
  quality    text        NOT NULL CHECK (quality IN ('full', 'partial')),
  dossier    jsonb       NOT NULL,
  PRIMARY KEY (party_id, provider)
);

-- Which leads a party was found for: what to scrub when the person is erased.
CREATE TABLE people.party_leads (
  party_id   bigint      NOT NULL REFERENCES people.parties (id) ON DELETE CASCADE,
  lead_id    text        NOT NULL,
  found_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (party_id, lead_id)
);
CREATE INDEX party_leads_lead_id_idx ON people.party_leads (lead_id);

-- Down Migration
DROP SCHEMA people CASCADE;
