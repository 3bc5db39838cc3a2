import type { WorkflowDeps } from '../service.ts';
import type { Step } from '../workflow/runner.ts';
import { claimWindows, postNoteStep } from '../workflow/steps/post-note.ts';
import { composeNoteStep } from './compose-note-step.ts';
import { normaliseContactsStep } from './contacts-step.ts';
import { fetchDossierStep } from './fetch-dossier-step.ts';
import { findCpfStep } from './find-cpf-step.ts';
import { storePersonStep } from './store-person-step.ts';

/** The workflow's steps by name, in order: how operators see an event's timeline. */
export const ENRICHMENT_STEP_ORDER = [
  'check_action',
  'normalise_contacts',
  'find_cpf',
  'fetch_dossier',
  'store_person',
  'compose_note',
  'post_note',
] as const;

/** `on_close_lead` events are stored and completed without enrichment. */
export const checkActionStep: Step = {
  name: 'check_action',
  replayable: true,
  async run({ event }) {
    return event.hookAction === 'on_close_lead' ? { outcome: 'closed' } : {};
  },
};

/**
 * The lead enrichment workflow: check action → normalise contacts → find CPF → fetch dossier →
 * store person → compose note → post note. Each step is checkpointed by the runner; later steps
 * take the earlier ones they read from as values.
 */
export function enrichmentWorkflow(deps: WorkflowDeps): readonly Step[] {
  const { db, config } = deps;
  const { enrichment } = config;
  const { suppression } = deps;
  const contacts = normaliseContactsStep({
    db,
    suppression,
    noteOnNoMatch: enrichment.noteOnNoMatch,
    dryRun: enrichment.dryRun,
    verifyWith: config.providers.c2s.verifyLead ? deps.c2s : undefined,
  });
  const found = findCpfStep({
    db,
    suppression,
    contacts,
    diretrix: deps.diretrix,
    workApi: deps.workApi,
    contactMatchMs: enrichment.contactMatchMs,
    noteOnNoMatch: enrichment.noteOnNoMatch,
  });
  const fetched = fetchDossierStep({
    db,
    found,
    workApi: deps.workApi,
    cacheMs: enrichment.dossierCacheMs,
    noteOnNoMatch: enrichment.noteOnNoMatch,
  });
  const composer = composeNoteStep({ db, options: enrichment.note, contacts, found, fetched });
  return [
    checkActionStep,
    contacts,
    found,
    fetched,
    storePersonStep({ db, contacts, found, fetched }),
    composer,
    postNoteStep({
      db,
      c2s: deps.c2s,
      metrics: deps.metrics,
      composer,
      windows: claimWindows(config),
      dryRun: enrichment.dryRun,
    }),
  ];
}
