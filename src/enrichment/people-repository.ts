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
    SELECT e.id, e.claimed_by AS worker, e.attempts AS attempt FROM webhook_events e
    WHERE e.id = ANY(${ids})
      AND EXISTS (SELECT 1 FROM ${fences} f WHERE f.event_id = e.id AND f.worker = e.claimed_by AND f.attempt = e.attempts)
    FOR SHARE OF e
  )`;

/** A run's fence as the columns of a batch's rows (see WANTED). */
function fenceColumns(fence: Fence) {
  return { event_id: fence.eventId, worker: fence.workerId, attempt: fence.attempt };
}

/**
 * `wanted`: the rows of `asked` whose own run holds its event. Matched on the whole fence, not the
 * event alone: a stalled run and the event's next attempt may share a batch.
 */
const WANTED = `wanted AS (
    SELECT a.* FROM asked a JOIN held h ON h.id = a.event_id AND h.worker = a.worker AND h.attempt = a.attempt
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
             SELECT a.* FROM asked a
             JOIN held h ON h.id = a.event_id AND h.worker = a.worker AND h.attempt = a.attempt
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
           SELECT f.id, f.cpf, (SELECT array_agg(id || ' ' || worker || ' ' || attempt) FROM held) AS held,
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
  // Held by the whole fence: a stalled run and the event's next attempt may share a batch.
  const heldFences = new Set(rows[0]?.held ?? []);
  const holds = ({ fence }: PartiesAsk) =>
    heldFences.has(`${fence.eventId} ${fence.workerId} ${fence.attempt}`);
  const blocked = new Set(rows[0]?.blocked ?? []);
  const ids = new Map<string, number>();
  for (const row of rows) if (row.id !== null && row.cpf !== null) ids.set(row.cpf, Number(row.id));
  const late = [...new Set(asked.filter(({ ask }) => holds(ask)).map((found) => found.cpf))].filter(
    (cpf) => !ids.has(cpf),
  );
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
    if (!holds(ask)) return null;
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

/** A fetched (already whitelisted) dossier to record, under the fence of the run that fetched it. */
export interface EnrichmentRecord {
  readonly dossier: Dossier;
  readonly fence: Fence;
}

/**
 * Records fetched dossiers as their parties' latest enrichments, in one statement for all of
 * them (see `createBatcher`), each while its run holds its event (see HELD): answers, per record,
 * whether it was written (false: nothing of it was). Runs sharing one fetch record the same CPF at
 * once: the party is written once, with the last name given (as one after the other would).
 */
export async function recordEnrichments(
  db: pg.Pool,
  records: readonly EnrichmentRecord[],
): Promise<boolean[]> {
  const asked = records.map(({ dossier, fence }, n) => ({
    n,
    ...fenceColumns(fence),
    cpf: dossier.cpf,
    name: dossier.name,
    quality:
      dossier.name && dossier.birthDate && (dossier.phones.length > 0 || dossier.emails.length > 0)
        ? 'full'
        : 'partial',
    dossier,
  }));
  const { rows } = await db.query<{ written: number[] }>({
    name: 'record-enrichments',
    text: `WITH asked AS (
             SELECT * FROM json_to_recordset($1::json)
               AS a(n int, event_id uuid, worker text, attempt int, cpf bpchar, name text, quality text, dossier jsonb)
           ), ${HELD('asked', '$2::uuid[]')}, ${WANTED},
           party AS (
             INSERT INTO people.parties (cpf, name)
             SELECT cpf, (array_agg(name ORDER BY n DESC) FILTER (WHERE name IS NOT NULL))[1]
             FROM wanted GROUP BY cpf ORDER BY cpf
             ON CONFLICT (cpf) DO UPDATE SET name = coalesce(EXCLUDED.name, people.parties.name)
             RETURNING id, cpf
           ), recorded AS (
             INSERT INTO people.enrichments (party_id, provider, fetched_at, quality, dossier)
             SELECT DISTINCT ON (p.id) p.id, $3, now(), w.quality, w.dossier
             FROM wanted w JOIN party p USING (cpf) ORDER BY p.id, w.n DESC
             ON CONFLICT (party_id, provider) DO UPDATE
             SET fetched_at = EXCLUDED.fetched_at, quality = EXCLUDED.quality, dossier = EXCLUDED.dossier
           )
           SELECT coalesce(array_agg(n), '{}') AS written FROM wanted`,
    values: [JSON.stringify(asked), records.map((record) => record.fence.eventId), WORK_API],
  });
  const written = new Set(rows[0]?.written ?? []);
  return records.map((_, n) => written.has(n));
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

/** A person to store for a lead, under the fence of the lead's run. */
export interface PersonStore {
  readonly dossier: Dossier;
  readonly link: LeadLink;
  readonly fence: Fence;
}

/**
 * Stores people's whitelisted attributes, contacts, addresses and companies, and links their
 * leads, in one statement for all of them (see `createBatcher`), each while its run holds its
 * event (see HELD): answers, per store, whether it was written (false: nothing of it was).
 * Re-storing updates in place: contacts, addresses and companies are unique per party. Stores of
 * one CPF in a batch are merged as if written one after the other (an upsert cannot touch a row
 * twice in a statement): the last one's attributes, the union of their contacts, every lead linked.
 */
export async function storePeople(db: pg.Pool, stores: readonly PersonStore[]): Promise<boolean[]> {
  const asked = stores.map(({ dossier, link, fence }, n) => ({
    n,
    ...fenceColumns(fence),
    lead_id: link.leadId,
    cpf: dossier.cpf,
    name: dossier.name,
    birth_date: dossier.birthDate,
    sex: dossier.sex,
    mother_name: dossier.motherName,
    marital_status: dossier.maritalStatus,
    registration_status: dossier.registrationStatus,
    income: dossier.income,
    purchasing_power: dossier.purchasingPower,
    income_band: dossier.incomeBand,
    credit_score: dossier.creditScore,
    risk_band: dossier.riskBand,
    profession: dossier.profession,
    contacts: partyContacts(dossier, link),
    addresses: dossier.addresses,
    companies: dossier.companies,
  }));
  // Each part upserts its own table from the party rows the first one returns; parties are taken
  // in CPF order, as every statement that writes several does, so that two never deadlock.
  const { rows } = await db.query<{ written: number[] }>({
    name: 'store-people',
    text: `
      WITH asked AS (
        SELECT * FROM json_to_recordset($1::json) AS a(n int, event_id uuid, worker text, attempt int, lead_id text,
          cpf bpchar, name text, birth_date date, sex text, mother_name text, marital_status text,
          registration_status text, income numeric, purchasing_power text, income_band text, credit_score integer,
          risk_band text, profession text, contacts json, addresses json, companies json)
      ), ${HELD('asked', '$2::uuid[]')}, ${WANTED},
      party AS (
        INSERT INTO people.parties (cpf, name, birth_date, sex, mother_name, marital_status, registration_status,
          income, purchasing_power, income_band, credit_score, risk_band, profession)
        SELECT DISTINCT ON (cpf) cpf, name, birth_date, sex, mother_name, marital_status, registration_status,
          income, purchasing_power, income_band, credit_score, risk_band, profession
        FROM wanted ORDER BY cpf, n DESC
        ON CONFLICT (cpf) DO UPDATE SET
          name = EXCLUDED.name, birth_date = EXCLUDED.birth_date, sex = EXCLUDED.sex,
          mother_name = EXCLUDED.mother_name, marital_status = EXCLUDED.marital_status,
          registration_status = EXCLUDED.registration_status, income = EXCLUDED.income,
          purchasing_power = EXCLUDED.purchasing_power, income_band = EXCLUDED.income_band,
          credit_score = EXCLUDED.credit_score, risk_band = EXCLUDED.risk_band,
          profession = EXCLUDED.profession, updated_at = now()
        RETURNING id, cpf
      ), contacts AS (
        INSERT INTO people.contacts (party_id, kind, value, whatsapp, label, source)
        SELECT p.id, x.kind, x.value, bool_or(x.whatsapp),
               (array_agg(x.label ORDER BY w.n DESC) FILTER (WHERE x.label IS NOT NULL))[1],
               CASE WHEN bool_or(x.source = 'lead') THEN 'lead' ELSE 'dossier' END
        FROM wanted w JOIN party p USING (cpf),
             json_to_recordset(w.contacts) AS x(kind text, value text, whatsapp boolean, label text, source text)
        GROUP BY p.id, x.kind, x.value
        ON CONFLICT (party_id, kind, value) DO UPDATE SET
          whatsapp = people.contacts.whatsapp OR EXCLUDED.whatsapp,
          label = coalesce(EXCLUDED.label, people.contacts.label),
          -- a contact the lead itself gave stays marked as such
          source = CASE WHEN people.contacts.source = 'lead' THEN 'lead' ELSE EXCLUDED.source END,
          updated_at = now()
      ), addresses AS (
        INSERT INTO people.addresses (party_id, address_key, street, number, complement, district, city, state, zip)
        SELECT DISTINCT ON (p.id, k.key) p.id, k.key, x.street, x.number, x.complement, x.district, x.city,
               x.state, x.zip
        FROM wanted w JOIN party p USING (cpf),
             json_to_recordset(w.addresses)
               AS x(street text, number text, complement text, district text, city text, state text, zip text),
             LATERAL (SELECT lower(concat_ws('|', x.street, x.number, x.complement, x.zip)) AS key) k
        ORDER BY p.id, k.key, w.n DESC
        ON CONFLICT (party_id, address_key) DO UPDATE SET
          district = EXCLUDED.district, city = EXCLUDED.city, state = EXCLUDED.state
      ), companies AS (
        INSERT INTO people.companies (party_id, cnpj, relation)
        SELECT DISTINCT ON (p.id, x.cnpj) p.id, x.cnpj, x.relation
        FROM wanted w JOIN party p USING (cpf), json_to_recordset(w.companies) AS x(cnpj text, relation text)
        ORDER BY p.id, x.cnpj, w.n DESC
        ON CONFLICT (party_id, cnpj) DO UPDATE SET relation = EXCLUDED.relation
      ), linked AS (
        INSERT INTO people.party_leads (party_id, lead_id)
        SELECT DISTINCT p.id, w.lead_id FROM wanted w JOIN party p USING (cpf) ON CONFLICT DO NOTHING
      )
      SELECT coalesce(array_agg(n), '{}') AS written FROM wanted`,
    values: [JSON.stringify(asked), stores.map((store) => store.fence.eventId)],
  });
  const written = new Set(rows[0]?.written ?? []);
  return stores.map((_, n) => written.has(n));
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
