/**
 * Erasure of a data subject (LGPD art. 18): everything the service holds on a person, found by
 * one CPF, phone or e-mail matched exactly after normalisation (never as a substring), goes in
 * one transaction. See `erase` for what "everything" is.
 */
import type pg from 'pg';
import { withTransaction } from '../db/transaction.ts';
import { contactsOf, leadAttributes, leadIdentifiers, lookedUp } from '../enrichment/contacts-step.ts';
import { namesAny, unionOf, type IdentifierKind, type Identifiers } from '../people/identifiers.ts';
import { stopEventsOfLeads } from '../queue/claims.ts';
import { suppress } from './suppression.ts';

export interface ErasureOptions {
  /** Put the person's identifiers on the suppression list, hashed under this key. */
  readonly suppressKey?: string | undefined;
}

/** Rows erased, by place. */
export interface ErasureCounts {
  /** People deleted, with their contacts, addresses, companies, dossiers and lead links. */
  readonly people: number;
  /** Contacts of other people that were the person's phone or e-mail (a shared phone). */
  readonly other_contacts: number;
  /** Other people's stored dossiers the person's phone or e-mail was removed from. */
  readonly other_dossiers: number;
  /** Events of the person's leads whose raw payload and step outputs were blanked. */
  readonly events: number;
  /** Of those, events still waiting or running, ended so nothing runs for the person again. */
  readonly events_stopped: number;
  /** Rejected webhook input that named the person or came for one of their leads. */
  readonly rejected_inputs: number;
  /** Texts of notes DRY_RUN kept (not posted) on the person's leads. */
  readonly dry_run_notes: number;
  /** Identifiers added to the suppression list. */
  readonly suppressed: number;
}

export interface Erasure {
  readonly counts: ErasureCounts;
  /** The person's leads: those they were found for, and those whose input named them. */
  readonly leads: number;
  /** Leads on which C2S holds a note of ours (it may name the person; only C2S can delete it). */
  readonly leadsWithNotes: readonly string[];
}

/** The person behind an identifier: their parties, and every identifier known to be theirs. */
interface Subject {
  readonly partyIds: readonly string[];
  readonly identity: Identifiers;
  /** Leads the parties were found for. */
  readonly linkedLeads: readonly string[];
}

/**
 * Erases the person named by `given` (one normalised identifier):
 * - their parties (every party with that CPF, phone or e-mail, in the contacts or the stored
 *   dossier), deleted with everything attached, the dossier cache included;
 * - the person's identity (the CPF, phones and e-mails of those parties, and the given one)
 *   removed from other people's contacts and dossiers;
 * - every event of the person's leads (the leads they were found for, and every lead whose input
 *   names any identifier of theirs, matched exactly): raw payload and step outputs blanked, and
 *   unfinished ones ended (`suppressed` with `suppressKey`, else failed `erased`), which revokes
 *   the claim of any run in flight so that none of its writes lands afterwards;
 * - rejected input naming them, or sent for one of their leads;
 * - the texts of notes DRY_RUN kept on their leads.
 * With `suppressKey` their identifiers go on the suppression list. The erasure is recorded in
 * `erasures` with its counts, never the identifier.
 */
