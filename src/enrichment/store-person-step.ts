import type pg from 'pg';
import type { Step } from '../workflow/runner.ts';
import type { LeadContacts } from './contacts-step.ts';
import { dossiersOf, type FetchedDossiers } from './fetch-dossier-step.ts';
import type { FoundCpfs } from './find-cpf-step.ts';
import { storePerson } from './people-repository.ts';

/** Stores each person found, with the lead's contacts that led to them, and links the lead. */
export function storePersonStep(deps: { db: pg.Pool }): Step {
  return {
    name: 'store_person',
    replayable: true,
    async run({ event, outputs, memo }) {
      const contacts = outputs.normalise_contacts as LeadContacts;
      const cpfs = outputs.find_cpf as FoundCpfs;
      const { found } = outputs.fetch_dossier as FetchedDossiers;
      const dossiers = await dossiersOf(deps.db, memo, found);
      for (const [cpf, dossier] of dossiers) {
        const own = cpfs.leadCpf === cpf;
        await storePerson(deps.db, dossier, {
          leadId: event.leadId,
          ...(contacts.phone && (own || cpfs.byPhone === cpf) ? { phone: contacts.phone } : {}),
          ...(contacts.email && (own || cpfs.byEmail === cpf) ? { email: contacts.email } : {}),
        });
      }
      return { output: { stored: dossiers.size } };
    },
  };
}
