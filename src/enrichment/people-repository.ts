import type pg from 'pg';
import { withTransaction } from '../db/transaction.ts';
import type { Dossier } from '../people/types.ts';

/** Where the dossier came from (one row per party and provider in people.enrichments). */
export const WORK_API = 'workapi';

/** A dossier fetched no longer ago than `maxAgeMs`: the cache that spares a paid lookup. */
export async function freshDossier(db: pg.Pool, cpf: string, maxAgeMs: number): Promise<Dossier | null> {
  const { rows } = await db.query<{ dossier: Dossier }>({
    name: 'fresh-dossier',
    text: `SELECT e.dossier FROM people.enrichments e JOIN people.parties p ON p.id = e.party_id
           WHERE p.cpf = $1 AND e.provider = $2 AND e.fetched_at > now() - $3 * interval '1 millisecond'`,
    values: [cpf, WORK_API, maxAgeMs],
  });
  return rows[0]?.dossier ?? null;
}

/** The stored dossiers of these parties, by party id. */
export async function dossiersByParty(
  db: pg.Pool,
  partyIds: readonly number[],
): Promise<Map<number, Dossier>> {
  const { rows } = await db.query<{ party_id: string; dossier: Dossier }>({
    name: 'dossiers-by-party',
    text: `SELECT party_id, dossier FROM people.enrichments WHERE party_id = ANY($1::bigint[]) AND provider = $2`,
    values: [partyIds, WORK_API],
  });
  return new Map(rows.map((row) => [Number(row.party_id), row.dossier]));
}

/**
 * The party of each CPF, created when new (a CPF becomes its party's id wherever it must be
 * remembered: step outputs keep the id, never the CPF). `bpchar[]`: see the CPF index.
 */
export async function partiesOfCpfs(db: pg.Pool, cpfs: readonly string[]): Promise<Map<string, number>> {
  const unique = [...new Set(cpfs)];
  const ids = new Map<string, number>();
  if (unique.length === 0) return ids;
  const { rows } = await db.query<{ id: string; cpf: string }>({
    name: 'parties-of-cpfs',
    text: `WITH given AS (SELECT DISTINCT unnest($1::bpchar[]) AS cpf),
           created AS (
             INSERT INTO people.parties (cpf) SELECT cpf FROM given ORDER BY cpf
             ON CONFLICT (cpf) DO NOTHING RETURNING id, cpf
           )
           SELECT id, cpf FROM created
           UNION ALL
           SELECT id, cpf FROM people.parties WHERE cpf = ANY($1::bpchar[])`,
    values: [unique],
  });
  for (const row of rows) ids.set(row.cpf, Number(row.id));
  if (ids.size < unique.length) {
    // Created a moment ago by a concurrent run, after this statement's snapshot: visible now.
    const { rows: late } = await db.query<{ id: string; cpf: string }>({
      name: 'parties-by-cpf',
      text: `SELECT id, cpf FROM people.parties WHERE cpf = ANY($1::bpchar[])`,
      values: [unique.filter((cpf) => !ids.has(cpf))],
    });
    for (const row of late) ids.set(row.cpf, Number(row.id));
  }
  return ids;
}

/** The CPF of each of these parties (those that still exist: an erased one is missing). */
export async function cpfsOfParties(db: pg.Pool, partyIds: readonly number[]): Promise<Map<number, string>> {
  const { rows } = await db.query<{ id: string; cpf: string }>({
    name: 'cpfs-of-parties',
    text: `SELECT id, cpf FROM people.parties WHERE id = ANY($1::bigint[])`,
    values: [partyIds],
  });
  return new Map(rows.map((row) => [Number(row.id), row.cpf]));
}

/** Records a fetched (already whitelisted) dossier as the party's latest enrichment. */
export async function recordEnrichment(db: pg.Pool, dossier: Dossier): Promise<void> {
  const quality =
    dossier.name && dossier.birthDate && (dossier.phones.length > 0 || dossier.emails.length > 0)
      ? 'full'
      : 'partial';
  await db.query({
    name: 'record-enrichment',
    text: `WITH party AS (
             INSERT INTO people.parties (cpf, name) VALUES ($1, $2)
             ON CONFLICT (cpf) DO UPDATE SET name = coalesce(EXCLUDED.name, people.parties.name)
             RETURNING id
           )
           INSERT INTO people.enrichments (party_id, provider, fetched_at, quality, dossier)
           SELECT id, $3, now(), $4, $5 FROM party
           ON CONFLICT (party_id, provider) DO UPDATE
           SET fetched_at = EXCLUDED.fetched_at, quality = EXCLUDED.quality, dossier = EXCLUDED.dossier`,
    values: [dossier.cpf, dossier.name, WORK_API, quality, JSON.stringify(dossier)],
  });
}

export interface KnownContacts {
  readonly phone: string | null;
  readonly email: string | null;
}

