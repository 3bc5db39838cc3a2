import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type pg from 'pg';
import { erase } from '../src/lifecycle/erasure.ts';
import { formatCpf } from '../src/people/cpf.ts';
import { identifierOf } from '../src/people/identifiers.ts';
import { formatPhone, normalisePhone } from '../src/people/phone.ts';
import type { SampleLead, SyntheticPerson } from '../src/simulators/population.ts';
import { startEnrichment, type EnrichmentRig } from './helpers/enrichment.ts';
import { runCommand } from './helpers/process.ts';
import { SUPPRESSION_SECRET } from './helpers/service.ts';
import { until } from './helpers/wait.ts';
import { settled } from './helpers/workflow.ts';

/** Every row of every table of the service, as text, but for rows that contain one of `except`. */
async function dump(db: pg.Pool, except: readonly string[] = []): Promise<string> {
  const { rows: tables } = await db.query<{ name: string }>(
    `SELECT format('%I.%I', table_schema, table_name) AS name FROM information_schema.tables
     WHERE table_schema IN ('public', 'people') AND table_type = 'BASE TABLE'`,
  );
  const lines: string[] = [];
  for (const { name } of tables) {
    const { rows } = await db.query<{ row: string }>(`SELECT x::text AS row FROM ${name} x`);
    lines.push(...rows.map((row) => row.row).filter((row) => !except.some((text) => row.includes(text))));
  }
  return lines.join('\n');
}

/** What would show the person in a dump: CPF, name, mother's name, phones and e-mails, as written. */
function traces(person: SyntheticPerson, sample: SampleLead): string[] {
  return [
    person.cpf,
    formatCpf(person.cpf),
    person.name,
    person.motherName,
    sample.attributes.customer.name,
    ...person.phones.flatMap((phone) => [phone.number, formatPhone(phone.number)]),
    ...person.emails.map((email) => email.toLowerCase()),
  ];
}

function assertNowhere(text: string, secrets: readonly string[]): void {
  const digits = text.replace(/\D/g, '');
  for (const secret of secrets) {
    assert.ok(!text.toLowerCase().includes(secret.toLowerCase()), `the dump still holds ${secret}`);
    if (/^\d{10,}$/.test(secret))
      assert.ok(!digits.includes(secret), `the dump's digits still hold ${secret}`);
  }
}

const UPDATED_AT = '2026-11-20T10:15:00.000-03:00';

/** The sample lead of a scenario and the person it names. */
function personOf(rig: EnrichmentRig, scenario: SampleLead['scenario']) {
  const { sample, leadId, event } = rig.lead(scenario);
  const person = rig.population.byCpf(sample.expectedCpfs[0]!)!;
  return { sample, leadId, event, person };
}

const env = (rig: EnrichmentRig) => ({ DB_URL: rig.service.db.url, SUPPRESSION_SECRET });

const KINDS = [
  {
    kind: 'phone',
    scenario: 'phone_only',
    // The erased value as an operator may type it; a neighbour whose phone holds it as a substring.
    given: (person: SyntheticPerson, sample: SampleLead) =>
      formatPhone(normalisePhone(sample.attributes.customer.phone!)!.national),
    neighbour: (sample: SampleLead) => ({
      customer: {
        name: 'Outra Pessoa',
        phone: `${normalisePhone(sample.attributes.customer.phone!)!.national}9`,
      },
    }),
    naming: (sample: SampleLead) => ({ customer: { phone: sample.attributes.customer.phone } }),
  },
  {
    kind: 'email',
    scenario: 'email_only',
    given: (_person: SyntheticPerson, sample: SampleLead) => sample.attributes.customer.email!.toUpperCase(),
    neighbour: (sample: SampleLead) => ({
      customer: { name: 'Jo Outra', email: `jo${sample.attributes.customer.email}` },
    }),
    naming: (sample: SampleLead) => ({ customer: { email: sample.attributes.customer.email } }),
  },
  {
    kind: 'cpf',
    scenario: 'cpf_in_description',
    given: (person: SyntheticPerson) => formatCpf(person.cpf),
    neighbour: (_sample: SampleLead, person?: SyntheticPerson) => ({
      description: `pedido 1${person!.cpf}0`,
    }),
    naming: (_sample: SampleLead, person?: SyntheticPerson) => ({ description: `meu cpf: ${person!.cpf}` }),
  },
] as const;

