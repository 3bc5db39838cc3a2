import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { defer } from './helpers/cleanup.ts';
import { startC2sSimulator } from '../src/simulators/c2s.ts';
import { leadEvent, startService } from './helpers/service.ts';
import { noteWorkflow, settled, stepRows } from './helpers/workflow.ts';

async function withC2s(t: TestContext) {
  const c2s = await startC2sSimulator({ token: 'c2s-test-token' });
  defer(t, () => c2s.close());
  return c2s;
}

const env = (c2sUrl: string) => ({
  C2S_BASE_URL: c2sUrl,
  C2S_TOKEN: 'c2s-test-token',
  RETRY_BASE_DELAY_MS: '50',
  // A post whose outcome is unknown is looked for on the lead after this wait (60 s by default).
  NOTE_UNKNOWN_WAIT_SECONDS: '1',
});

test('each accepted event runs its steps once and its lead gets one note', async (t) => {
  const c2s = await withC2s(t);
  const service = await startService(t, { role: 'all', env: env(c2s.url), workflow: noteWorkflow() });
  await service.post(['lead-1', 'lead-2', 'lead-3'].map((id) => leadEvent(id, '2026-11-20T10:15:00Z')));
  const states = await settled(service.db);
  assert.deepEqual(
    states.map((s) => [s.lead_id, s.status, s.outcome, s.attempts]),
    [
      ['lead-1', 'completed', 'enriched', 1],
      ['lead-2', 'completed', 'enriched', 1],
      ['lead-3', 'completed', 'enriched', 1],
    ],
  );
  for (const lead of ['lead-1', 'lead-2', 'lead-3']) assert.equal(c2s.notes(lead).length, 1);
  assert.match(c2s.notes('lead-1')[0]!.body, /ref: enr-[0-9a-f]{16}$/);
  assert.deepEqual(
    (await stepRows(service.db, states[0]!.id)).map((s) => [s.step, s.status, s.attempts]),
    [
      ['compose_note', 'succeeded', 1],
      ['post_note', 'succeeded', 1],
    ],
  );
  const { rows } = await service.db.pool.query(`SELECT lead_id, state FROM notes ORDER BY lead_id`);
  assert.deepEqual(
    rows.map((r) => [r.lead_id, r.state]),
    [
      ['lead-1', 'sent'],
      ['lead-2', 'sent'],
      ['lead-3', 'sent'],
    ],
  );
});

test('a note whose answer was lost is found on the lead, not posted twice', async (t) => {
  const c2s = await withC2s(t);
  c2s.faults.failNext('create_message', { kind: 'drop_after_processing' });
  const service = await startService(t, { role: 'all', env: env(c2s.url), workflow: noteWorkflow() });
  await service.post(leadEvent('lead-amb', '2026-11-20T10:15:00Z'));
  const [state] = await settled(service.db);
  assert.equal(state!.status, 'completed');
  assert.equal(state!.attempts, 2, 'the first attempt ended with an unknown outcome');
  assert.equal(c2s.notes('lead-amb').length, 1);
  assert.equal(c2s.calls('create_message'), 1, 'the retry looked at the lead instead of posting again');
  assert.equal(c2s.calls('get_lead'), 1);
  const metrics = await (await fetch(`${service.url}/metrics`)).text();
  assert.match(metrics, /notes_total\{state="unknown"\} 1/);
  assert.match(metrics, /notes_total\{state="found_existing"\} 1/);
});

test('a C2S 5xx, then success, still gives one note', async (t) => {
  const c2s = await withC2s(t);
  c2s.faults.failNext('create_message', { kind: 'status', status: 503 }, 2);
  const service = await startService(t, { role: 'all', env: env(c2s.url), workflow: noteWorkflow() });
  await service.post(leadEvent('lead-5xx', '2026-11-20T10:15:00Z'));
  const [state] = await settled(service.db);
  assert.equal(state!.status, 'completed');
  assert.equal(state!.attempts, 3);
  assert.equal(c2s.notes('lead-5xx').length, 1);
  assert.equal(c2s.calls('create_message'), 3);
});

test('a connection cut before C2S processed anything is retried and posts once', async (t) => {
  const c2s = await withC2s(t);
  c2s.faults.failNext('create_message', { kind: 'drop' });
  const service = await startService(t, { role: 'all', env: env(c2s.url), workflow: noteWorkflow() });
  await service.post(leadEvent('lead-drop', '2026-11-20T10:15:00Z'));
  const [state] = await settled(service.db);
  assert.equal(state!.status, 'completed');
  assert.equal(c2s.notes('lead-drop').length, 1);
});

test('a post C2S refused (429) gives up its claim: the retry posts at once, once', async (t) => {
  const c2s = await withC2s(t);
  c2s.faults.failNext('create_message', { kind: 'status', status: 429, retryAfterSeconds: 1 });
  const service = await startService(t, { role: 'all', env: env(c2s.url), workflow: noteWorkflow() });
  const started = Date.now();
  await service.post(leadEvent('lead-429', '2026-11-20T10:15:00Z'));
  // Within the default in-flight window (C2S timeout 15 s + lease 15 s + margin 15 s): no wait.
  const [state] = await settled(service.db, 20_000);
  assert.equal(state!.status, 'completed');
  assert.equal(state!.attempts, 2);
  assert.ok(Date.now() - started < 20_000);
  assert.equal(c2s.notes('lead-429').length, 1);
  assert.equal(c2s.calls('create_message'), 2);
  assert.equal(c2s.calls('get_lead'), 0, 'a refused post needs no look on the lead');
});
