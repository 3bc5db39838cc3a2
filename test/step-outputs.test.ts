// Typed steps with versioned outputs: a run resumed from a checkpoint of another output version
// runs that step, and every later one, again; the migration that introduced versions blanks the
// outputs written before (they held personal data).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import { migrate, MIGRATIONS_DIR, MIGRATIONS_TABLE } from '../src/db/migrate.ts';
import { RetryableError } from '../src/errors.ts';
import { createLogger } from '../src/log/logger.ts';
import type { StepDefinition } from '../src/workflow/runner.ts';
import { defer } from './helpers/cleanup.ts';
import { urlOf } from './helpers/database.ts';
import { startEnrichment } from './helpers/enrichment.ts';
import { leadEvent, startService } from './helpers/service.ts';
import { settled } from './helpers/workflow.ts';

test('a later step reads an earlier one by value; a changed output version reruns it and what follows', async (t) => {
  const runs: string[] = [];
  let lookupVersion = 1;
  let failures = 1;
  const lookup: StepDefinition<{ partyId: number }> = {
    name: 'lookup',
    get version() {
      return lookupVersion;
    },
    async run() {
      runs.push(`lookup@v${lookupVersion}`);
      return { output: { partyId: 41 + lookupVersion } };
    },
  };
  const enrich: StepDefinition<{ enriched: number }> = {
    name: 'enrich',
    async run({ outputOf }) {
      runs.push('enrich');
      return { output: { enriched: outputOf(lookup).partyId } };
    },
  };
  const finish: StepDefinition<{ seen: number }> = {
    name: 'finish',
    async run({ outputOf }) {
      runs.push('finish');
      if (failures-- > 0) {
        lookupVersion = 2; // a deploy changes the lookup's output shape while the event waits
        throw new RetryableError('provider_down', 'the provider is down');
      }
      return { output: { seen: outputOf(enrich).enriched } };
    },
  };
  const service = await startService(t, {
    role: 'all',
    env: { RETRY_BASE_DELAY_MS: '20' },
    workflow: () => [lookup, enrich, finish],
  });
  await service.post(leadEvent('lead-v', '2026-11-20T10:00:00Z'));
  const [event] = await settled(service.db);
  assert.equal(event!.status, 'completed');
  // The second attempt could not reuse lookup's v1 output: it ran lookup again, and enrich after it.
  assert.deepEqual(runs, ['lookup@v1', 'enrich', 'finish', 'lookup@v2', 'enrich', 'finish']);
  const { rows } = await service.db.pool.query(
    `SELECT step, attempts, output FROM event_steps WHERE event_id = $1 ORDER BY started_at`,
    [event!.id],
  );
  assert.deepEqual(
    rows.map((row) => [row.step, row.attempts, row.output]),
    [
      ['lookup', 2, { v: 2, output: { partyId: 43 } }],
      ['enrich', 2, { v: 1, output: { enriched: 43 } }],
      ['finish', 2, { v: 1, output: { seen: 43 } }],
    ],
  );
});

test('an unchanged version is reused: a succeeded step is not run again on resume', async (t) => {
  const runs: string[] = [];
  let failures = 1;
  const lookup: StepDefinition<{ n: number }> = {
    name: 'lookup',
    async run() {
      runs.push('lookup');
      return { output: { n: 7 } };
    },
  };
  const post: StepDefinition<{ n: number }> = {
    name: 'post',
    async run({ outputOf }) {
      runs.push('post');
      if (failures-- > 0) throw new RetryableError('c2s_server_error', 'try again');
      return { output: { n: outputOf(lookup).n } };
    },
  };
  const service = await startService(t, {
    role: 'all',
    env: { RETRY_BASE_DELAY_MS: '20' },
    workflow: () => [lookup, post],
  });
  await service.post(leadEvent('lead-u', '2026-11-20T10:00:00Z'));
  await settled(service.db);
  assert.deepEqual(runs, ['lookup', 'post', 'post']);
});

