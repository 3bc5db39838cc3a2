import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startEnrichment, type EnrichmentRig } from './helpers/enrichment.ts';
import { adminRequest } from './helpers/service.ts';
import { until } from './helpers/wait.ts';

/** Calls the admin API of the rig's service with the admin token. */
function admin(rig: EnrichmentRig, method: string, path: string, body?: unknown) {
  return adminRequest(rig.service.url, method, path, body);
}

async function eventOf(rig: EnrichmentRig, leadId: string) {
  const { rows } = await rig.service.db.pool.query<{
    id: string;
    status: string;
    outcome: string | null;
    error_code: string | null;
    attempts: number;
  }>(
    `SELECT id, status, outcome, error_code, attempts FROM webhook_events WHERE lead_id = $1
     ORDER BY updated_at DESC LIMIT 1`,
    [leadId],
  );
  return rows[0]!;
}

async function statusOf(rig: EnrichmentRig, leadId: string): Promise<string> {
  return (await eventOf(rig, leadId)).status;
}

/** Posts a lead whose note C2S refuses with 404 (the lead is gone there), and waits for it to fail. */
async function failedLead(rig: EnrichmentRig, leadId: string) {
  rig.c2s.faults.failNext('create_message', { kind: 'status', status: 404 });
  const { event } = rig.lead('phone_only', { leadId });
  assert.equal((await rig.service.post(event)).status, 200);
  await until(`${leadId} failed`, async () => (await statusOf(rig, leadId)) === 'failed');
  return eventOf(rig, leadId);
}

test('reprocess: a failed event resumes at its failed step and posts its note once', async (t) => {
  const rig = await startEnrichment(t);
  const failed = await failedLead(rig, 'lead-reprocess');
  assert.equal(failed.error_code, 'c2s_not_found');
  assert.equal(rig.c2s.notes('lead-reprocess').length, 0);
  const lookups = rig.workApi.calls('cpf') + rig.diretrix.calls('phone');

  const answer = await admin(rig, 'POST', `/events/${failed.id}/reprocess`, {});
  assert.equal(answer.status, 202);
  assert.deepEqual(answer.body, { event_id: failed.id, status: 'received' });
  await until('completed', async () => (await statusOf(rig, 'lead-reprocess')) === 'completed');

  const done = await eventOf(rig, 'lead-reprocess');
  assert.equal(done.outcome, 'enriched');
  assert.equal(done.error_code, null);
  assert.equal(rig.c2s.notes('lead-reprocess').length, 1, 'one note');
  assert.equal(rig.workApi.calls('cpf') + rig.diretrix.calls('phone'), lookups, 'no lookup paid twice');
  const detail = await admin(rig, 'GET', `/events/${failed.id}`);
  assert.equal(detail.body.note.state, 'sent');
  assert.equal(detail.body.steps.find((step: any) => step.step === 'post_note').status, 'succeeded');
});

test('reprocess: an event whose note is on the lead posts nothing new, even from the start', async (t) => {
  const rig = await startEnrichment(t);
  const { event } = rig.lead('phone_only', { leadId: 'lead-done' });
  await rig.service.post(event);
  await until('completed', async () => (await statusOf(rig, 'lead-done')) === 'completed');
  const { id } = await eventOf(rig, 'lead-done');

  for (const from of ['failed_step', 'start']) {
    const answer = await admin(rig, 'POST', `/events/${id}/reprocess`, { from });
    assert.equal(answer.status, 202, from);
    await until('completed', async () => (await statusOf(rig, 'lead-done')) === 'completed');
  }
  assert.equal(rig.c2s.notes('lead-done').length, 1, 'still exactly one note on the lead');
  const { rows } = await rig.service.db.pool.query(`SELECT state FROM notes WHERE lead_id = 'lead-done'`);
  assert.deepEqual(
    rows.map((row) => row.state),
    ['sent'],
  );
});

test('reprocess refuses what must not run: unknown, running, and not the latest of its lead', async (t) => {
  const rig = await startEnrichment(t, { WORKER_CONCURRENCY: '1' });
  const unknown = await admin(rig, 'POST', '/events/00000000-0000-4000-8000-000000000000/reprocess', {});
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.error, 'not_found');
  assert.equal((await admin(rig, 'POST', '/events/not-a-uuid/reprocess', {})).status, 404);

  // Older and newer events of one lead: the older is superseded, and stays so.
  const older = rig.lead('phone_only', { leadId: 'lead-two', updatedAt: '2026-11-20T10:00:00Z' });
  const newer = rig.lead('phone_only', { leadId: 'lead-two', updatedAt: '2026-11-20T11:00:00Z' });
  await rig.service.post([older.event, newer.event]);
  await until('completed', async () => (await statusOf(rig, 'lead-two')) === 'completed');
  const { rows } = await rig.service.db.pool.query<{ id: string; status: string }>(
    `SELECT id, status FROM webhook_events WHERE lead_id = 'lead-two' ORDER BY updated_at`,
  );
  assert.notEqual(rows[0]!.status, 'completed');
  const stale = await admin(rig, 'POST', `/events/${rows[0]!.id}/reprocess`, {});
  assert.equal(stale.status, 409);
  assert.equal(stale.body.error, 'not_latest');

  // A running (queued) event: the worker is slowed by C2S latency so it is still unfinished.
  rig.c2s.faults.set('create_message', { latencyMs: 1500 });
  const slow = rig.lead('phone_only', { leadId: 'lead-slow' });
  await rig.service.post(slow.event);
  const running = await eventOf(rig, 'lead-slow');
  const refused = await admin(rig, 'POST', `/events/${running.id}/reprocess`, {});
  assert.equal(refused.status, 409);
  assert.equal(refused.body.error, 'event_running');

  const badFrom = await admin(rig, 'POST', `/events/${running.id}/reprocess`, { from: 'middle' });
  assert.equal(badFrom.status, 400);
});