export async function erase(
  db: pg.Pool,
  kind: IdentifierKind,
  given: Identifiers,
  options: ErasureOptions = {},
): Promise<Erasure> {
  return withTransaction(db, async (client) => {
    // Ending the leads' events revokes any claim a run holds on them; a people write of a run
    // (fenced on its claim, FOR SHARE) that got in first has committed before that returns, so
    // looking for the person again finds what it stored, and its lead. Until nothing new turns up.
    const named = new Map<string, Identifiers>();
    let subject = await subjectOf(client, given, named);
    const leads = new Set<string>();
    let scanned = '';
    let stopped = 0;
    const ending = options.suppressKey
      ? ({ kind: 'completed', outcome: 'suppressed' } as const)
      : ({
          kind: 'failed',
          code: 'erased',
          message: "erased on request: the person's data was removed",
        } as const);
    for (;;) {
      // The events' input is read again only when the identity grew (reading it is a scan).
      const key = identityKey(subject.identity);
      if (key !== scanned)
        for (const [lead, contacts] of await leadsNaming(client, subject.identity)) named.set(lead, contacts);
      scanned = key;
      const fresh = [...new Set([...subject.linkedLeads, ...named.keys()])].filter(
        (lead) => !leads.has(lead),
      );
      if (fresh.length === 0) break;
      for (const lead of fresh) leads.add(lead);
      stopped += (await stopEventsOfLeads(client, fresh, ending)).length;
      subject = await subjectOf(client, given, named);
    }
    const leadIds = [...leads];
    const events = await blankEvents(client, leadIds);
    const people = await deleteParties(client, subject.partyIds);
    const others = await removeFromOthers(client, subject.identity);
    const rejected = await deleteRejected(client, subject.identity, leadIds);
    const { rowCount: dryRunNotes } = await client.query(
      'UPDATE notes SET body = NULL WHERE lead_id = ANY($1::text[]) AND body IS NOT NULL',
      [leadIds],
    );
    const suppressed = options.suppressKey
      ? await suppress(client, options.suppressKey, subject.identity)
      : 0;
    const counts: ErasureCounts = {
      people,
      other_contacts: others.contacts,
      other_dossiers: others.dossiers,
      events,
      events_stopped: stopped,
      rejected_inputs: rejected,
      dry_run_notes: dryRunNotes ?? 0,
      suppressed,
    };
    const { rows: noted } = await client.query<{ lead_id: string }>(
      `SELECT DISTINCT lead_id FROM notes WHERE lead_id = ANY($1::text[]) AND state <> 'dry_run' ORDER BY lead_id`,
      [leadIds],
    );
    await client.query(`INSERT INTO erasures (kind, suppressed, counts) VALUES ($1, $2, $3)`, [
      kind,
      options.suppressKey !== undefined,
      JSON.stringify({ ...counts, leads: leadIds.length, leads_with_notes: noted.length }),
    ]);
    return { counts, leads: leadIds.length, leadsWithNotes: noted.map((row) => row.lead_id) };
  });
}

function identityKey(identity: Identifiers): string {
  return [...identity.cpfs, ...identity.phones, ...identity.emails].sort().join('|');
}

const PHONES_IN_DOSSIER = `SELECT x->>'number' FROM jsonb_array_elements(e.dossier->'phones') x`;
const EMAILS_IN_DOSSIER = `SELECT x->>'email' FROM jsonb_array_elements(e.dossier->'emails') x`;

/**
 * The parties an identifier names (by CPF, or by a contact stored or in their dossier), with those
 * found for a lead naming the person through the very contact that names them (`leads`: the
 * workflow's contacts of each lead naming them): a person a run has just found, of whom nothing
 * else is stored yet. Their CPFs and contacts, and the leads they were found for.
 */
export async function subjectOf(
  client: pg.ClientBase,
  given: Identifiers,
  leads: ReadonlyMap<string, Identifiers>,
): Promise<Subject> {
  const { rows: found } = await client.query<{
    lead_id: string;
    found_by: 'lead' | 'phone' | 'email';
    cpf: string;
  }>(
    `SELECT l.lead_id, l.found_by, p.cpf FROM people.party_leads l JOIN people.parties p ON p.id = l.party_id
     WHERE l.lead_id = ANY($1::text[]) AND l.found_by IS NOT NULL`,
    [[...leads.keys()]],
  );
  const cpfs = new Set(given.cpfs);
  for (const link of found) {
    const contacts = leads.get(link.lead_id)!;
    const through =
      link.found_by === 'lead' ? [] : [...(link.found_by === 'phone' ? contacts.phones : contacts.emails)];
    if (through.some((value) => given.phones.has(value) || given.emails.has(value))) cpfs.add(link.cpf);
  }
  const { rows: parties } = await client.query<{ id: string; cpf: string }>(
    `SELECT p.id, p.cpf FROM people.parties p
     WHERE p.cpf = ANY($1::bpchar[])
        OR p.id IN (SELECT party_id FROM people.contacts
                    WHERE (kind = 'phone' AND value = ANY($2::text[])) OR (kind = 'email' AND value = ANY($3::text[])))
        OR p.id IN (SELECT e.party_id FROM people.enrichments e
                    WHERE EXISTS (${PHONES_IN_DOSSIER} WHERE x->>'number' = ANY($2::text[]))
                       OR EXISTS (${EMAILS_IN_DOSSIER} WHERE x->>'email' = ANY($3::text[])))`,
    [[...cpfs], [...given.phones], [...given.emails]],
  );
  const partyIds = parties.map((party) => party.id);
  const { rows: contacts } = await client.query<{ kind: 'phone' | 'email'; value: string }>(
    `SELECT kind, value FROM people.contacts WHERE party_id = ANY($1::bigint[])
     UNION SELECT 'phone', n FROM people.enrichments e, LATERAL (${PHONES_IN_DOSSIER}) AS p(n) WHERE e.party_id = ANY($1::bigint[])
     UNION SELECT 'email', m FROM people.enrichments e, LATERAL (${EMAILS_IN_DOSSIER}) AS m(m) WHERE e.party_id = ANY($1::bigint[])`,
    [partyIds],
  );
  const { rows: links } = await client.query<{ lead_id: string }>(
    'SELECT DISTINCT lead_id FROM people.party_leads WHERE party_id = ANY($1::bigint[])',
    [partyIds],
  );
  const theirs: Identifiers = {
    cpfs: new Set(parties.map((party) => party.cpf)),
    phones: new Set(contacts.filter((c) => c.kind === 'phone' && c.value).map((c) => c.value)),
    emails: new Set(contacts.filter((c) => c.kind === 'email' && c.value).map((c) => c.value)),
  };
  return {
    partyIds,
    identity: unionOf(given, theirs),
    linkedLeads: links.map((link) => link.lead_id),
  };
}

