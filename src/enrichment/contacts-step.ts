import type pg from 'pg';
import { createBatcher } from '../db/batcher.ts';
import { notesSent } from '../notes/ledger.ts';
import { cpfCandidatesFromLead } from '../people/cpf-extraction.ts';
import { normaliseEmail } from '../people/email.ts';
import { normalisePhone } from '../people/phone.ts';
import { knownRefs, noteRef } from '../notes/reference.ts';
import type { C2sClient } from '../providers/c2s/client.ts';
import { leadAttributes } from '../webhooks/envelope.ts';
import type { Step } from '../workflow/runner.ts';

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

/**
 * Normalises the lead's phone and e-mail and finds any CPF in its own fields. An event whose
 * contacts already produced a note on this lead (under its current or legacy reference) ends
 * here as `unchanged`; one with nothing to look up ends as `no_match` (unless a no-match note is
 * wanted). With `verifyWith` (C2S_VERIFY_LEAD), the lead is read from C2S and its own contacts
 * are used instead of the payload's: a forged webhook cannot spend paid lookups.
 */
export function normaliseContactsStep(deps: {
  db: pg.Pool;
  noteOnNoMatch: boolean;
  verifyWith?: C2sClient | undefined;
}): Step {
  const noteSent = createBatcher<{ leadId: string; refs: readonly string[] }, boolean>((asks) =>
    notesSent(deps.db, asks),
  );
  const { verifyWith } = deps;
  return {
    name: 'normalise_contacts',
    replayable: true,
    async run({ event, signal }) {
      const attributes = verifyWith
        ? (await verifyWith.getLead(event.leadId, signal)).attributes
        : leadAttributes(event.payload);
      const customer = (attributes.customer ?? {}) as LeadCustomer;
      const phoneText = [customer.phone, customer.phone_global, customer.phone2]
        .map(text)
        .find((value) => value !== undefined && normalisePhone(value));
      const phone = phoneText ? (normalisePhone(phoneText)?.national ?? null) : null;
      const emailText = text(customer.email);
      const email = emailText ? (normaliseEmail(emailText) ?? null) : null;
      const leadCpfs = cpfCandidatesFromLead(attributes);
      const ref = noteRef(event.leadId, [phone ?? '', email ?? '', leadCpfs[0] ?? ''].join('|'));
      const contacts: LeadContacts = { phone, email, leadName: text(customer.name) ?? null, leadCpfs, ref };

      if (await noteSent({ leadId: event.leadId, refs: knownRefs(ref) }))
        return { output: contacts, outcome: 'unchanged' };
      if (!phone && !email && leadCpfs.length === 0 && !deps.noteOnNoMatch)
        return { output: contacts, outcome: 'no_match' };
      return { output: contacts };
    },
  };
}