test('replay: a dry run counts and changes nothing; the replay completes each lead with one note', async (t) => {
  const rig = await startEnrichment(t);
  const leads = ['replay-1', 'replay-2', 'replay-3', 'replay-4'];
  for (const leadId of leads) await failedLead(rig, leadId);
  const filter = { status: 'failed', error_code: 'c2s_not_found' };

  const dry = await admin(rig, 'POST', '/replay', { filter, dry_run: true });
  assert.equal(dry.status, 200);
  assert.deepEqual(dry.body, { matched: 4, scheduled: 4, dry_run: true });
  for (const leadId of leads)
    assert.equal(await statusOf(rig, leadId), 'failed', 'a dry run changes nothing');

  const replay = await admin(rig, 'POST', '/replay', { filter });
  assert.deepEqual(replay.body, { matched: 4, scheduled: 4, dry_run: false });
  for (const leadId of leads) {
    await until(`${leadId} completed`, async () => (await statusOf(rig, leadId)) === 'completed');
    assert.equal(rig.c2s.notes(leadId).length, 1, `${leadId}: one note`);
  }
  const again = await admin(rig, 'POST', '/replay', { filter, dry_run: true });
  assert.deepEqual(again.body, { matched: 0, scheduled: 0, dry_run: true }, 'nothing failed any more');

  const empty = await admin(rig, 'POST', '/replay', { filter: {} });
  assert.equal(empty.status, 400);
  assert.equal(empty.body.error, 'empty_filter');
  const typo = await admin(rig, 'POST', '/replay', { filter: { staus: 'failed' } });
  assert.equal(typo.status, 400);
});

test('replaying many failures paces C2S: the backlog grows, the provider refuses nothing', async (t) => {
  // C2S takes at most 25 calls in any second; the service is configured at 10 a second.
  const rig = await startEnrichment(t, { C2S_RATE_PER_MINUTE: '600', WORKER_CONCURRENCY: '32' });
  const count = 60;
  rig.c2s.faults.failNext('create_message', { kind: 'status', status: 404 }, count);
  const events = Array.from(
    { length: count },
    (_, i) => rig.lead('phone_only', { leadId: `storm-${i}` }).event,
  );
  await rig.service.post(events);
  await until(
    'all failed',
    async () =>
      (await rig.service.db.pool.query(`SELECT 1 FROM webhook_events WHERE status = 'failed'`)).rowCount ===
      count,
  );
  // The limit is real: a burst straight at the simulator is refused.
  rig.c2s.faults.set('create_message', { ratePerSecond: 25 });
  const burst = await Promise.all(
    Array.from({ length: 40 }, () =>
      fetch(`${rig.c2s.url}/integration/leads/probe/create_message`, {
        method: 'POST',
        headers: { authorization: 'Bearer c2s-token', 'content-type': 'application/json' },
        body: JSON.stringify({ body: 'probe' }),
      }).then((response) => response.status),
    ),
  );
  assert.ok(burst.includes(429), 'the simulated C2S refuses a burst over its limit');
  const refusedByBurst = rig.c2s.faults.rateLimited;
  await new Promise((resolve) => setTimeout(resolve, 1100)); // let the probe's second pass

  const replay = await admin(rig, 'POST', '/replay', { filter: { status: 'failed' } });
  assert.equal(replay.body.scheduled, count);
  const stats = await admin(rig, 'GET', '/stats');
  assert.ok(
    stats.body.events_by_status.received + (stats.body.events_by_status.processing ?? 0) > count / 2,
    'the replayed events wait in the backlog',
  );
  await until(
    'all completed',
    async () =>
      (await rig.service.db.pool.query(`SELECT 1 FROM webhook_events WHERE status = 'completed'`))
        .rowCount === count,
  );
  assert.equal(rig.c2s.faults.rateLimited - refusedByBurst, 0, 'no call of the replay was refused by C2S');
  for (let i = 0; i < count; i++) assert.equal(rig.c2s.notes(`storm-${i}`).length, 1);
});

test('a requeued event gets a fresh retry budget: one exhausted before runs again', async (t) => {
  const rig = await startEnrichment(t, { RETRY_MAX_ATTEMPTS: '2' });
  rig.c2s.faults.failNext('create_message', { kind: 'status', status: 503 }, 2);
  const { event } = rig.lead('phone_only', { leadId: 'lead-budget' });
  await rig.service.post(event);
  await until('failed', async () => (await statusOf(rig, 'lead-budget')) === 'failed');
  const failed = await eventOf(rig, 'lead-budget');
  assert.equal(failed.attempts, 2);

  assert.equal((await admin(rig, 'POST', `/events/${failed.id}/reprocess`, {})).status, 202);
  await until('completed', async () => (await statusOf(rig, 'lead-budget')) === 'completed');
  const done = await eventOf(rig, 'lead-budget');
  assert.ok(done.attempts > failed.attempts, 'attempts keep counting (they fence writes)');
  assert.equal(rig.c2s.notes('lead-budget').length, 1);
});
