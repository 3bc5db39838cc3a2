import type pg from 'pg';
import { createBatcher } from '../db/batcher.ts';
import { LeaseLostError } from '../errors.ts';
import type { Suppression } from '../lifecycle/suppression.ts';
import { normaliseCpf } from '../people/cpf.ts';
import type { DiretrixClient, DiretrixMatch } from '../providers/diretrix/client.ts';
import type { WorkApiClient } from '../providers/workapi/client.ts';
import { MemoKey, type StepContext, type StepDefinition } from '../workflow/step.ts';
import type { ContactsStep } from './contacts-step.ts';
import {
  cpfsByContacts,
  cpfsOfParties,
  partiesOfCpfs,
  type KnownContacts,
  type PartiesAsk,
  type PartiesFound,
} from './people-repository.ts';

/** Whose party the lead leads to, and by which route: party ids, never CPFs (they are saved). */
export interface FoundParties {
  /** From the lead's own fields: the person, whatever its contacts say. */
  readonly lead: number | null;
  readonly byPhone: number | null;
  readonly byEmail: number | null;
  /** How each was found: `lead`, `records`, `diretrix`, `workapi_phone`. */
  readonly sources: Readonly<Record<string, string>>;
}

/** The finding step, which also tells later steps the CPFs of the parties it found. */
export interface FindCpfStep extends StepDefinition<FoundParties> {
  /** The CPF of each party id: as this attempt found them, or read back from the store. */
  cpfs(context: StepContext, partyIds: readonly number[]): Promise<Map<number, string>>;
}

export interface FindCpfDeps {
  readonly db: pg.Pool;
  readonly suppression: Suppression;
  readonly contacts: ContactsStep;
  readonly diretrix: DiretrixClient;
  readonly workApi: WorkApiClient;
  readonly contactMatchMs: number;
  readonly noteOnNoMatch: boolean;
}

const PARTY_CPFS = new MemoKey<ReadonlyMap<number, string>>('CPFs of the parties found');

const firstValid = (matches: readonly DiretrixMatch[]): string | null =>
  matches.map((match) => normaliseCpf(match.cpf)).find((cpf) => cpf !== undefined) ?? null;

/**
 * Finds the customer's CPF: the lead's own fields first, then our records for its phone and
 * e-mail (while fresh), then Diretrix by phone and by e-mail in parallel, then the Work API's
 * phone module. No CPF at all ends the run as `no_match` (unless a no-match note is wanted).
 */
export function findCpfStep(deps: FindCpfDeps): FindCpfStep {
  // Runs asking at the same moment share one query.
  const knownCpfs = createBatcher<KnownContacts, KnownContacts>((leads) =>
    cpfsByContacts(deps.db, leads, deps.contactMatchMs),
  );
  const partiesOf = createBatcher<PartiesAsk, PartiesFound>((asks) => partiesOfCpfs(deps.db, asks));

  async function findCpfs(context: StepContext) {
    const contacts = await deps.contacts.contacts(context);
    const sources: Record<string, string> = {};
    const leadCpf = contacts.leadCpfs[0] ?? null;
    if (leadCpf) {
      sources.lead = 'lead';
      return { leadCpf, byPhone: null, byEmail: null, sources };
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
      contacts.phone && !byPhone ? deps.diretrix.findByPhone(contacts.phone, context.signal) : [],
      contacts.email && !byEmail ? deps.diretrix.findByEmail(contacts.email, context.signal) : [],
    ]);
    if (!byPhone && (byPhone = firstValid(phoneMatches))) sources.phone = 'diretrix';
    if (!byEmail && (byEmail = firstValid(emailMatches))) sources.email = 'diretrix';

    if (contacts.phone && !byPhone) {
      const cpfs = await deps.workApi.findByPhone(contacts.phone, context.signal);
      byPhone = cpfs.map((cpf) => normaliseCpf(cpf)).find((cpf) => cpf !== undefined) ?? null;
      if (byPhone) sources.phone = 'workapi_phone';
    }
    return { leadCpf: null, byPhone, byEmail, sources };
  }

  return {
    name: 'find_cpf',
    async run(context) {
      const { leadCpf, byPhone, byEmail, sources } = await findCpfs(context);
      const cpfs = [leadCpf, byPhone, byEmail].filter((cpf): cpf is string => cpf !== null);
      // Found through a contact, the person behind it may have objected (the lead's own CPF was
      // checked with its contacts): then nothing of theirs is stored, not even the CPF's party.
      const digest = (cpf: string) =>
        deps.suppression.digests({ cpfs: new Set([cpf]), phones: new Set(), emails: new Set() })[0];
      const parties =
        cpfs.length > 0
          ? await partiesOf({
              fence: context.fence,
              leadId: context.event.leadId,
              found: [
                ...(leadCpf ? [{ cpf: leadCpf, by: 'lead' as const }] : []),
                ...(byPhone ? [{ cpf: byPhone, by: 'phone' as const, digest: digest(byPhone) }] : []),
                ...(byEmail ? [{ cpf: byEmail, by: 'email' as const, digest: digest(byEmail) }] : []),
              ],
            })
          : new Map<string, number>();
      if (parties === 'suppressed')
        return { output: { lead: null, byPhone: null, byEmail: null, sources }, outcome: 'suppressed' };
      if (parties === null) throw new LeaseLostError();
      const cpfOfParty = new Map<number, string>();
      for (const cpf of cpfs) if (parties.has(cpf)) cpfOfParty.set(parties.get(cpf)!, cpf);
      context.memo.set(PARTY_CPFS, cpfOfParty);
      const party = (cpf: string | null) => (cpf === null ? null : (parties.get(cpf) ?? null));
      const found: FoundParties = {
        lead: party(leadCpf),
        byPhone: party(byPhone),
        byEmail: party(byEmail),
        sources,
      };
      if (!found.lead && !found.byPhone && !found.byEmail && !deps.noteOnNoMatch)
        return { output: found, outcome: 'no_match' };
      return { output: found };
    },
    async cpfs({ memo }, partyIds) {
      const known = memo.get(PARTY_CPFS);
      if (known && partyIds.every((id) => known.has(id)))
        return new Map(partyIds.map((id) => [id, known.get(id)!]));
      return cpfsOfParties(deps.db, partyIds);
    },
  };
}

/** The distinct parties to enrich: the lead's own, or the phone's and the e-mail's (at most two). */
export function partiesToEnrich(found: FoundParties): number[] {
  if (found.lead) return [found.lead];
  return [...new Set([found.byPhone, found.byEmail].filter((id): id is number => id !== null))];
}
