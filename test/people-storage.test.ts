import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FIELDS_TO_DROP } from '../src/simulators/workapi.ts';
import { startEnrichment } from './helpers/enrichment.ts';
import { runNode } from './helpers/process.ts';
import { settled } from './helpers/workflow.ts';

test('a person is stored once per CPF with whitelisted fields only, and re-enriching duplicates nothing', async (t) => {
  const rig = await startEnrichment(t, { DOSSIER_CACHE_HOURS: '0' });
  await rig.service.post(rig.lead('same_person', { leadId: 'lead-1' }).event);
  await settled(rig.service.db);
  const sample = rig.lead('same_person').sample;
  const person = rig.population.byCpf(sample.expectedCpfs[0]!)!;
  const db = rig.service.db.pool;
  const count = async () => {
    const { rows } = await db.query(`SELECT
      (SELECT count(*)::int FROM people.parties) AS parties,
      (SELECT count(*)::int FROM people.contacts) AS contacts,
      (SELECT count(*)::int FROM people.addresses) AS addresses,
      (SELECT count(*)::int FROM people.companies) AS companies,
      (SELECT count(*)::int FROM people.enrichments) AS enrichments`);
    return rows[0];
  };
  const first = await count();
  assert.equal(first.parties, 1);
  assert.ok(first.contacts >= 2 && first.addresses >= 1);

  const { rows: parties } = await db.query(`SELECT cpf, name, birth_date FROM people.parties`);
  assert.deepEqual(
    parties.map((p) => [p.cpf, p.name]),
    [[person.cpf, person.name]],
  );
  const { rows: contacts } = await db.query(
    `SELECT kind, value, source FROM people.contacts ORDER BY kind, value`,
  );
  assert.ok(contacts.some((c) => c.kind === 'phone' && /^\d{10,11}$/.test(c.value)));
  assert.ok(contacts.every((c) => c.kind !== 'email' || c.value === c.value.toLowerCase()));
  assert.ok(
    contacts.some((c) => c.source === 'lead'),
    "the lead's own contact is marked as such",
  );

  // Nothing outside the whitelist anywhere in the people schema.
  const { rows: dump } = await db.query(`SELECT
    (SELECT json_agg(e.dossier) FROM people.enrichments e)::text AS enrichments,
    (SELECT json_agg(p) FROM people.parties p)::text AS parties`);
  const stored = `${dump[0].enrichments}${dump[0].parties}`;
  for (const field of [...FIELDS_TO_DROP.dadosBasicos, ...FIELDS_TO_DROP.topLevel]) {
    assert.ok(!stored.includes(`"${field}"`), `stored data has no ${field}`);
  }
  assert.ok(!stored.includes(person.fatherName), "the father's name is not kept");

  // A second lead for the same person, enriched again (cache off): updated, not duplicated.
  await rig.service.post(rig.lead('same_person', { leadId: 'lead-2' }).event);
  await settled(rig.service.db);
  assert.equal(rig.workApi.calls('cpf'), 2);
  assert.deepEqual(await count(), first);
  const { rows: links } = await db.query(`SELECT lead_id FROM people.party_leads ORDER BY lead_id`);
  assert.deepEqual(
    links.map((l) => l.lead_id),
    ['lead-1', 'lead-2'],
  );
});

test('a person can be erased by phone, CPF or e-mail, raw payloads of their leads included', async (t) => {
  const rig = await startEnrichment(t);
  for (const scenario of ['phone_only', 'email_only', 'cpf_in_description'] as const) {
    await rig.service.post(rig.lead(scenario, { leadId: `lead-${scenario}` }).event);
  }
  await settled(rig.service.db);
  const db = rig.service.db.pool;
  const env = { DB_URL: rig.service.db.url };
  const sample = (scenario: Parameters<typeof rig.lead>[0]) => rig.lead(scenario).sample;

  const phone = sample('phone_only').attributes.customer.phone!;
  const byPhone = await runNode(['src/cli/main.ts', 'erase', '--phone', phone], env);
  assert.equal(byPhone.code, 0, byPhone.output);
  assert.match(byPhone.output, /erase: people 1, leads 1, events blanked 1, events stopped 0, /);
  assert.ok(!byPhone.output.includes(phone.slice(-8)), 'the command does not echo the value');

  const email = sample('email_only').attributes.customer.email!;
  assert.equal((await runNode(['src/cli/main.ts', 'erase', '--email', email.toUpperCase()], env)).code, 0);
  const cpf = sample('cpf_in_description').expectedCpfs[0]!;
  assert.equal((await runNode(['src/cli/main.ts', 'erase', '--cpf', cpf], env)).code, 0);

  const { rows } = await db.query(`SELECT (SELECT count(*)::int FROM people.parties) AS parties,
    (SELECT count(*)::int FROM webhook_events WHERE payload_raw IS NOT NULL) AS raw_left,
    (SELECT count(*)::int FROM event_steps WHERE output IS NOT NULL) AS outputs_left`);
  assert.deepEqual(rows[0], { parties: 0, raw_left: 0, outputs_left: 0 });

  const bad = await runNode(['src/cli/main.ts', 'erase', '--cpf', '123'], env);
  assert.equal(bad.code, 64);
  assert.match(bad.output, /not a valid CPF/);
});

test('a full run logs no CPF, phone, e-mail or name of the synthetic people', async (t) => {
  const rig = await startEnrichment(t);
  await rig.service.post(
    rig.population.sampleLeads().map((lead, n) => ({
      id: `lead-log-${n}`,
      hook_action: 'on_create_lead',
      attributes: lead.attributes,
    })),
  );
  await settled(rig.service.db);
  const logs = rig.service.logs.join('\n');
  assert.match(logs, /event completed/);
  for (const person of rig.population.people.slice(0, 40)) {
    for (const secret of [person.cpf, person.name, ...person.phones.map((p) => p.number), ...person.emails]) {
      assert.ok(!logs.includes(secret), 'personal data in the logs');
    }
  }
});