test('migration 0006 blanks the step outputs written before versions, and drops next_attempt_at', async (t) => {
  const serverUrl = process.env.TEST_DATABASE_URL!;
  const name = `c2s_test_mig_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  defer(t, async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });
  const client = new pg.Client({ connectionString: urlOf(serverUrl, name) });
  await client.connect();
  defer(t, () => client.end());
  // The schema as it stood before this change: migrations up to 0005.
  await runner({
    dbClient: client,
    dir: MIGRATIONS_DIR,
    migrationsTable: MIGRATIONS_TABLE,
    direction: 'up',
    count: 5,
    log: () => {},
  });
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO webhook_events (lead_id, updated_at, payload_raw, status, next_attempt_at)
     VALUES ('lead-old', now(), '{}', 'completed', now()) RETURNING id`,
  );
  const eventId = rows[0]!.id;
  await client.query(
    `INSERT INTO event_steps (event_id, step, status, started_at, output) VALUES
       ($1, 'normalise_contacts', 'succeeded', now(), $2),
       ($1, 'compose_note', 'succeeded', now(), $3),
       ($1, 'find_cpf', 'failed', now(), NULL)`,
    [
      eventId,
      { output: { phone: '11987654321', email: 'ana.lima@example.com', leadName: 'Ana Souza Lima' } },
      { output: { ref: 'enr-0123abcd', body: 'Nome: ANA SOUZA LIMA\nCPF: 123.456.789-09' } },
    ],
  );

  await migrate(client, createLogger('silent'));

  const { rows: steps } = await client.query(`SELECT step, status, output FROM event_steps ORDER BY step`);
  assert.deepEqual(steps, [
    { step: 'compose_note', status: 'succeeded', output: null },
    { step: 'find_cpf', status: 'failed', output: null },
    { step: 'normalise_contacts', status: 'succeeded', output: null },
  ]);
  const { rows: columns } = await client.query(
    `SELECT 1 FROM information_schema.columns WHERE table_name = 'webhook_events' AND column_name = 'next_attempt_at'`,
  );
  assert.equal(columns.length, 0);
});

test('the enrichment steps save no personal data: ids, references, counts and flags only', async (t) => {
  const rig = await startEnrichment(t);
  const { leadId, sample, event } = rig.lead('different_people');
  await rig.service.post(event);
  const [state] = await settled(rig.service.db);
  assert.equal(state!.outcome, 'enriched');
  assert.equal(rig.c2s.notes(leadId).length, 1);

  const { rows } = await rig.service.db.pool.query<{ step: string; output: unknown }>(
    `SELECT step, output FROM event_steps WHERE event_id = $1 ORDER BY started_at`,
    [state!.id],
  );
  // (Sorted: the first two steps can start within the same millisecond.)
  assert.deepEqual(rows.map((row) => row.step).toSorted(), [
    'check_action',
    'compose_note',
    'fetch_dossier',
    'find_cpf',
    'normalise_contacts',
    'post_note',
    'store_person',
  ]);
  const saved = JSON.stringify(rows.map((row) => row.output));
  const customer = sample.attributes.customer as { name: string; email: string; phone: string };
  const people = sample.expectedCpfs.map((cpf) => rig.population.byCpf(cpf)!);
  const forbidden = [
    ...sample.expectedCpfs,
    customer.email,
    customer.phone.slice(-8),
    customer.name,
    ...people.flatMap((person) => [person.name, person.motherName]),
  ];
  for (const value of forbidden)
    assert.ok(!saved.includes(value), `a step output holds ${value.slice(0, 3)}…`);
  const find = rows.find((row) => row.step === 'find_cpf')!.output as {
    v: number;
    output: Record<string, unknown>;
  };
  assert.equal(find.v, 1);
  assert.equal(typeof find.output.byPhone, 'number', 'a CPF becomes its party id');
  const compose = rows.find((row) => row.step === 'compose_note')!.output as {
    output: Record<string, unknown>;
  };
  assert.deepEqual(Object.keys(compose.output).toSorted(), ['length', 'outcome', 'ref']);
});
