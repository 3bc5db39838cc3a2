import type pg from 'pg';
import type { Dossier } from '../people/types.ts';
import type { Fence } from '../queue/claims.ts';

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
 * `held`: the events whose runs still hold them (claimed by this worker at this attempt), locked
 * FOR SHARE for the statement's transaction. A people write joins it, so it lands only while its
 * run holds its event: an erasure ends the person's events (revoking their claims) under FOR
 * UPDATE, so a write it races either commits before and is erased with the rest, or waits and then
 * finds its claim gone and writes nothing. Nothing a run gathered before an erasure comes back.
 */
const HELD = (fences: string, ids: string) => `held AS (
    SELECT e.id FROM webhook_events e
    WHERE e.id = ANY(${ids})
      AND EXISTS (SELECT 1 FROM ${fences} f WHERE f.event_id = e.id AND f.worker = e.claimed_by AND f.attempt = e.attempts)
    FOR SHARE OF e
  )`;

/** One run's fence as the three arrays HELD's callers unnest. */
function fenceArrays(fences: readonly Fence[]): [string[], string[], number[]] {
  return [fences.map((f) => f.eventId), fences.map((f) => f.workerId), fences.map((f) => f.attempt)];
}

/** How a CPF was found for a lead: its own field, its phone, its e-mail. */
export type FoundBy = 'lead' | 'phone' | 'email';

export interface PartiesAsk {
  readonly fence: Fence;
  readonly leadId: string;
  /** Each CPF found, how, and its suppression digest (none: not to be checked). */
  readonly found: ReadonlyArray<{ readonly cpf: string; readonly by: FoundBy; readonly digest?: Buffer }>;
}

/** Per run asking: its parties by CPF; `suppressed` (nothing created); null once not its event. */
export type PartiesFound = Map<string, number> | 'suppressed' | null;

/**
 * The party of each CPF found for a lead, created when new (a CPF becomes its party's id wherever
 * it must be remembered: step outputs keep the id, never the CPF), and linked to the lead with how
 * it was found. Nothing is created or linked for a run that no longer holds its event (null), nor
 * for one whose CPFs include a suppressed person's (`suppressed`). `bpchar[]`: see the CPF index.
 */