/**
 * Texts to look for first, by plain containment, so that only a few payloads are read and matched
 * exactly: everything that names an identifier contains one of these (a superset, never less).
 * E-mails in lowercase text (by their domain alone when non-ASCII or JSON escapes could hide
 * them); phones and CPFs in the text's digits (a CPF without its leading zeros, which a number
 * loses).
 */
export function needlesOf(identity: Identifiers): { texts: string[]; digits: string[] } {
  const texts = [...identity.emails].map((email) =>
    /^[\x20-\x7e]+$/.test(email) && !/["\\]/.test(email) ? email : email.slice(email.lastIndexOf('@')),
  );
  const digits = [...identity.phones, ...[...identity.cpfs].map((cpf) => cpf.replace(/^0+/, ''))];
  return { texts: [...new Set(texts)], digits: [...new Set(digits)] };
}

/**
 * SQL that reads `column`'s text once per row (lowercase, and its digits when digit needles are
 * given) and keeps the rows holding one of the needles ($1 texts, $2 digits). About 20 µs a row
 * of 1 KB: `\D+` strips a run of non-digits at once (8 times faster than `\D`), and OFFSET 0
 * keeps the planner from inlining the texts into each needle's test (computing them again each).
 */
function holdingNeedle(table: string, column: string): string {
  return `${table} CROSS JOIN LATERAL (
      SELECT lower(${column}) AS text,
             CASE WHEN cardinality($2::text[]) > 0 THEN regexp_replace(${column}, '\\D+', '', 'g') END AS digits
      OFFSET 0) needle
    WHERE (EXISTS (SELECT 1 FROM unnest($1::text[]) n WHERE strpos(needle.text, n) > 0)
           OR EXISTS (SELECT 1 FROM unnest($2::text[]) n WHERE strpos(needle.digits, n) > 0))`;
}

/**
 * Leads with an event whose input names the person (exactly, after normalisation), each with the
 * contacts the workflow looks up for it.
 */
export async function leadsNaming(
  client: pg.ClientBase,
  identity: Identifiers,
): Promise<Map<string, Identifiers>> {
  const leads = new Map<string, Identifiers>();
  const { texts, digits } = needlesOf(identity);
  if (texts.length === 0 && digits.length === 0) return leads;
  const { rows } = await client.query<{ lead_id: string; payload_raw: unknown }>(
    `SELECT e.lead_id, e.payload_raw FROM ${holdingNeedle('webhook_events e', 'e.payload_raw::text')}
       AND e.payload_raw IS NOT NULL`,
    [texts, digits],
  );
  for (const row of rows) {
    if (!namesAny(leadIdentifiers(row.payload_raw), identity)) continue;
    const contacts = lookedUp(contactsOf('', leadAttributes(row.payload_raw)));
    const known = leads.get(row.lead_id);
    leads.set(row.lead_id, known ? unionOf(known, contacts) : contacts);
  }
  return leads;
}

/** Blanks the raw payload and step outputs of every event of these leads; answers how many events. */
async function blankEvents(client: pg.ClientBase, leadIds: readonly string[]): Promise<number> {
  if (leadIds.length === 0) return 0;
  const { rows } = await client.query<{ id: string }>(
    `UPDATE webhook_events SET payload_raw = NULL, purged_at = coalesce(purged_at, now())
     WHERE lead_id = ANY($1::text[]) AND payload_raw IS NOT NULL RETURNING id`,
    [leadIds],
  );
  await client.query(
    `UPDATE event_steps SET output = NULL, error_message = NULL
     WHERE event_id IN (SELECT id FROM webhook_events WHERE lead_id = ANY($1::text[]))
       AND (output IS NOT NULL OR error_message IS NOT NULL)`,
    [leadIds],
  );
  return rows.length;
}

async function deleteParties(client: pg.ClientBase, partyIds: readonly string[]): Promise<number> {
  if (partyIds.length === 0) return 0;
  const { rowCount } = await client.query('DELETE FROM people.parties WHERE id = ANY($1::bigint[])', [
    partyIds,
  ]);
  return rowCount ?? 0;
}

/** Removes the person's phones and e-mails from other people's contacts and stored dossiers. */
async function removeFromOthers(
  client: pg.ClientBase,
  identity: Identifiers,
): Promise<{ contacts: number; dossiers: number }> {
  const phones = [...identity.phones];
  const emails = [...identity.emails];
  if (phones.length === 0 && emails.length === 0) return { contacts: 0, dossiers: 0 };
  const { rowCount: contacts } = await client.query(
    `DELETE FROM people.contacts
     WHERE (kind = 'phone' AND value = ANY($1::text[])) OR (kind = 'email' AND value = ANY($2::text[]))`,
    [phones, emails],
  );
  const { rowCount: dossiers } = await client.query(
    `UPDATE people.enrichments e SET dossier = e.dossier
       || jsonb_build_object('phones', coalesce((SELECT jsonb_agg(x) FROM jsonb_array_elements(e.dossier->'phones') x
                                                 WHERE NOT (x->>'number' = ANY($1::text[]))), '[]'::jsonb),
                             'emails', coalesce((SELECT jsonb_agg(x) FROM jsonb_array_elements(e.dossier->'emails') x
                                                 WHERE NOT (x->>'email' = ANY($2::text[]))), '[]'::jsonb))
     WHERE EXISTS (${PHONES_IN_DOSSIER} WHERE x->>'number' = ANY($1::text[]))
        OR EXISTS (${EMAILS_IN_DOSSIER} WHERE x->>'email' = ANY($2::text[]))`,
    [phones, emails],
  );
  return { contacts: contacts ?? 0, dossiers: dossiers ?? 0 };
}

export interface RejectedInput {
  readonly id: string;
  readonly received_at: Date;
  readonly reason: string;
  readonly lead_id: string | null;
  readonly payload_excerpt: string;
}

/** Rejected input sent for the person's leads, or whose text names them (exactly). */
export async function rejectedNaming(
  client: pg.ClientBase,
  identity: Identifiers,
  leadIds: readonly string[],
): Promise<RejectedInput[]> {
  const { texts, digits } = needlesOf(identity);
  const { rows } = await client.query<RejectedInput>(
    `SELECT r.id, r.received_at, r.reason, r.lead_id, r.payload_excerpt FROM rejected_webhooks r
     WHERE r.lead_id = ANY($3::text[])
     UNION
     SELECT r.id, r.received_at, r.reason, r.lead_id, r.payload_excerpt FROM ${holdingNeedle('rejected_webhooks r', 'r.payload_excerpt')}
     ORDER BY received_at, id`,
    [texts, digits, leadIds],
  );
  const leads = new Set(leadIds);
  return rows.filter(
    (row) =>
      (row.lead_id !== null && leads.has(row.lead_id)) ||
      namesAny(leadIdentifiers(excerptValue(row.payload_excerpt)), identity),
  );
}

async function deleteRejected(
  client: pg.ClientBase,
  identity: Identifiers,
  leadIds: readonly string[],
): Promise<number> {
  const doomed = (await rejectedNaming(client, identity, leadIds)).map((row) => row.id);
  if (doomed.length === 0) return 0;
  await client.query('DELETE FROM rejected_webhooks WHERE id = ANY($1::bigint[])', [doomed]);
  return doomed.length;
}

/** A rejected input's excerpt as JSON when it parses (it may be cut short), else as text. */
export function excerptValue(excerpt: string): unknown {
  try {
    return JSON.parse(excerpt) as unknown;
  } catch {
    return excerpt;
  }
}