for (const { kind, scenario, given, neighbour, naming } of KINDS) {
  test(`erase --${kind} leaves the person nowhere in the database, and a look-alike untouched`, async (t) => {
    const rig = await startEnrichment(t);
    const db = rig.service.db.pool;
    const { sample, leadId, event, person } = personOf(rig, scenario);
    await rig.service.post(event);
    const lookAlike = {
      id: 'lead-look-alike',
      hook_action: 'on_create_lead',
      attributes: { ...neighbour(sample, person), updated_at: UPDATED_AT },
    };
    await rig.service.post(lookAlike);
    // Refused input (no lead id) naming the person, and one naming the look-alike.
    const refused = await rig.service.post([
      { hook_action: 'on_create_lead', attributes: { ...naming(sample, person), updated_at: UPDATED_AT } },
      { hook_action: 'on_create_lead', attributes: { ...neighbour(sample, person), updated_at: UPDATED_AT } },
    ]);
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    await settled(rig.service.db);
    assert.equal(rig.c2s.notes(leadId).length, 1, 'the person was enriched first');
    const rejectedBefore = (
      await db.query('SELECT count(*)::int AS n FROM rejected_webhooks WHERE lead_id IS NULL')
    ).rows[0].n;
    assert.equal(rejectedBefore, 2);
    const lookAlikeBefore = (
      await db.query(`SELECT payload_raw FROM webhook_events WHERE lead_id = 'lead-look-alike'`)
    ).rows[0];

    const run = await runCommand(['erase', `--${kind}`, given(person, sample)], env(rig));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^C2S leads with our notes.*\\n  ${leadId}\\n`));
    assert.match(
      run.stdout,
      /erase: people 1, leads 1, events blanked 1, events stopped 0, rejected inputs 1, dry-run notes 0, /,
    );
    assertNowhere(run.stdout + run.stderr, traces(person, sample));

    // Nowhere: every table, every column (the look-alike's own rows set aside, checked below).
    assertNowhere(await dump(db, ['lead-look-alike', 'Outra', 'pedido 1']), traces(person, sample));
    // The look-alike: its event and its payload untouched, its refused input kept.
    assert.deepEqual(
      (await db.query(`SELECT payload_raw FROM webhook_events WHERE lead_id = 'lead-look-alike'`)).rows[0],
      lookAlikeBefore,
    );
    assert.equal((await db.query('SELECT count(*)::int AS n FROM rejected_webhooks')).rows[0].n, 1);
    // The event row stays for history; the erasure is on record, without the identifier.
    const { rows: events } = await db.query(
      `SELECT status, outcome, payload_raw FROM webhook_events WHERE lead_id = $1`,
      [leadId],
    );
    assert.deepEqual(events, [{ status: 'completed', outcome: 'enriched', payload_raw: null }]);
    const { rows: audit } = await db.query('SELECT kind, suppressed, counts FROM erasures');
    assert.equal(audit.length, 1);
    assert.equal(audit[0].kind, kind);
    assert.equal(audit[0].suppressed, false);
    assert.equal(audit[0].counts.people, 1);
    assert.equal(audit[0].counts.leads_with_notes, 1);
  });
}

test('an event of the person in flight during the erase does not bring them back', async (t) => {
  const rig = await startEnrichment(t);
  const db = rig.service.db.pool;
  const { sample, leadId, event, person } = personOf(rig, 'phone_only');
  // The dossier takes 3 s: the run has found the CPF (its party exists) and waits on the Work API.
  rig.workApi.faults.set('cpf', { latencyMs: 3000 });
  await rig.service.post(event);
  await until('the dossier request', () => rig.workApi.calls('cpf') === 1, 10_000);
  const partiesMidRun = (await db.query('SELECT count(*)::int AS n FROM people.parties')).rows[0].n;
  assert.equal(partiesMidRun, 1, 'the run found the person before the erase');

  const erased = await erase(db, 'phone', identifierOf('phone', sample.attributes.customer.phone!)!);
  assert.equal(erased.counts.events_stopped, 1);
  assert.equal(erased.counts.people, 1);

  // The run gets its dossier after the erase: it finds its claim gone and writes nothing.
  await until(
    'the run to lose its claim',
    () => rig.service.logs.some((line) => line.includes('lease lost')),
    15_000,
  );
  await settled(rig.service.db);
  const { rows } = await db.query(
    `SELECT status, error_code, payload_raw FROM webhook_events WHERE lead_id = $1`,
    [leadId],
  );
  assert.deepEqual(rows, [{ status: 'failed', error_code: 'erased', payload_raw: null }]);
  assertNowhere(await dump(db), traces(person, sample));
  assert.equal(rig.c2s.notes(leadId).length, 0, 'no note went out for the erased person');
});

test('erase --suppress: later events naming the person complete as suppressed, nothing looked up', async (t) => {
  const rig = await startEnrichment(t);
  const db = rig.service.db.pool;
  const { sample, event, person } = personOf(rig, 'email_only');
  await rig.service.post(event);
  await settled(rig.service.db);

  const run = await runCommand(
    ['erase', '--email', sample.attributes.customer.email!, '--suppress'],
    env(rig),
  );
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /suppressed \d+, leads with notes 1\n$/);
  const calls = () => [
    rig.diretrix.calls('phone'),
    rig.diretrix.calls('email'),
    rig.workApi.calls('cpf'),
    rig.workApi.calls('phone'),
  ];
  const before = calls();

  // The same e-mail in another case, another of the person's e-mails (from their dossier), their CPF.
  const later = [
    {
      id: 'lead-again',
      attributes: { customer: { name: 'Ana', email: sample.attributes.customer.email!.toUpperCase() } },
    },
    { id: 'lead-other-email', attributes: { customer: { name: 'Ana', email: person.emails.at(-1) } } },
    {
      id: 'lead-cpf',
      attributes: { customer: { name: 'Ana' }, description: `CPF ${formatCpf(person.cpf)}` },
    },
  ].map((lead) => ({
    ...lead,
    hook_action: 'on_create_lead',
    attributes: { ...lead.attributes, updated_at: UPDATED_AT },
  }));
  assert.equal((await rig.service.post(later)).status, 200);
  const states = await settled(rig.service.db);
  for (const lead of later) {
    const state = states.find((s) => s.lead_id === lead.id);
    assert.deepEqual([state?.status, state?.outcome], ['completed', 'suppressed'], lead.id);
    assert.equal(rig.c2s.notes(lead.id).length, 0);
  }
  assert.deepEqual(calls(), before, 'no provider was called for a suppressed person');
  assert.equal((await db.query('SELECT count(*)::int AS n FROM people.parties')).rows[0].n, 0);
  // The list holds keyed hashes only: the person is nowhere, the list included.
  assertNowhere(await dump(db), traces(person, sample));
  assert.ok((await db.query('SELECT count(*)::int AS n FROM suppressed_identifiers')).rows[0].n >= 3);

  // Without the key, --suppress refuses in production rather than keep a list nobody checks.
  const refused = await runCommand(['erase', '--email', 'someone@example.com.br', '--suppress'], {
    DB_URL: rig.service.db.url,
    NODE_ENV: 'production',
    WEBHOOK_SECRET: 'w'.repeat(32),
    ADMIN_TOKEN: 'a'.repeat(32),
    C2S_TOKEN: 't',
    DIRETRIX_BASE_URL: 'https://127.0.0.1:9',
    DIRETRIX_USER: 'u',
    DIRETRIX_PASS: 'p',
    WORK_API: 'w',
  });
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /--suppress needs SUPPRESSION_SECRET/);
});

test('subject-report finds the person in every place that holds them', async (t: TestContext) => {
  const rig = await startEnrichment(t);
  const { sample, leadId, event, person } = personOf(rig, 'phone_only');
  await rig.service.post(event);
  // Refused input (no lead id) naming one of the person's e-mails.
  const email = person.emails[0]!;
  await rig.service.post([
    { hook_action: 'on_create_lead', attributes: { customer: { email }, updated_at: UPDATED_AT } },
  ]);
  await settled(rig.service.db);

  const run = await runCommand(['subject-report', '--cpf', formatCpf(person.cpf)], env(rig));
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /subject-report: 1 people, 1 events, 1 rejected inputs, 1 notes/);
  const report = JSON.parse(run.stdout);
  assert.deepEqual(report.subject, { kind: 'cpf', value: person.cpf });
  assert.equal(report.people.length, 1);
  const [held] = report.people;
  assert.equal(held.cpf, person.cpf);
  assert.equal(held.name, person.name);
  const phone = normalisePhone(sample.attributes.customer.phone!)!.national;
  assert.ok(
    held.contacts.some((c: { value: string; source: string }) => c.value === phone && c.source === 'lead'),
  );
  assert.ok(held.contacts.some((c: { value: string }) => c.value === email));
  assert.equal(held.dossiers[0].provider, 'workapi');
  assert.equal(held.dossiers[0].dossier.cpf, person.cpf);
  assert.deepEqual(
    held.leads.map((l: { lead_id: string }) => l.lead_id),
    [leadId],
  );
  assert.deepEqual(
    report.events.map((e: { lead_id: string }) => e.lead_id),
    [leadId],
  );
  assert.equal(report.events[0].payload.id, leadId);
  assert.equal(report.rejected_inputs.length, 1);
  assert.match(report.rejected_inputs[0].payload_excerpt, new RegExp(email.replace('.', '\\.')));
  assert.deepEqual(
    report.notes.map((n: { lead_id: string; state: string }) => [n.lead_id, n.state]),
    [[leadId, 'sent']],
  );
  assert.equal(report.suppressed, false);
  assert.ok(report.sources.people && report.sources.events);

  // By the person's phone the same person comes back.
  const byPhone = await runCommand(['subject-report', '--phone', formatPhone(phone)], env(rig));
  assert.equal(JSON.parse(byPhone.stdout).people[0].cpf, person.cpf);
  // Nobody: an empty report, not an error.
  const nobody = await runCommand(['subject-report', '--email', 'nobody@example.com.br'], env(rig));
  assert.equal(nobody.code, 0, nobody.stderr);
  assert.deepEqual(JSON.parse(nobody.stdout).people, []);
});
