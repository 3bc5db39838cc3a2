import { RetryableError } from '../errors.ts';
import type { WorkflowDeps } from '../service.ts';
import type { Step } from './runner.ts';

/** `on_close_lead` events are stored and completed without enrichment. */
export const closedLeadStep: Step = {
  name: 'check_action',
  async run({ event }) {
    return event.hookAction === 'on_close_lead' ? { outcome: 'closed' } : {};
  },
};

/**
 * The production workflow. Enrichment (CPF lookup, dossier, note) is not built yet: until it is,
 * events other than closures wait with a clear, retryable reason instead of failing, so a
 * deployment that adds enrichment processes them without anyone replaying anything.
 */
export function leadWorkflow(_deps: WorkflowDeps): readonly Step[] {
  return [
    closedLeadStep,
    {
      name: 'enrich',
      async run() {
        throw new RetryableError('enrichment_unavailable', 'enrichment is not part of this build yet', {
          retryAfterMs: 30 * 60_000,
        });
      },
    },
  ];
}
