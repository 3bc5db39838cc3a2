import type pg from 'pg';
import { composeNoMatchNote, composeNote } from '../people/note.ts';
import { formatPhone } from '../people/phone.ts';
import type { Dossier, NoteMatch, NoteOptions } from '../people/types.ts';
import { MemoKey, type StepContext, type StepDefinition } from '../workflow/step.ts';
import type { ComposedNote, NoteComposer } from '../workflow/steps/post-note.ts';
import type { ContactsStep, LeadContacts } from './contacts-step.ts';
import { dossiersOf, type FetchedDossiers } from './fetch-dossier-step.ts';
import type { FindCpfStep, FoundParties } from './find-cpf-step.ts';

/** Who the note presents, from the parties found and their dossiers. */
export function noteMatch(
  found: FoundParties,
  dossiers: ReadonlyMap<number, Dossier>,
  contacts: LeadContacts,
): NoteMatch | null {
  const person = (party: number | null) => (party ? dossiers.get(party) : undefined);
  const own = person(found.lead);
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

const NOTE = new MemoKey<ComposedNote>('composed note');

/**
 * Composes the enrichment note (or the short no-match note, when configured). It saves the
 * reference and the outcome only: the text holds the dossier, and C2S keeps it once posted. The
 * posting step takes the text from this attempt, or has it composed again (`note`).
 */
export function composeNoteStep(deps: {
  db: pg.Pool;
  options: NoteOptions;
  contacts: ContactsStep;
  found: FindCpfStep;
  fetched: StepDefinition<FetchedDossiers>;
}): NoteComposer {
  async function note(context: StepContext): Promise<ComposedNote> {
    const composed = context.memo.get(NOTE);
    if (composed) return composed;
    const contacts = await deps.contacts.contacts(context);
    const found = context.outputOf(deps.found);
    const dossiers = await dossiersOf(deps.db, context.memo, context.outputOf(deps.fetched).found);
    const match = noteMatch(found, dossiers, contacts);
    const { ref } = contacts;
    const fresh: ComposedNote = match
      ? {
          ref,
          outcome: 'enriched',
          body: composeNote({ ref, leadName: contacts.leadName, match }, deps.options),
        }
      : {
          ref,
          outcome: 'no_match',
          body: composeNoMatchNote(ref, {
            name: contacts.leadName,
            phone: contacts.phone,
            email: contacts.email,
          }),
        };
    context.memo.set(NOTE, fresh);
    return fresh;
  }
  return {
    name: 'compose_note',
    replayable: true,
    note,
    async run(context) {
      const { ref, outcome, body } = await note(context);
      return { output: { ref, outcome, length: body.length } };
    },
  };
}
