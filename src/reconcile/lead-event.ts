import type { C2sLead } from '../providers/c2s/client.ts';
import { normaliseEvent, type NormalisedEvent } from '../webhooks/envelope.ts';

/** Reconciliation stores what it finds as an update: the lead exists and changed, whatever else. */
export const RECONCILED_ACTION = 'on_update_lead';

/**
 * A listed lead as the webhook C2S did not deliver: envelope C
 * (`{hook_action, data: {type, id, internal_id, attributes}}`), normalised by the webhook's own
 * rules (lead id, `updated_at`, storable text). The workflow then reads its attributes as it
 * reads any delivery's. The lead's messages are left out: nothing reads them, and they are the
 * customer's own words.
 */
export function reconciledEvent(lead: C2sLead): NormalisedEvent {
  return normaliseEvent({
    hook_action: RECONCILED_ACTION,
    data: {
      type: 'lead',
      id: lead.id,
      ...(lead.internalId === undefined ? {} : { internal_id: lead.internalId }),
      attributes: lead.attributes,
    },
  });
}
