import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startEnrichment } from './helpers/enrichment.ts';
import { until } from './helpers/wait.ts';
import { eventStates, settled } from './helpers/workflow.ts';

test('an expired Work API token makes the event wait with a visible reason, then it completes', async (t) => {
  // Retry-After of a refused token is capped by RETRY_MAX_DELAY_MS, so the test need not wait 10 minutes.
  const rig = await startEnrichment(t, { RETRY_MAX_DELAY_MS: '1500' });
  rig.workApi.faults.failNext('cpf', { kind: 'expired_token' }, 2);
  const { leadId, event } = rig.lead('phone_only');
  await rig.service.post(event);

  // Operators see why it waits.
  const waiting = await until(
    'the event to wait for its retry with a reason',
    async () => (await eventStates(rig.service.db)).find((state) => state.error_code),
    10_000,
  );
  assert.equal(waiting.status, 'processing');
  assert.equal(waiting.error_code, 'workapi_token_refused');
  assert.match(waiting.error_message!, /fetch_dossier: the Work API refused the token/);
  // ...and when it runs next: `due_at`, moved past the retry delay.
  const { rows } = await rig.service.db.pool.query(
    `SELECT due_at > received_at + interval '1 second' AS later FROM webhook_events`,
  );
  assert.equal(rows[0].later, true);

  const [done] = await settled(rig.service.db);
  assert.deepEqual([done!.status, done!.outcome, done!.attempts], ['completed', 'enriched', 3]);
  assert.equal(rig.c2s.notes(leadId).length, 1);
  assert.equal(rig.diretrix.calls('phone'), 1, 'the CPF lookup that succeeded was not repeated');
  const metrics = await (await fetch(`${rig.service.url}/metrics`)).text();
  assert.match(
    metrics,
    /provider_calls_total\{provider="workapi",operation="cpf",result="workapi_token_refused"\} 2/,
  );
});

test('a Diretrix 429 is retried after its Retry-After', async (t) => {
  const rig = await startEnrichment(t);
  rig.diretrix.faults.failNext('email', { kind: 'status', status: 429, retryAfterSeconds: 2 });
  const { leadId, event } = rig.lead('email_only');
  await rig.service.post(event);
  const [done] = await settled(rig.service.db);
  assert.deepEqual([done!.status, done!.attempts], ['completed', 2]);
  assert.equal(rig.c2s.notes(leadId).length, 1);
  const { rows } = await rig.service.db.pool.query(
    `SELECT extract(epoch FROM (processed_at - received_at)) * 1000 AS took_ms FROM webhook_events`,
  );
  assert.ok(Number(rows[0].took_ms) >= 1900, `finished ${rows[0].took_ms} ms after arrival`);
});

test('a malformed provider body fails the event at once with a clear reason', async (t) => {
  const rig = await startEnrichment(t);
  rig.workApi.faults.failNext('cpf', { kind: 'malformed_body' });
  const { leadId, event } = rig.lead('cpf_in_description');
  await rig.service.post(event);
  const [failed] = await settled(rig.service.db);
  assert.deepEqual(
    [failed!.status, failed!.attempts, failed!.error_code],
    ['failed', 1, 'workapi_malformed_body'],
  );
  assert.match(failed!.error_message!, /^fetch_dossier: the Work API answered a body that is not JSON/);
  assert.equal(rig.c2s.notes(leadId).length, 0);
});

test('a C2S 5xx, then success, posts one note', async (t) => {
  const rig = await startEnrichment(t);
  rig.c2s.faults.failNext('create_message', { kind: 'status', status: 502 });
  const { leadId, event } = rig.lead('same_person');
  await rig.service.post(event);
  const [done] = await settled(rig.service.db);
  assert.deepEqual([done!.status, done!.outcome], ['completed', 'enriched']);
  assert.equal(rig.c2s.notes(leadId).length, 1);
  assert.equal(rig.workApi.calls('cpf'), 1, 'the dossier was not fetched again');
});

test('a provider that keeps timing out opens its circuit instead of being hammered', async (t) => {
  const rig = await startEnrichment(t, {
    DIRETRIX_TIMEOUT_MS: '200',
    RETRY_MAX_ATTEMPTS: '8',
    RETRY_MAX_DELAY_MS: '300',
  });
  rig.diretrix.faults.set('email', { errorRate: 1, errorFault: { kind: 'hang' } });
  await rig.service.post(rig.lead('email_only').event);
  const [failed] = await settled(rig.service.db, 60_000);
  assert.equal(failed!.status, 'failed');
  assert.ok(
    rig.diretrix.calls('email') <= 5,
    `diretrix was called ${rig.diretrix.calls('email')} times for 8 attempts`,
  );
  assert.match(failed!.error_message!, /retries exhausted/);
  assert.equal(failed!.error_code, 'diretrix_circuit_open');
});
