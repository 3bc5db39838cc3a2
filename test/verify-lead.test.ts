// C2S_VERIFY_LEAD: the lead is read from C2S and its contacts are used, not the payload's, so a
// leaked hook URL cannot spend paid lookups on made-up contacts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatCpf } from '../src/people/cpf.ts';
import { startEnrichment } from './helpers/enrichment.ts';
import { until } from './helpers/wait.ts';
import { eventStates, settled } from './helpers/workflow.ts';

const FORGED_CUSTOMER = { name: 'Fulano Forjado', phone: '5511900000001', email: 'forjado@example.com' };

test("with C2S_VERIFY_LEAD the note is built from C2S's contacts, not the payload's", async (t) => {
  const rig = await startEnrichment(t, { C2S_VERIFY_LEAD: 'true' });
  const { leadId, sample, event } = rig.lead('phone_only');
  rig.c2s.putLead(leadId, sample.attributes);
  // The webhook claims other contacts than C2S knows for the lead.
  const attributes = event.attributes as Record<string, unknown>;
  await rig.service.post({
    ...event,
    attributes: { ...attributes, customer: FORGED_CUSTOMER, description: '' },
  });
  const [state] = await settled(rig.service.db);
  assert.deepEqual([state!.status, state!.outcome], ['completed', 'enriched']);
  const [note] = rig.c2s.notes(leadId);
  assert.ok(note!.body.includes(`CPF: ${formatCpf(sample.expectedCpfs[0]!)}`), 'the person of the C2S lead');
  assert.ok(!note!.body.includes('Forjado'));
  assert.equal(rig.c2s.calls('get_lead'), 1);
});

test('with C2S_VERIFY_LEAD a forged lead C2S has no contacts for costs no lookup', async (t) => {
  const rig = await startEnrichment(t, { C2S_VERIFY_LEAD: 'true' });
  await rig.service.post({
    id: 'forged-lead-1',
    hook_action: 'on_create_lead',
    attributes: { customer: FORGED_CUSTOMER, updated_at: '2026-11-20T10:15:00Z' },
  });
  const [state] = await settled(rig.service.db);
  assert.deepEqual([state!.status, state!.outcome], ['completed', 'no_match']);
  assert.equal(rig.diretrix.calls('phone') + rig.diretrix.calls('email'), 0, 'no paid lookup');
  assert.equal(rig.workApi.calls('cpf'), 0);
  assert.equal(rig.c2s.notes('forged-lead-1').length, 0);
});

test('without C2S_VERIFY_LEAD the payload is trusted and C2S is not read', async (t) => {
  const rig = await startEnrichment(t);
  const { leadId, event } = rig.lead('phone_only');
  await rig.service.post(event);
  const [state] = await settled(rig.service.db);
  assert.equal(state!.outcome, 'enriched');
  assert.equal(rig.c2s.calls('get_lead'), 0);
  assert.equal(rig.c2s.notes(leadId).length, 1);
});

test('with C2S_VERIFY_LEAD a lead whose contacts changed while its event waited fails as lead_changed, with no note', async (t) => {
  const rig = await startEnrichment(t, { C2S_VERIFY_LEAD: 'true' });
  const { leadId, sample, event } = rig.lead('phone_only');
  const other = rig.lead('email_only').sample;
  rig.c2s.putLead(leadId, sample.attributes);
  // The dossier lookup fails once and asks for 2 s: the event waits, its lead changes in C2S.
  rig.workApi.faults.failNext('cpf', { kind: 'status', status: 503, retryAfterSeconds: 2 });
  await rig.service.post(event);
  await until('the event to wait for its retry', async () => {
    const [state] = await eventStates(rig.service.db);
    return state?.error_code ? state : undefined;
  });
  rig.c2s.putLead(leadId, other.attributes);
  const [state] = await settled(rig.service.db);
  assert.deepEqual([state!.status, state!.error_code], ['failed', 'lead_changed']);
  assert.equal(rig.c2s.notes(leadId).length, 0);
});