export async function partiesOfCpfs(db: pg.Pool, asks: readonly PartiesAsk[]): Promise<PartiesFound[]> {
  const asked = asks.flatMap((ask) => ask.found.map((found) => ({ ...found, ask })));
  if (asked.length === 0) return asks.map(() => new Map());
  const [events, workers, attempts] = fenceArrays(asked.map(({ ask }) => ask.fence));
  const { rows } = await db.query<{
    id: string | null;
    cpf: string | null;
    held: string[] | null;
    blocked: string[] | null;
  }>({
    name: 'parties-of-cpfs',
    text: `WITH asked AS (
             SELECT * FROM unnest($1::bpchar[], $2::uuid[], $3::text[], $4::int[], $5::text[], $6::text[], $7::bytea[])
               AS a(cpf, event_id, worker, attempt, lead_id, found_by, digest)
           ), ${HELD('asked', '$2::uuid[]')},
           blocked AS (SELECT DISTINCT a.event_id FROM asked a JOIN suppressed_identifiers s ON s.digest = a.digest),
           wanted AS (
             SELECT a.* FROM asked a JOIN held h ON h.id = a.event_id
             WHERE NOT EXISTS (SELECT 1 FROM blocked b WHERE b.event_id = a.event_id)
           ),
           created AS (
             INSERT INTO people.parties (cpf) SELECT DISTINCT cpf FROM wanted ORDER BY cpf
             ON CONFLICT (cpf) DO NOTHING RETURNING id, cpf
           ), found AS (
             SELECT id, cpf FROM created
             UNION ALL
             SELECT p.id, p.cpf FROM people.parties p WHERE p.cpf IN (SELECT cpf FROM wanted)
           ), linked AS (
             INSERT INTO people.party_leads (party_id, lead_id, found_by)
             SELECT DISTINCT ON (f.id, w.lead_id) f.id, w.lead_id, w.found_by FROM found f JOIN wanted w USING (cpf)
             ON CONFLICT (party_id, lead_id) DO UPDATE SET found_by = coalesce(people.party_leads.found_by, EXCLUDED.found_by)
           )
           SELECT f.id, f.cpf, (SELECT array_agg(id) FROM held) AS held,
                  (SELECT array_agg(event_id) FROM blocked) AS blocked
           FROM (SELECT 1) one LEFT JOIN found f ON true`,
    values: [
      asked.map((found) => found.cpf),
      events,
      workers,
      attempts,
      asked.map(({ ask }) => ask.leadId),
      asked.map((found) => found.by),
      asked.map((found) => found.digest ?? null),
    ],
  });
  const held = new Set(rows[0]?.held ?? []);
  const blocked = new Set(rows[0]?.blocked ?? []);
  const ids = new Map<string, number>();
  for (const row of rows) if (row.id !== null && row.cpf !== null) ids.set(row.cpf, Number(row.id));
  const late = [
    ...new Set(asked.filter(({ ask }) => held.has(ask.fence.eventId)).map((found) => found.cpf)),
  ].filter((cpf) => !ids.has(cpf));
  if (late.length > 0) {
    // Created a moment ago by a concurrent run, after this statement's snapshot: visible now. The
    // link waits for the person's storing (store_person links the lead too).
    const { rows: found } = await db.query<{ id: string; cpf: string }>({
      name: 'parties-by-cpf',
      text: `SELECT id, cpf FROM people.parties WHERE cpf = ANY($1::bpchar[])`,
      values: [late],
    });
    for (const row of found) ids.set(row.cpf, Number(row.id));
  }
  return asks.map((ask) => {
    if (ask.found.length === 0) return new Map();
    if (blocked.has(ask.fence.eventId)) return 'suppressed';
    if (!held.has(ask.fence.eventId)) return null;
    return new Map(ask.found.flatMap(({ cpf }) => (ids.has(cpf) ? [[cpf, ids.get(cpf)!] as const] : [])));
  });
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

/**
 * Records a fetched (already whitelisted) dossier as the party's latest enrichment, while `fence`
 * holds its event (see HELD); answers false, writing nothing, once it does not.
 */
export async function recordEnrichment(db: pg.Pool, dossier: Dossier, fence: Fence): Promise<boolean> {
  const quality =
    dossier.name && dossier.birthDate && (dossier.phones.length > 0 || dossier.emails.length > 0)
      ? 'full'
      : 'partial';
  const { rowCount } = await db.query({
    name: 'record-enrichment',
    text: `WITH fence AS (SELECT $6::uuid AS event_id, $7::text AS worker, $8::int AS attempt),
           ${HELD('fence', 'ARRAY[$6::uuid]')},
           party AS (
             INSERT INTO people.parties (cpf, name) SELECT $1, $2 WHERE EXISTS (SELECT 1 FROM held)
             ON CONFLICT (cpf) DO UPDATE SET name = coalesce(EXCLUDED.name, people.parties.name)
             RETURNING id
           )
           INSERT INTO people.enrichments (party_id, provider, fetched_at, quality, dossier)
           SELECT id, $3, now(), $4, $5 FROM party
           ON CONFLICT (party_id, provider) DO UPDATE
           SET fetched_at = EXCLUDED.fetched_at, quality = EXCLUDED.quality, dossier = EXCLUDED.dossier`,
    values: [dossier.cpf, dossier.name, WORK_API, quality, JSON.stringify(dossier), ...fenceValues(fence)],
  });
  return rowCount === 1;
}

function fenceValues(fence: Fence): [string, string, number] {
  return [fence.eventId, fence.workerId, fence.attempt];
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
 * lead, while `fence` holds its event (see HELD); answers false, writing nothing, once it does not.
 * Re-storing updates in place: contacts, addresses and companies are unique per party.
 */
export async function storePerson(
  db: pg.Pool,
  dossier: Dossier,
  link: LeadLink,
  fence: Fence,
): Promise<boolean> {
  // One statement (so one round trip and one implicit transaction): each part upserts its own
  // table from the party row the first one returns.
  const { rows } = await db.query<{ held: boolean }>({
    name: 'store-person',
    text: `
      WITH fence AS (SELECT $18::uuid AS event_id, $19::text AS worker, $20::int AS attempt),
      ${HELD('fence', 'ARRAY[$18::uuid]')},
      party AS (
        INSERT INTO people.parties (cpf, name, birth_date, sex, mother_name, marital_status, registration_status,
          income, purchasing_power, income_band, credit_score, risk_band, profession)
        SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 WHERE EXISTS (SELECT 1 FROM held)
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
      ), linked AS (
        INSERT INTO people.party_leads (party_id, lead_id) SELECT id, $17 FROM party ON CONFLICT DO NOTHING
      )
      SELECT EXISTS (SELECT 1 FROM held) AS held`,
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
      ...fenceValues(fence),
    ],
  });
  return rows[0]?.held === true;
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