/**
 * For each lead's phone and e-mail, the CPF our own records give it (one query for all the leads
 * asked about at once), from an enrichment no older than `maxAgeMs`; a contact a lead itself gave
 * wins over a dossier's.
 */
export async function cpfsByContacts(
  db: pg.Pool,
  leads: readonly KnownContacts[],
  maxAgeMs: number,
): Promise<Array<{ phone: string | null; email: string | null }>> {
  const found = leads.map(() => ({ phone: null as string | null, email: null as string | null }));
  const { rows } = await db.query<{ n: string; kind: 'phone' | 'email'; cpf: string }>({
    name: 'cpfs-by-contacts',
    text: `WITH wanted AS (
             SELECT x.n, k.kind, k.value
             FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS x(phone, email, n),
                  LATERAL (VALUES ('phone', x.phone), ('email', x.email)) AS k(kind, value)
             WHERE k.value IS NOT NULL
           )
           SELECT DISTINCT ON (w.n, w.kind) w.n, w.kind, p.cpf
           FROM wanted w
           JOIN people.contacts c ON c.kind = w.kind AND c.value = w.value
           JOIN people.parties p ON p.id = c.party_id
           JOIN people.enrichments e ON e.party_id = p.id
           WHERE e.fetched_at > now() - $3 * interval '1 millisecond'
           ORDER BY w.n, w.kind, (c.source = 'lead') DESC, e.fetched_at DESC`,
    values: [leads.map((lead) => lead.phone), leads.map((lead) => lead.email), maxAgeMs],
  });
  for (const row of rows) found[Number(row.n) - 1]![row.kind] = row.cpf;
  return found;
}

export interface LeadLink {
  readonly leadId: string;
  /** The lead's own contacts that led to this person. */
  readonly phone?: string;
  readonly email?: string;
}

/**
 * Stores a person's whitelisted attributes, contacts, addresses and companies, and links the
 * lead. Re-storing updates in place: contacts, addresses and companies are unique per party.
 */
export async function storePerson(db: pg.Pool, dossier: Dossier, link: LeadLink): Promise<void> {
  // One statement (so one round trip and one implicit transaction): each part upserts its own
  // table from the party row the first one returns.
  await db.query({
    name: 'store-person',
    text: `
      WITH party AS (
        INSERT INTO people.parties (cpf, name, birth_date, sex, mother_name, marital_status, registration_status,
          income, purchasing_power, income_band, credit_score, risk_band, profession)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
        ON CONFLICT (cpf) DO UPDATE SET
          name = EXCLUDED.name, birth_date = EXCLUDED.birth_date, sex = EXCLUDED.sex,
          mother_name = EXCLUDED.mother_name, marital_status = EXCLUDED.marital_status,
          registration_status = EXCLUDED.registration_status, income = EXCLUDED.income,
          purchasing_power = EXCLUDED.purchasing_power, income_band = EXCLUDED.income_band,
          credit_score = EXCLUDED.credit_score, risk_band = EXCLUDED.risk_band,
          profession = EXCLUDED.profession, updated_at = now()
        RETURNING id
      ), contacts AS (
        INSERT INTO people.contacts (party_id, kind, value, whatsapp, label, source)
        SELECT party.id, x.kind, x.value, x.whatsapp, x.label, x.source
        FROM party, json_to_recordset($14::json) AS x(kind text, value text, whatsapp boolean, label text, source text)
        ON CONFLICT (party_id, kind, value) DO UPDATE SET
          whatsapp = people.contacts.whatsapp OR EXCLUDED.whatsapp,
          label = coalesce(EXCLUDED.label, people.contacts.label),
          -- a contact the lead itself gave stays marked as such
          source = CASE WHEN people.contacts.source = 'lead' THEN 'lead' ELSE EXCLUDED.source END,
          updated_at = now()
      ), addresses AS (
        INSERT INTO people.addresses (party_id, address_key, street, number, complement, district, city, state, zip)
        SELECT DISTINCT ON (1, 2) party.id, lower(concat_ws('|', x.street, x.number, x.complement, x.zip)), x.street,
               x.number, x.complement, x.district, x.city, x.state, x.zip
        FROM party, json_to_recordset($15::json)
          AS x(street text, number text, complement text, district text, city text, state text, zip text)
        ON CONFLICT (party_id, address_key) DO UPDATE SET
          district = EXCLUDED.district, city = EXCLUDED.city, state = EXCLUDED.state
      ), companies AS (
        INSERT INTO people.companies (party_id, cnpj, relation)
        SELECT DISTINCT ON (x.cnpj) party.id, x.cnpj, x.relation
        FROM party, json_to_recordset($16::json) AS x(cnpj text, relation text)
        ON CONFLICT (party_id, cnpj) DO UPDATE SET relation = EXCLUDED.relation
      )
      INSERT INTO people.party_leads (party_id, lead_id) SELECT id, $17 FROM party ON CONFLICT DO NOTHING`,
    values: [
      dossier.cpf,
      dossier.name,
      dossier.birthDate,
      dossier.sex,
      dossier.motherName,
      dossier.maritalStatus,
      dossier.registrationStatus,
      dossier.income,
      dossier.purchasingPower,
      dossier.incomeBand,
      dossier.creditScore,
      dossier.riskBand,
      dossier.profession,
      JSON.stringify(partyContacts(dossier, link)),
      JSON.stringify(dossier.addresses),
      JSON.stringify(dossier.companies),
      link.leadId,
    ],
  });
}

