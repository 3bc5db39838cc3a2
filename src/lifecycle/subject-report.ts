/**
 * A data subject's access report (LGPD art. 18, II): everything the service holds on the person
 * an identifier names, and where each piece came from. Found as erasure finds them (see
 * `erase`), so the report shows exactly what an erasure would remove.
 */
import type pg from 'pg';
import { digestsOf } from './suppression.ts';
import { leadsNaming, rejectedNaming, subjectOf } from './erasure.ts';
import type { IdentifierKind, Identifiers } from '../people/identifiers.ts';

export interface SubjectReport {
  readonly generated_at: string;
  readonly subject: { readonly kind: IdentifierKind; readonly value: string };
  readonly sources: Readonly<Record<string, string>>;
  readonly people: readonly unknown[];
  readonly events: readonly unknown[];
  readonly rejected_inputs: readonly unknown[];
  readonly notes: readonly unknown[];
  /** Whether the identifier is on the suppression list; null when no key is configured. */
  readonly suppressed: boolean | null;
}

/** Where each part of the report comes from, in the words of the report's reader. */
const SOURCES = {
  people:
    'Work API dossier fetched by CPF to enrich a lead (whitelisted fields only); contacts marked "lead" were given on the lead in C2S',
  events:
    'C2S webhook deliveries (or the reconciliation of missed ones) about the leads that name or led to the person',
  rejected_inputs:
    'C2S webhook deliveries refused by validation, kept for diagnosis for the retention period',
  notes:
    'enrichment notes posted on the leads in C2S (C2S keeps their text; `body` is set only for a note a dry run kept instead of posting)',
};

export async function subjectReport(
  db: pg.Pool,
  kind: IdentifierKind,
  given: Identifiers,
  suppressKey: string | undefined,
): Promise<SubjectReport> {
  const client = await db.connect();
  try {
    // One snapshot: the parts agree with each other.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    // As erasure finds them: leads naming the person, then who was found for them through it.
    const named = await leadsNaming(client, given);
    const subject = await subjectOf(client, given, named);
    for (const [lead, contacts] of await leadsNaming(client, subject.identity)) named.set(lead, contacts);
    const leads = [...new Set([...subject.linkedLeads, ...named.keys()])];
    const { rows: people } = await client.query(
      `SELECT p.cpf, p.name, p.birth_date::text, p.sex, p.mother_name, p.marital_status, p.registration_status,
              p.income::float8 AS income, p.purchasing_power, p.income_band, p.credit_score, p.risk_band,
              p.profession, p.created_at, p.updated_at,
              coalesce((SELECT jsonb_agg(jsonb_build_object('kind', c.kind, 'value', c.value, 'whatsapp', c.whatsapp,
                          'label', c.label, 'source', c.source, 'updated_at', c.updated_at) ORDER BY c.kind, c.value)
                        FROM people.contacts c WHERE c.party_id = p.id), '[]') AS contacts,
              coalesce((SELECT jsonb_agg(to_jsonb(a) - 'party_id' - 'address_key' ORDER BY a.address_key)
                        FROM people.addresses a WHERE a.party_id = p.id), '[]') AS addresses,
              coalesce((SELECT jsonb_agg(to_jsonb(c) - 'party_id' ORDER BY c.cnpj)
                        FROM people.companies c WHERE c.party_id = p.id), '[]') AS companies,
              coalesce((SELECT jsonb_agg(jsonb_build_object('provider', e.provider, 'fetched_at', e.fetched_at,
                          'quality', e.quality, 'dossier', e.dossier) ORDER BY e.provider)
                        FROM people.enrichments e WHERE e.party_id = p.id), '[]') AS dossiers,
              coalesce((SELECT jsonb_agg(jsonb_build_object('lead_id', l.lead_id, 'found_at', l.found_at) ORDER BY l.found_at)
                        FROM people.party_leads l WHERE l.party_id = p.id), '[]') AS leads
       FROM people.parties p WHERE p.id = ANY($1::bigint[]) ORDER BY p.id`,
      [subject.partyIds],
    );
    const { rows: events } = await client.query(
      `SELECT id, lead_id, hook_action, updated_at, received_at, status, outcome, processed_at,
              payload_raw AS payload, purged_at AS payload_removed_at
       FROM webhook_events WHERE lead_id = ANY($1::text[]) ORDER BY lead_id, updated_at`,
      [leads],
    );
    const rejected = (await rejectedNaming(client, subject.identity, leads)).map(
      ({ id: _id, ...row }) => row,
    );
    const { rows: notes } = await client.query(
      `SELECT lead_id, ref, state, sent_at, body FROM notes WHERE lead_id = ANY($1::text[]) ORDER BY lead_id, created_at`,
      [leads],
    );
    let suppressed: boolean | null = null;
    if (suppressKey !== undefined) {
      const { rows } = await client.query(
        'SELECT 1 FROM suppressed_identifiers WHERE digest = ANY($1::bytea[]) LIMIT 1',
        [digestsOf(suppressKey, given)],
      );
      suppressed = rows.length > 0;
    }
    await client.query('COMMIT');
    const value = [...given.cpfs, ...given.phones, ...given.emails][0] ?? '';
    return {
      generated_at: new Date().toISOString(),
      subject: { kind, value },
      sources: SOURCES,
      people,
      events,
      rejected_inputs: rejected,
      notes,
      suppressed,
    };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
