// A worker frozen (SIGSTOP) while its note POST is in flight, its event taken over by another
// worker, then resumed: the lead still gets exactly one note. Real processes, real simulators.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defer } from './helpers/cleanup.ts';
import { freshDatabase } from './helpers/database.ts';
import { startSimulators } from './helpers/enrichment.ts';
import { spawnService } from './helpers/process.ts';
import { postWebhook } from './helpers/service.ts';
import { until } from './helpers/wait.ts';
import { settled } from './helpers/workflow.ts';

const SECRET = 'stall-test-secret-0123456789';

test('a worker stalled mid-post, taken over and resumed: exactly one note', async (t) => {
  const db = await freshDatabase(t);
  const { population, c2s, env: providers } = await startSimulators(t);
  // C2S answers slowly: it takes 3 s before it stores the note and answers.
  c2s.faults.set('create_message', { latencyMs: 3000 });

  const env = {
    DB_URL: db.url,
    WEBHOOK_SECRET: SECRET,
    ...providers,
    WORKER_LEASE_SECONDS: '2',
    C2S_TIMEOUT_MS: '5000',
    NOTE_CLAIM_MARGIN_SECONDS: '1', // the claim counts as in flight for 5 + 2 + 1 = 8 s
    // The first worker, resumed past its deadline, may record its POST's outcome as unknown.
    NOTE_UNKNOWN_WAIT_SECONDS: '2',
    RETRY_BASE_DELAY_MS: '100',
    LOG_LEVEL: 'info',
  };
  const api = await spawnService(t, env, ['src/main.ts', '--role=api']);
  const first = await spawnService(t, env, ['src/main.ts', '--role=worker']);

  const sample = population.sampleLeads().find((lead) => lead.scenario === 'phone_only')!;
  const leadId = sample.leadId;
  const answer = await postWebhook(
    api.url,
    {
      id: leadId,
      hook_action: 'on_create_lead',
      attributes: { ...sample.attributes, updated_at: '2026-11-20T10:15:00Z' },
    },
    { token: SECRET },
  );
  assert.equal(answer.status, 200);

  // The first worker's POST is in flight (C2S is sitting on it): freeze the worker there.
  await until('the first POST', () => (c2s.calls('create_message') === 1 ? true : undefined));
  first.child.kill('SIGSTOP');
  let resumed = false;
  defer(t, () => {
    if (!resumed) first.child.kill('SIGCONT');
  });

  // A second worker takes the event once the lease runs out, and finds the note claim in flight.
  const second = await spawnService(t, env, ['src/main.ts', '--role=worker']);
  await until('the second worker to wait on the claim', async () => {
    const { rows } = await db.pool.query(
      `SELECT 1 FROM event_steps WHERE step = 'post_note' AND error_code = 'note_in_flight'`,
    );
    return rows.length > 0 ? true : undefined;
  });
  assert.equal(c2s.calls('create_message'), 1, 'the second worker did not post while the first may be');

  // The first worker comes back: its POST has landed by now; its late writes change nothing.
  first.child.kill('SIGCONT');
  resumed = true;
  const [event] = await settled(db, 30_000);
  assert.equal(event!.status, 'completed');
  assert.equal(event!.outcome, 'enriched');

  assert.equal(c2s.notes(leadId).length, 1, 'exactly one note on the lead');
  assert.equal(c2s.calls('create_message'), 1);

  // The ledger says sent: recorded either by the first worker (its own POST's outcome, before its
  // note claim was taken over) or by the attempt that took it over and found the note on the lead.
  const { rows: notes } = await db.pool.query<{ state: string }>(
    `SELECT state FROM notes WHERE lead_id = $1`,
    [leadId],
  );
  assert.deepEqual(notes, [{ state: 'sent' }]);
  void second;

  // The first worker noticed that it lost the event and stopped without writing.
  await until('the first worker to report the lost lease', () =>
    first.output().includes('lease lost') ? true : undefined,
  );
  const metrics = await (await fetch(`${first.url}/metrics`)).text();
  assert.match(metrics, /workflow_leases_lost_total 1/);
  void api;
});
