import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { purge, RETENTION_LOCK } from '../src/lifecycle/retention.ts';
import { defer } from './helpers/cleanup.ts';
import { freshDatabase, type TestDatabase } from './helpers/database.ts';
import { startEnrichment } from './helpers/enrichment.ts';
import { runNode } from './helpers/process.ts';
import { ADMIN_TOKEN, startService } from './helpers/service.ts';
import { until } from './helpers/wait.ts';
import { settled } from './helpers/workflow.ts';

const DAY_MS = 86_400_000;

/** The cut-offs the service would use with the defaults (30 and 365 days). */
function defaultCutoffs() {
  const now = Date.now();
  return { eventsBefore: new Date(now - 30 * DAY_MS), peopleBefore: new Date(now - 365 * DAY_MS) };
}

/** `count` finished events received `ageDays` ago, each with two step outputs; answers their ids. */
async function insertFinished(
  db: pg.Pool,
  count: number,
  ageDays: number,
  prefix: string,
): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO webhook_events (lead_id, updated_at, hook_action, payload_raw, received_at, processed_at, status,
                                 outcome, error_code)
     SELECT $3 || n, now(), 'on_create_lead', jsonb_build_object('id', $3 || n, 'phone', '11987654321'),
            now() - $2 * interval '1 day', now() - $2 * interval '1 day',
            CASE WHEN n % 2 = 0 THEN 'completed' ELSE 'failed' END,
            CASE WHEN n % 2 = 0 THEN 'enriched' END, CASE WHEN n % 2 = 1 THEN 'c2s_unavailable' END
     FROM generate_series(1, $1) n
     RETURNING id`,
    [count, ageDays, prefix],
  );
  const ids = rows.map((row) => row.id);
  await db.query(
    `INSERT INTO event_steps (event_id, step, status, started_at, finished_at, output)
     SELECT id, step, 'succeeded', now(), now(), '{"v": 1, "output": {"ref": "abc"}}'
     FROM unnest($1::uuid[]) id, unnest(ARRAY['normalise_contacts', 'find_cpf']) step`,
    [ids],
  );
  return ids;
}

async function insertRejected(db: pg.Pool, ageDays: number): Promise<void> {
  await db.query(
    `INSERT INTO rejected_webhooks (received_at, reason, message, lead_id, payload_excerpt)
     VALUES (now() - $1 * interval '1 day', 'missing_updated_at', 'no updated_at', 'lead-x', '{"phone": "11987654321"}')`,
    [ageDays],
  );
}

async function one<T>(db: pg.Pool, sql: string, values: unknown[] = []): Promise<T> {
  const { rows } = await db.query(sql, values);
  return rows[0] as T;
}

test('purge blanks old finished events, deletes old rejected input and people not seen; the rest stays', async (t) => {
  const rig = await startEnrichment(t);
  const db = rig.service.db.pool;
  // Lead A: aged entirely (events and its person). Lead B: events aged, its person's party too,
  // but found for a lead recently. Lead C: nothing aged.
  const leads = { a: 'lead-a', b: 'lead-b', c: 'lead-c' };
  await rig.service.post(rig.lead('phone_only', { leadId: leads.a }).event);
  await rig.service.post(rig.lead('email_only', { leadId: leads.b }).event);
  await rig.service.post(rig.lead('cpf_in_description', { leadId: leads.c }).event);
  // Two rejected inputs (no updated_at): one aged, one not.
  await rig.service.post([{ id: 'lead-r1' }, { id: 'lead-r2' }]);
  await settled(rig.service.db);

  const partiesOf = async (leadId: string) =>
    (
      await db.query<{ party_id: string }>('SELECT party_id FROM people.party_leads WHERE lead_id = $1', [
        leadId,
      ])
    ).rows.map((row) => row.party_id);
  const partiesA = await partiesOf(leads.a);
  const partiesB = await partiesOf(leads.b);
  const partiesC = await partiesOf(leads.c);
  assert.ok(partiesA.length > 0 && partiesB.length > 0 && partiesC.length > 0, 'each lead found a person');
  assert.equal(
    new Set([...partiesA, ...partiesB, ...partiesC]).size,
    partiesA.length + 2,
    'people of their own',
  );

  await db.query(
    `UPDATE webhook_events SET received_at = now() - interval '40 days', processed_at = now() - interval '40 days'
     WHERE lead_id = ANY($1)`,
    [[leads.a, leads.b]],
  );
  await db.query(
    `UPDATE rejected_webhooks SET received_at = now() - interval '40 days' WHERE lead_id = 'lead-r1'`,
  );
  await db.query(
    `UPDATE people.parties SET updated_at = now() - interval '400 days' WHERE id = ANY($1::bigint[])`,
    [[...partiesA, ...partiesB]],
  );
  await db.query(
    `UPDATE people.party_leads SET found_at = now() - interval '400 days' WHERE party_id = ANY($1::bigint[])`,
    [partiesA],
  );
  // An old event still waiting (a retry far ahead): never purged, whatever its age.
  const {
    rows: [waiting],
  } = await db.query<{ id: string }>(
    `INSERT INTO webhook_events (lead_id, updated_at, payload_raw, received_at, status, due_at)
     VALUES ('lead-w', now(), '{"id": "lead-w"}', now() - interval '90 days', 'processing', now() + interval '1 day')
     RETURNING id`,
  );

  const history = `SELECT id, lead_id, status, outcome, error_code, attempts, received_at, processed_at
                   FROM webhook_events ORDER BY id`;
  const before = (await db.query(history)).rows;
  const outputsBefore = await one<{ c: number; aged: number }>(
    db,
    `SELECT count(*) FILTER (WHERE e.lead_id = $1)::int AS c,
            count(*) FILTER (WHERE e.lead_id = ANY($2))::int AS aged
     FROM event_steps s JOIN webhook_events e ON e.id = s.event_id WHERE s.output IS NOT NULL`,
    [leads.c, [leads.a, leads.b]],
  );
  assert.ok(outputsBefore.c > 0 && outputsBefore.aged > 0, 'steps wrote outputs');
  const agedEvents = await one<{ n: number }>(
    db,
    'SELECT count(*)::int AS n FROM webhook_events WHERE lead_id = ANY($1)',
    [[leads.a, leads.b]],
  );

  // Two notes a dry run kept instead of posting: one written before the cut-off, one after.
  await db.query(
    `INSERT INTO notes (lead_id, ref, state, body, updated_at)
     VALUES ('lead-d1', 'enr-0000000000000001', 'dry_run', 'Nome: ANA', now() - interval '40 days'),
            ('lead-d2', 'enr-0000000000000002', 'dry_run', 'Nome: BIA', now())`,
  );

  const progress: string[] = [];
  const result = await purge(db, {
    ...defaultCutoffs(),
    onProgress: ({ kind, done }) => progress.push(`${kind}:${done}`),
  });
  assert.deepEqual(result, {
    skipped: false,
    event_payloads: agedEvents.n,
    rejected_inputs: 1,
    dry_run_notes: 1,
    people: partiesA.length,
  });
  // The old text is gone, the ledger row stays; the new one is kept.
  assert.deepEqual(
    (await db.query(`SELECT lead_id, state, body FROM notes WHERE state = 'dry_run' ORDER BY lead_id`)).rows,
    [
      { lead_id: 'lead-d1', state: 'dry_run', body: null },
      { lead_id: 'lead-d2', state: 'dry_run', body: 'Nome: BIA' },
    ],
  );
  assert.ok(progress.includes(`event_payloads:${agedEvents.n}`), progress.join(' '));

  // Events: aged ones blanked (payload and outputs), the rest untouched; every row and its history stays.
  const events = (
    await db.query<{ lead_id: string; payload: boolean; purged: boolean }>(
      `SELECT lead_id, payload_raw IS NOT NULL AS payload, purged_at IS NOT NULL AS purged FROM webhook_events`,
    )
  ).rows;
  for (const event of events) {
    const aged = event.lead_id === leads.a || event.lead_id === leads.b;
    assert.deepEqual([event.payload, event.purged], aged ? [false, true] : [true, false], event.lead_id);
  }
  assert.deepEqual((await db.query(history)).rows, before);
  const outputsAfter = await one<{ c: number; aged: number }>(
    db,
    `SELECT count(*) FILTER (WHERE e.lead_id = $1)::int AS c,
            count(*) FILTER (WHERE e.lead_id = ANY($2))::int AS aged
     FROM event_steps s JOIN webhook_events e ON e.id = s.event_id WHERE s.output IS NOT NULL`,
    [leads.c, [leads.a, leads.b]],
  );
  assert.deepEqual(outputsAfter, { c: outputsBefore.c, aged: 0 });
  const stillWaiting = await one<{ payload_raw: unknown; purged_at: Date | null }>(
    db,
    'SELECT payload_raw, purged_at FROM webhook_events WHERE id = $1',
    [waiting!.id],
  );
  assert.deepEqual(stillWaiting, { payload_raw: { id: 'lead-w' }, purged_at: null });

  // Rejected input: the old one gone, the new one kept.
  assert.deepEqual(
    (await db.query('SELECT lead_id FROM rejected_webhooks ORDER BY lead_id')).rows.map((row) => row.lead_id),
    ['lead-r2'],
  );

  // People: A's gone with everything attached; B's (found recently) and C's stay.
  const attached = await one<Record<string, number>>(
    db,
    `SELECT (SELECT count(*)::int FROM people.parties WHERE id = ANY($1::bigint[])) AS parties,
            (SELECT count(*)::int FROM people.contacts WHERE party_id = ANY($1::bigint[])) AS contacts,
            (SELECT count(*)::int FROM people.addresses WHERE party_id = ANY($1::bigint[])) AS addresses,
            (SELECT count(*)::int FROM people.companies WHERE party_id = ANY($1::bigint[])) AS companies,
            (SELECT count(*)::int FROM people.enrichments WHERE party_id = ANY($1::bigint[])) AS enrichments,
            (SELECT count(*)::int FROM people.party_leads WHERE party_id = ANY($1::bigint[])) AS party_leads`,
    [partiesA],
  );
  assert.deepEqual(attached, {
    parties: 0,
    contacts: 0,
    addresses: 0,
    companies: 0,
    enrichments: 0,
    party_leads: 0,
  });
  const kept = await one<{ n: number }>(
    db,
    'SELECT count(*)::int AS n FROM people.parties WHERE id = ANY($1::bigint[])',
    [[...partiesB, ...partiesC]],
  );
  assert.equal(kept.n, partiesB.length + partiesC.length);
  const contactsKept = await one<{ n: number }>(
    db,
    'SELECT count(*)::int AS n FROM people.contacts WHERE party_id = ANY($1::bigint[])',
    [[...partiesB, ...partiesC]],
  );
  assert.ok(contactsKept.n > 0);

  // A purged event reads as a blank payload in the admin API.
  const purgedId = await one<{ id: string }>(db, 'SELECT id FROM webhook_events WHERE lead_id = $1 LIMIT 1', [
    leads.a,
  ]);
  const detail = await fetch(`${rig.service.url}/api/v1/admin/events/${purgedId.id}`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  assert.equal(detail.status, 200);
  assert.equal(((await detail.json()) as { payload: unknown }).payload, null);

  // A second purge finds nothing left to do and changes nothing.
  const snapshot = async () =>
    (
      await db.query(
        `SELECT (SELECT json_agg(e ORDER BY id) FROM webhook_events e) AS events,
                (SELECT json_agg(s ORDER BY event_id, step) FROM event_steps s) AS steps,
                (SELECT count(*)::int FROM rejected_webhooks) AS rejected,
                (SELECT count(*)::int FROM people.parties) AS parties`,
      )
    ).rows[0];
  const first = await snapshot();
  assert.deepEqual(await purge(db, defaultCutoffs()), {
    skipped: false,
    event_payloads: 0,
    rejected_inputs: 0,
    dry_run_notes: 0,
    people: 0,
  });
  assert.deepEqual(await snapshot(), first);
});

test('one purge at a time: a held lock skips, racing purges split the work and never deadlock', async (t) => {
  const database = await freshDatabase(t);
  const ids = await insertFinished(database.pool, 3000, 40, 'old-');
  await insertFinished(database.pool, 50, 5, 'new-');
  for (let n = 0; n < 20; n++) await insertRejected(database.pool, 40);

  // Another process holds the lock: nothing is done.
  const holder = new pg.Client({ connectionString: database.url });
  await holder.connect();
  await holder.query('SELECT pg_advisory_lock($1)', [RETENTION_LOCK]);
  assert.deepEqual(await purge(database.pool, defaultCutoffs()), {
    skipped: true,
    event_payloads: 0,
    rejected_inputs: 0,
    dry_run_notes: 0,
    people: 0,
  });
  assert.equal(
    (
      await one<{ n: number }>(
        database.pool,
        'SELECT count(*)::int AS n FROM webhook_events WHERE purged_at IS NOT NULL',
      )
    ).n,
    0,
  );
  await holder.end();

  // Two "processes" (pools of their own) purge at once, in small batches.
  const other = new pg.Pool({ connectionString: database.url, max: 2 });
  defer(t, () => other.end());
  const results = await Promise.all([
    purge(database.pool, { ...defaultCutoffs(), batchSize: 100 }),
    purge(other, { ...defaultCutoffs(), batchSize: 100 }),
    purge(database.pool, { ...defaultCutoffs(), batchSize: 100 }),
  ]);
  const total = results.reduce((sum, result) => sum + result.event_payloads, 0);
  assert.equal(total, ids.length, 'every old event blanked exactly once');
  assert.equal(
    results.reduce((sum, result) => sum + result.rejected_inputs, 0),
    20,
  );
  assert.ok(
    results.filter((result) => result.event_payloads > 0).length === 1,
    `one purge did the work: ${JSON.stringify(results)}`,
  );
  const state = await one<Record<string, number>>(
    database.pool,
    `SELECT count(*) FILTER (WHERE purged_at IS NOT NULL AND lead_id LIKE 'old-%')::int AS old_purged,
            count(*) FILTER (WHERE purged_at IS NULL AND payload_raw IS NOT NULL AND lead_id LIKE 'new-%')::int AS new_kept,
            (SELECT count(*)::int FROM event_steps WHERE output IS NOT NULL) AS outputs,
            (SELECT count(*)::int FROM rejected_webhooks) AS rejected
     FROM webhook_events`,
  );
  assert.deepEqual(state, { old_purged: 3000, new_kept: 50, outputs: 100, rejected: 0 });
  // The lock is free again: a later purge runs (and has nothing to do).
  assert.equal((await purge(other, defaultCutoffs())).skipped, false);
});

test('the service purges in the background and counts it in retention_purged_total', async (t) => {
  const service = await startService(t, { role: 'api', retentionTiming: { firstRunMs: 0, intervalMs: 200 } });
  const db = service.db.pool;
  await insertFinished(db, 3, 40, 'old-');
  await insertFinished(db, 2, 1, 'new-');
  await insertRejected(db, 40);
  await insertRejected(db, 1);

  const metric = (text: string, kind: string) =>
    Number(new RegExp(`^retention_purged_total\\{kind="${kind}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  const text = await until('the retention job to purge', async () => {
    const body = await (await fetch(`${service.url}/metrics`)).text();
    return metric(body, 'event_payloads') === 3 && metric(body, 'rejected_inputs') === 1 ? body : undefined;
  });
  assert.equal(metric(text, 'people'), 0);
  const state = await one<Record<string, number>>(
    db,
    `SELECT count(*) FILTER (WHERE purged_at IS NOT NULL)::int AS purged,
            (SELECT count(*)::int FROM rejected_webhooks) AS rejected FROM webhook_events`,
  );
  assert.deepEqual(state, { purged: 3, rejected: 1 });
  const line = await until('the purge log line', () =>
    service.logs.find((log) => log.includes('retention purge done') && log.includes('"event_payloads":3')),
  );
  assert.ok(!line.includes('11987654321'), 'counts only');
});