interface ContactRow {
  readonly kind: 'phone' | 'email';
  readonly value: string;
  readonly whatsapp: boolean;
  readonly label: string | null;
  readonly source: 'dossier' | 'lead';
}

/** The dossier's phones and e-mails plus the lead's own, once each (the lead's wins as source). */
function partyContacts(dossier: Dossier, link: LeadLink): ContactRow[] {
  const rows = new Map<string, ContactRow>();
  const add = (row: ContactRow) => {
    const key = `${row.kind}:${row.value}`;
    const known = rows.get(key);
    rows.set(
      key,
      known
        ? {
            ...known,
            whatsapp: known.whatsapp || row.whatsapp,
            source: row.source === 'lead' ? 'lead' : known.source,
          }
        : row,
    );
  };
  for (const phone of dossier.phones)
    add({
      kind: 'phone',
      value: phone.number,
      whatsapp: phone.whatsapp,
      label: phone.type,
      source: 'dossier',
    });
  for (const email of dossier.emails)
    add({ kind: 'email', value: email.email, whatsapp: false, label: email.priority, source: 'dossier' });
  if (link.phone) add({ kind: 'phone', value: link.phone, whatsapp: false, label: null, source: 'lead' });
  if (link.email) add({ kind: 'email', value: link.email, whatsapp: false, label: null, source: 'lead' });
  return [...rows.values()];
}

export type ErasureKey = { readonly cpf: string } | { readonly phone: string } | { readonly email: string };

export interface Erasure {
  readonly parties: number;
  readonly leads: number;
  readonly events: number;
}

/**
 * Erases a data subject: every party with that CPF, phone or e-mail, with its contacts,
 * addresses, companies and enrichments; and the raw payloads, step outputs and kept rejects of
 * the leads they were found for, or whose payload names the phone or e-mail. The event rows
 * themselves stay (ids, times, statuses), so operators keep their history.
 */
export async function erasePerson(db: pg.Pool, key: ErasureKey): Promise<Erasure> {
  return withTransaction(db, async (client) => {
    const { rows: parties } = await client.query<{ id: string }>(
      'cpf' in key
        ? { text: 'SELECT id FROM people.parties WHERE cpf = $1', values: [key.cpf] }
        : {
            text: 'SELECT DISTINCT party_id AS id FROM people.contacts WHERE kind = $1 AND value = $2',
            values: ['phone' in key ? 'phone' : 'email', 'phone' in key ? key.phone : key.email],
          },
    );
    const partyIds = parties.map((party) => party.id);
    const { rows: links } = await client.query<{ lead_id: string }>(
      'SELECT DISTINCT lead_id FROM people.party_leads WHERE party_id = ANY($1::bigint[])',
      [partyIds],
    );
    const leadIds = links.map((link) => link.lead_id);
    // Payloads that name the contact, even for leads never enriched.
    const needle = 'cpf' in key ? key.cpf : 'phone' in key ? key.phone : key.email.toLowerCase();
    const { rows: events } = await client.query<{ id: string; lead_id: string }>(
      `SELECT id, lead_id FROM webhook_events
       WHERE lead_id = ANY($1::text[])
          OR ($3 AND lower(payload_raw::text) LIKE '%' || $2 || '%')
          OR (NOT $3 AND regexp_replace(payload_raw::text, '\\D', '', 'g') LIKE '%' || $2 || '%')`,
      [leadIds, needle, 'email' in key],
    );
    const allLeads = [...new Set([...leadIds, ...events.map((event) => event.lead_id)])];
    const eventIds = events.map((event) => event.id);
    await client.query(
      `UPDATE webhook_events SET payload_raw = '{"erased": true}' WHERE id = ANY($1::uuid[])`,
      [eventIds],
    );
    await client.query(
      `UPDATE event_steps SET output = NULL, error_message = NULL WHERE event_id = ANY($1::uuid[])`,
      [eventIds],
    );
    await client.query(`DELETE FROM rejected_webhooks WHERE lead_id = ANY($1::text[])`, [allLeads]);
    await client.query('DELETE FROM people.parties WHERE id = ANY($1::bigint[])', [partyIds]);
    return { parties: partyIds.length, leads: allLeads.length, events: eventIds.length };
  });
}
