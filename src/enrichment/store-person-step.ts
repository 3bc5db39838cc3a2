import type pg from 'pg';
import { createBatcher } from '../db/batcher.ts';
import { LeaseLostError } from '../errors.ts';
import type { StepDefinition } from '../workflow/step.ts';
import type { ContactsStep } from './contacts-step.ts';
import { dossiersOf, type FetchedDossiers } from './fetch-dossier-step.ts';
import type { FindCpfStep } from './find-cpf-step.ts';
import { storePeople, type PersonStore } from './people-repository.ts';

/** Stores each person found, with the lead's contacts that led to them, and links the lead. */
export function storePersonStep(deps: {
  db: pg.Pool;
  contacts: ContactsStep;
  found: FindCpfStep;
  fetched: StepDefinition<FetchedDossiers>;
}): StepDefinition<{ stored: number }> {
  // Runs storing at the same moment share one statement.
  const store = createBatcher<PersonStore, boolean>((stores) => storePeople(deps.db, stores));
  return {
    name: 'store_person',
    replayable: true,
    async run(context) {
      const contacts = await deps.contacts.contacts(context);
      const found = context.outputOf(deps.found);
      const dossiers = await dossiersOf(deps.db, context.memo, context.outputOf(deps.fetched).found);
      for (const [party, dossier] of dossiers) {
        const own = found.lead === party;
        const link = {
          leadId: context.event.leadId,
          ...(contacts.phone && (own || found.byPhone === party) ? { phone: contacts.phone } : {}),
          ...(contacts.email && (own || found.byEmail === party) ? { email: contacts.email } : {}),
        };
        if (!(await store({ dossier, link, fence: context.fence }))) throw new LeaseLostError();
      }
      return { output: { stored: dossiers.size } };
    },
  };
}
