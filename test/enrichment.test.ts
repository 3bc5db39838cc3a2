import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatCpf } from '../src/people/cpf.ts';
import { startEnrichment } from './helpers/enrichment.ts';
import { settled } from './helpers/workflow.ts';

test('a lead with a CPF in its description is enriched from that CPF, without Diretrix', async (t) => {
  const rig = await startEnrichment(t);
  const { leadId, sample, event } = rig.lead('cpf_in_description');
  await rig.service.post(event);
  const [state] = await settled(rig.service.db);
  assert.deepEqual([state!.status, state!.outcome], ['completed', 'enriched']);
  const notes = rig.c2s.notes(leadId);
  assert.equal(notes.length, 1);
  const person = rig.population.byCpf(sample.expectedCpfs[0]!)!;
  assert.match(notes[0]!.body, /^✅ DADOS PESSOAIS\n/);
  assert.ok(notes[0]!.body.includes(`CPF: ${formatCpf(person.cpf)}`));
  assert.ok(notes[0]!.body.includes(`Nome: ${person.name}`));
  assert.match(notes[0]!.body, /\n\nref: enr-[0-9a-f]{16}$/);
  assert.equal(rig.diretrix.calls('phone') + rig.diretrix.calls('email'), 0);
  assert.equal(rig.workApi.calls('cpf'), 1);
});

for (const scenario of ['phone_only', 'email_only'] as const) {
  test(`a lead found by ${scenario === 'phone_only' ? 'phone' : 'e-mail'} only is enriched with that person`, async (t) => {
    const rig = await startEnrichment(t);
    const { leadId, sample, event } = rig.lead(scenario);
    await rig.service.post(event);
    const [state] = await settled(rig.service.db);
    assert.deepEqual([state!.status, state!.outcome], ['completed', 'enriched']);
    const [note] = rig.c2s.notes(leadId);
    assert.ok(note!.body.includes(`CPF: ${formatCpf(sample.expectedCpfs[0]!)}`));
    assert.ok(!note!.body.includes('PESSOA 2'));
  });
}

test('phone and e-mail of different people give one note with both, under a warning', async (t) => {
  const rig = await startEnrichment(t);
  const { leadId, sample, event } = rig.lead('different_people');
  await rig.service.post(event);
  await settled(rig.service.db);
  const [note] = rig.c2s.notes(leadId);
  assert.match(note!.body, /^⚠️ Telefone e e-mail relacionados a PESSOAS DIFERENTES!/);
  assert.match(note!.body, /═══ PESSOA 1 \(Telefone: \(\d\d\) [\d-]+\) ═══/);
  assert.match(note!.body, /═══ PESSOA 2 \(Email: [^)]+\) ═══/);
  for (const cpf of sample.expectedCpfs) assert.ok(note!.body.includes(formatCpf(cpf)));
  assert.equal(rig.workApi.calls('cpf'), 2);
});

test('phone and e-mail of the same person say so', async (t) => {
  const rig = await startEnrichment(t);
  const { leadId, event } = rig.lead('same_person');
  await rig.service.post(event);
  await settled(rig.service.db);
  assert.match(rig.c2s.notes(leadId)[0]!.body, /^📞📧 Telefone e e-mail da mesma pessoa/);
  assert.equal(rig.workApi.calls('cpf'), 1);
});

test('no match completes without a note, or with a short one when configured', async (t) => {
  const quiet = await startEnrichment(t);
  const first = quiet.lead('no_match');
  await quiet.service.post(first.event);
  const [state] = await settled(quiet.service.db);
  assert.deepEqual([state!.status, state!.outcome], ['completed', 'no_match']);
  assert.equal(quiet.c2s.notes(first.leadId).length, 0);

  const talkative = await startEnrichment(t, { NOTE_ON_NO_MATCH: 'true' });
  const second = talkative.lead('no_match');
  await talkative.service.post(second.event);
  const [noted] = await settled(talkative.service.db);
  assert.deepEqual([noted!.status, noted!.outcome], ['completed', 'no_match']);
  const notes = talkative.c2s.notes(second.leadId);
  assert.equal(notes.length, 1);
  assert.ok(notes[0]!.body.length < 600);
  assert.match(notes[0]!.body, /ref: enr-[0-9a-f]{16}$/);
});

test('an update with the same contacts adds no note; one with a new phone does', async (t) => {
  const rig = await startEnrichment(t);
  const created = rig.lead('same_person', { leadId: 'lead-upd' });
  await rig.service.post(created.event);
  await settled(rig.service.db);

  const same = rig.lead('same_person', {
    leadId: 'lead-upd',
    updatedAt: '2026-11-20T11:00:00.000-03:00',
    action: 'on_update_lead',
  });
  await rig.service.post(same.event);
  const afterSame = await settled(rig.service.db);
  assert.deepEqual(
    afterSame.map((s) => s.outcome),
    ['enriched', 'unchanged'],
  );
  assert.equal(rig.c2s.notes('lead-upd').length, 1);

  const other = rig.population.people.find((p) => !created.sample.expectedCpfs.includes(p.cpf))!;
  const changed = rig.lead('same_person', {
    leadId: 'lead-upd',
    updatedAt: '2026-11-20T12:00:00.000-03:00',
    action: 'on_update_lead',
  });
  const attributes = changed.event.attributes as { customer: Record<string, unknown> };
  attributes.customer = { ...attributes.customer, phone: `55${other.phones[0]!.number}` };
  await rig.service.post(changed.event);
  const afterChange = await settled(rig.service.db);
  assert.equal(afterChange.at(-1)!.outcome, 'enriched');
  assert.equal(rig.c2s.notes('lead-upd').length, 2);
});

test('the same CPF in two leads is fetched once and served from the cache the second time', async (t) => {
  const rig = await startEnrichment(t);
  await rig.service.post(rig.lead('phone_only', { leadId: 'lead-a' }).event);
  await settled(rig.service.db);
  await rig.service.post(rig.lead('phone_only', { leadId: 'lead-b' }).event);
  await settled(rig.service.db);
  assert.equal(rig.c2s.notes('lead-a').length, 1);
  assert.equal(rig.c2s.notes('lead-b').length, 1);
  assert.equal(rig.workApi.calls('cpf'), 1);
  // The second lead's phone was answered by our own records, not Diretrix.
  assert.equal(rig.diretrix.calls('phone'), 1);
});

test('on_close_lead is stored and completed without enrichment', async (t) => {
  const rig = await startEnrichment(t);
  await rig.service.post(rig.lead('same_person', { action: 'on_close_lead' }).event);
  const [state] = await settled(rig.service.db);
  assert.deepEqual([state!.status, state!.outcome], ['completed', 'closed']);
  assert.equal(rig.workApi.calls('cpf') + rig.diretrix.calls('phone'), 0);
});
