import type pg from 'pg';
import { normaliseCpf } from '../people/cpf.ts';
import type { DiretrixClient, DiretrixMatch } from '../providers/diretrix/client.ts';
import type { WorkApiClient } from '../providers/workapi/client.ts';
import type { Step } from '../workflow/runner.ts';
import type { LeadContacts } from './contacts-step.ts';
import { createBatcher } from '../db/batcher.ts';
import { cpfsByContacts, type KnownContacts } from './people-repository.ts';

/** Whose CPF the lead leads to, and by which route. */
export interface FoundCpfs {
  /** From the lead's own fields: the person, whatever its contacts say. */
  readonly leadCpf: string | null;
  readonly byPhone: string | null;
  readonly byEmail: string | null;
  /** How each was found: `lead`, `records`, `diretrix`, `workapi_phone`. */
  readonly sources: Readonly<Record<string, string>>;
}

export interface FindCpfDeps {
  readonly db: pg.Pool;
  readonly diretrix: DiretrixClient;
  readonly workApi: WorkApiClient;
  readonly contactMatchMs: number;
  readonly noteOnNoMatch: boolean;
}

const firstValid = (matches: readonly DiretrixMatch[]): string | null =>
  matches.map((match) => normaliseCpf(match.cpf)).find((cpf) => cpf !== undefined) ?? null;

/**
 * Finds the customer's CPF: the lead's own fields first, then our records for its phone and
 * e-mail (while fresh), then Diretrix by phone and by e-mail in parallel, then the Work API's
 * phone module. No CPF at all ends the run as `no_match` (unless a no-match note is wanted).
 */
export function findCpfStep(deps: FindCpfDeps): Step {
  // Runs asking at the same moment share one query.
  const knownCpfs = createBatcher<KnownContacts, KnownContacts>((leads) =>
    cpfsByContacts(deps.db, leads, deps.contactMatchMs),
  );
  return {
    name: 'find_cpf',
    async run({ outputs, signal }) {
      const contacts = outputs.normalise_contacts as LeadContacts;
      const sources: Record<string, string> = {};
      const leadCpf = contacts.leadCpfs[0] ?? null;
      if (leadCpf) {
        sources.lead = 'lead';
        return { output: { leadCpf, byPhone: null, byEmail: null, sources } satisfies FoundCpfs };
      }

      const known =
        contacts.phone || contacts.email
          ? await knownCpfs({ phone: contacts.phone, email: contacts.email })
          : { phone: null, email: null };
      let byPhone = known.phone;
      let byEmail = known.email;
      if (byPhone) sources.phone = 'records';
      if (byEmail) sources.email = 'records';

      const [phoneMatches, emailMatches] = await Promise.all([
        contacts.phone && !byPhone ? deps.diretrix.findByPhone(contacts.phone, signal) : [],
        contacts.email && !byEmail ? deps.diretrix.findByEmail(contacts.email, signal) : [],
      ]);
      if (!byPhone && (byPhone = firstValid(phoneMatches))) sources.phone = 'diretrix';
      if (!byEmail && (byEmail = firstValid(emailMatches))) sources.email = 'diretrix';

      if (contacts.phone && !byPhone) {
        const cpfs = await deps.workApi.findByPhone(contacts.phone, signal);
        byPhone = cpfs.map((cpf) => normaliseCpf(cpf)).find((cpf) => cpf !== undefined) ?? null;
        if (byPhone) sources.phone = 'workapi_phone';
      }

      const found: FoundCpfs = { leadCpf: null, byPhone, byEmail, sources };
      if (!byPhone && !byEmail && !deps.noteOnNoMatch) return { output: found, outcome: 'no_match' };
      return { output: found };
    },
  };
}

/** The distinct CPFs to enrich: the lead's own, or the phone's and the e-mail's people (at most two). */
export function cpfsToEnrich(found: FoundCpfs): string[] {
  if (found.leadCpf) return [found.leadCpf];
  return [...new Set([found.byPhone, found.byEmail].filter((cpf): cpf is string => cpf !== null))];
}
