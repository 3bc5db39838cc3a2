import type pg from 'pg';
import { createBatcher } from '../db/batcher.ts';
import type { NoteState } from '../notes/ledger.ts';
import { checkLeads, type LeadCheck } from './lead-checks.ts';
import { cpfCandidatesFromLead } from '../people/cpf-extraction.ts';
import { normaliseEmail } from '../people/email.ts';
import { normalisePhone } from '../people/phone.ts';
import { knownRefs, noteRef } from '../notes/reference.ts';
import type { C2sClient } from '../providers/c2s/client.ts';
import { leadAttributes } from '../webhooks/envelope.ts';
import { PermanentError } from '../errors.ts';
import type { Suppression } from '../lifecycle/suppression.ts';
import { identifiersIn, unionOf, type Identifiers } from '../people/identifiers.ts';
import { MemoKey, type StepContext, type StepDefinition } from '../workflow/step.ts';

/** What the lead itself tells us, normalised: the input of every later step. */
export interface LeadContacts {
  /** National number (DDD + number), as Diretrix and the Work API want it. */
  readonly phone: string | null;
  readonly email: string | null;
  readonly leadName: string | null;
  /** Valid CPFs found in the lead's own fields. */
  readonly leadCpfs: readonly string[];
  /** The note reference for this lead and these contacts: one note per lead per set of contacts. */
  readonly ref: string;
}

interface LeadCustomer {
  name?: unknown;
  email?: unknown;
  phone?: unknown;
  phone2?: unknown;
  phone_global?: unknown;
}

/** The lead's attributes, whichever envelope the event came in (one definition: the envelope's). */
export { leadAttributes };

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value : undefined;

/** What the step saves: flags and the note reference, never the contacts themselves. */
export interface ContactsFound {
  readonly ref: string;
  readonly phone: boolean;
  readonly email: boolean;
  readonly leadCpf: boolean;
}

/** The normalising step, which also gives later steps the contacts themselves (never saved). */
export interface ContactsStep extends StepDefinition<ContactsFound> {
  /** The lead's contacts: as this attempt read them, or read again (from the payload, or C2S). */
  contacts(context: StepContext): Promise<LeadContacts>;
}

const CONTACTS = new MemoKey<LeadContacts>('lead contacts');

/** The lead's contacts, normalised, from its attributes: a pure function of them. */
export function contactsOf(leadId: string, attributes: Record<string, unknown>): LeadContacts {
  const customer = (attributes.customer ?? {}) as LeadCustomer;
  const phoneText = [customer.phone, customer.phone_global, customer.phone2]
    .map(text)
    .find((value) => value !== undefined && normalisePhone(value));
  const phone = phoneText ? (normalisePhone(phoneText)?.national ?? null) : null;
  const emailText = text(customer.email);
  const email = emailText ? (normaliseEmail(emailText) ?? null) : null;
  const leadCpfs = cpfCandidatesFromLead(attributes);
  const ref = noteRef(leadId, [phone ?? '', email ?? '', leadCpfs[0] ?? ''].join('|'));
  return { phone, email, leadName: text(customer.name) ?? null, leadCpfs, ref };
}

/** The identifiers the workflow would look up for a lead: what suppression is checked on. */
export function lookedUp(contacts: LeadContacts): Identifiers {
  return {
    cpfs: new Set(contacts.leadCpfs),
    phones: new Set(contacts.phone ? [contacts.phone] : []),
    emails: new Set(contacts.email ? [contacts.email] : []),
  };
}

/**
 * Every identifier an event's raw payload names: those the workflow reads, and any other anywhere
 * in it (erasure and the subject report match on these; too costly for every event's run).
 */
export function leadIdentifiers(payload: unknown): Identifiers {
  return unionOf(identifiersIn(payload), lookedUp(contactsOf('', leadAttributes(payload))));
}

/**
 * Normalises the lead's phone and e-mail and finds any CPF in its own fields. An event whose
 * contacts already produced a note on this lead (under its current or legacy reference) ends
 * here as `unchanged`; one with nothing to look up ends as `no_match` (unless a no-match note is
 * wanted). With `verifyWith` (C2S_VERIFY_LEAD), the lead is read from C2S and its own contacts
 * are used instead of the payload's: a forged webhook cannot spend paid lookups.
 */
export function normaliseContactsStep(deps: {
  db: pg.Pool;
  suppression: Suppression;
  noteOnNoMatch: boolean;
  dryRun?: boolean;
  verifyWith?: C2sClient | undefined;
}): ContactsStep {
  // Under DRY_RUN a note kept instead of posted counts as on the lead, as the post would have.
  const states: NoteState[] = deps.dryRun ? ['sent', 'dry_run'] : ['sent'];
  const check = createBatcher<LeadCheck, { sent: boolean; suppressed: boolean }>((checks) =>
    checkLeads(deps.db, checks, states),
  );
  const { verifyWith } = deps;
  const contacts = async ({ event, signal, memo }: StepContext): Promise<LeadContacts> => {
    let found = memo.get(CONTACTS);
    if (!found) {
      const attributes = verifyWith
        ? (await verifyWith.getLead(event.leadId, signal)).attributes
        : leadAttributes(event.payload);
      found = contactsOf(event.leadId, attributes);
      memo.set(CONTACTS, found);
    }
    return found;
  };
  const step: ContactsStep = {
    name: 'normalise_contacts',
    replayable: true,
    // For the later steps: the contacts read again must be those this event started with (with
    // C2S_VERIFY_LEAD they come from C2S, and the lead may have changed in between; a newer event
    // carries the change). Else the note would go out under another reference than its claim.
    async contacts(context) {
      const found = await contacts(context);
      if (found.ref !== context.outputOf(step).ref)
        throw new PermanentError('lead_changed', "the lead's contacts changed since this event started");
      return found;
    },
    async run(context) {
      const found = await contacts(context);
      const { phone, email, leadCpfs, ref } = found;
      const output: ContactsFound = {
        ref,
        phone: phone !== null,
        email: email !== null,
        leadCpf: leadCpfs.length > 0,
      };
      const { sent, suppressed } = await check({
        leadId: context.event.leadId,
        refs: knownRefs(ref),
        digests: deps.suppression.digests(lookedUp(found)),
      });
      // A person erased with --suppress objects to processing: nothing is looked up, no note.
      if (suppressed) return { output, outcome: 'suppressed' };
      if (sent) return { output, outcome: 'unchanged' };
      if (!phone && !email && leadCpfs.length === 0 && !deps.noteOnNoMatch)
        return { output, outcome: 'no_match' };
      return { output };
    },
  };
  return step;
}
