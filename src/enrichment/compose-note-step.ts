import type pg from 'pg';
import { composeNoMatchNote, composeNote } from '../people/note.ts';
import { formatPhone } from '../people/phone.ts';
import type { Dossier, NoteMatch, NoteOptions } from '../people/types.ts';
import type { Step } from '../workflow/runner.ts';
import type { ComposedNote } from '../workflow/steps/post-note.ts';
import type { LeadContacts } from './contacts-step.ts';
import { dossiersOf, type FetchedDossiers } from './fetch-dossier-step.ts';
import type { FoundCpfs } from './find-cpf-step.ts';

/** Who the note presents, from the CPFs found and the dossiers fetched. */
export function noteMatch(
  found: FoundCpfs,
  dossiers: ReadonlyMap<string, Dossier>,
  contacts: LeadContacts,
): NoteMatch | null {
  const person = (cpf: string | null) => (cpf ? dossiers.get(cpf) : undefined);
  const own = person(found.leadCpf);
  if (own) return { kind: 'single', person: own };
  const byPhone = person(found.byPhone);
  const byEmail = person(found.byEmail);
  if (byPhone && byEmail) {
    if (byPhone.cpf === byEmail.cpf) return { kind: 'same_person', person: byPhone };
    return {
      kind: 'different_people',
      byPhone: { person: byPhone, phone: formatPhone(contacts.phone ?? '') },
      byEmail: { person: byEmail, email: contacts.email ?? '' },
    };
  }
  const one = byPhone ?? byEmail;
  return one ? { kind: 'single', person: one } : null;
}

/** Composes the enrichment note (or the short no-match note, when configured). */
export function composeNoteStep(deps: { db: pg.Pool; options: NoteOptions }): Step {
  return {
    name: 'compose_note',
    replayable: true,
    async run({ outputs, memo }) {
      const contacts = outputs.normalise_contacts as LeadContacts;
      const found = (outputs.find_cpf ?? {
        leadCpf: null,
        byPhone: null,
        byEmail: null,
        sources: {},
      }) as FoundCpfs;
      const fetched = (outputs.fetch_dossier ?? { found: [], missing: [] }) as FetchedDossiers;
      const match = noteMatch(found, await dossiersOf(deps.db, memo, fetched.found), contacts);
      const note: ComposedNote = match
        ? {
            ref: contacts.ref,
            outcome: 'enriched',
            body: composeNote({ ref: contacts.ref, leadName: contacts.leadName, match }, deps.options),
          }
        : {
            ref: contacts.ref,
            outcome: 'no_match',
            body: composeNoMatchNote(contacts.ref, {
              name: contacts.leadName,
              phone: contacts.phone,
              email: contacts.email,
            }),
          };
      return { output: note };
    },
  };
}