async function cliDatabase(t: Parameters<typeof freshDatabase>[0]): Promise<TestDatabase> {
  const database = await freshDatabase(t);
  await insertFinished(database.pool, 4, 40, 'old-');
  await insertFinished(database.pool, 2, 10, 'mid-');
  await insertRejected(database.pool, 40);
  await database.pool.query(
    `INSERT INTO people.parties (cpf, updated_at) VALUES ('52998224725', now() - interval '400 days'),
                                                         ('11144477735', now() - interval '10 days')`,
  );
  return database;
}

test('the purge command: progress lines, summary last, --before, exit codes', async (t) => {
  const database = await cliDatabase(t);
  const env = { DB_URL: database.url };
  const run = await runNode(['src/cli/main.ts', 'purge'], env);
  assert.equal(run.code, 0, run.output);
  const lines = run.output.trim().split('\n');
  assert.equal(
    lines.at(-1),
    'purge: 4 events blanked, 1 rejected inputs deleted, 0 dry-run notes deleted, 1 people deleted',
  );
  assert.ok(
    lines.some((line) => line.startsWith('blanking event payloads: 4')),
    run.output,
  );
  assert.ok(
    lines.some((line) => line.startsWith('deleting people: 1')),
    run.output,
  );

  // --before moves the events' cut-off, not the people's.
  const later = await runNode(
    ['src/cli/main.ts', 'purge', '--before', new Date(Date.now() - 5 * DAY_MS).toISOString()],
    env,
  );
  assert.equal(later.code, 0, later.output);
  assert.equal(
    later.output.trim().split('\n').at(-1),
    'purge: 2 events blanked, 0 rejected inputs deleted, 0 dry-run notes deleted, 0 people deleted',
  );
  const again = await runNode(['src/cli/main.ts', 'purge', '--before', '1d'], env);
  assert.equal(
    again.output.trim().split('\n').at(-1),
    'purge: 0 events blanked, 0 rejected inputs deleted, 0 dry-run notes deleted, 0 people deleted',
  );

  for (const bad of ['yesterday', '2026-02-30T00:00:00Z', '2999-01-01T00:00:00Z']) {
    const refused = await runNode(['src/cli/main.ts', 'purge', '--before', bad], env);
    assert.equal(refused.code, 64, `${bad}: ${refused.output}`);
    assert.match(refused.output, /--before/);
  }

  // Another purge running: says so, exit 1.
  const holder = new pg.Client({ connectionString: database.url });
  await holder.connect();
  await holder.query('SELECT pg_advisory_lock($1)', [RETENTION_LOCK]);
  const busy = await runNode(['src/cli/main.ts', 'purge'], env);
  await holder.end();
  assert.equal(busy.code, 1, busy.output);
  assert.match(busy.output, /another purge is running/);
});
