import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PermanentError, RetryableError } from '../src/errors.ts';
import type { Step } from '../src/workflow/runner.ts';
import { leadEvent, startService } from './helpers/service.ts';
import { settled, stepRows } from './helpers/workflow.ts';

/** A step whose failures are scripted per lead: each call takes the next entry, then succeeds. */
function scriptedStep(
  name: string,
  script: Record<string, Array<() => Error>>,
  calls: Map<string, number>,
): Step {
  return {
    name,
    async run({ event }) {
      const n = calls.get(event.leadId) ?? 0;
      calls.set(event.leadId, n + 1);
      const fail = script[event.leadId]?.[n];
      if (fail) throw fail();
      return { output: { call: n + 1 } };
    },
  };
}

const fastRetries = { RETRY_BASE_DELAY_MS: '20' };

test('transient failures are retried and the run resumes at the failed step', async (t) => {
  const firstCalls = new Map<string, number>();
  const secondCalls = new Map<string, number>();
  const transient = () => new RetryableError('provider_unavailable', 'provider answered 503');
  const service = await startService(t, {
    role: 'all',
    env: fastRetries,
    workflow: () => [
      scriptedStep('lookup', {}, firstCalls),
      scriptedStep('fetch', { 'lead-t': [transient, transient, transient] }, secondCalls),
    ],
  });
  await service.post(leadEvent('lead-t', '2026-11-20T10:15:00Z'));
  const [event] = await settled(service.db);
  assert.equal(event!.status, 'completed');
  assert.equal(event!.attempts, 4);
  assert.equal(firstCalls.get('lead-t'), 1, 'a succeeded step is not run again');
  assert.equal(secondCalls.get('lead-t'), 4);
  assert.deepEqual(
    (await stepRows(service.db, event!.id)).map((s) => [s.step, s.status, s.attempts]),
    [
      ['lookup', 'succeeded', 1],
      ['fetch', 'succeeded', 4],
    ],
  );
  const metrics = await (await fetch(`${service.url}/metrics`)).text();
  assert.match(metrics, /workflow_retries_total\{code="provider_unavailable"\} 3/);
  assert.match(metrics, /workflow_step_errors_total\{step="fetch",code="provider_unavailable"\} 3/);
});

test('a replayable step is recorded with the next write, so a later failure keeps it', async (t) => {
  const replayCalls = new Map<string, number>();
  const fetchCalls = new Map<string, number>();
  const transient = () => new RetryableError('provider_unavailable', 'provider answered 503');
  const service = await startService(t, {
    role: 'all',
    env: fastRetries,
    workflow: () => [
      { ...scriptedStep('normalise', {}, replayCalls), replayable: true },
      scriptedStep('fetch', { 'lead-r': [transient] }, fetchCalls),
    ],
  });
  await service.post(leadEvent('lead-r', '2026-11-20T10:15:00Z'));
  const [event] = await settled(service.db);
  assert.equal(event!.status, 'completed');
  // Its record went out with the failure of the step after it: the retry did not run it again.
  assert.equal(replayCalls.get('lead-r'), 1);
  assert.deepEqual(
    (await stepRows(service.db, event!.id)).map((s) => [s.step, s.status, s.attempts]),
    [
      ['normalise', 'succeeded', 1],
      ['fetch', 'succeeded', 2],
    ],
  );
});

test('a Retry-After sets when the next attempt runs', async (t) => {
  const calls = new Map<string, number>();
  const service = await startService(t, {
    role: 'all',
    env: fastRetries,
    workflow: () => [
      scriptedStep(
        'call',
        { 'lead-ra': [() => new RetryableError('provider_rate_limited', '429', { retryAfterMs: 2500 })] },
        calls,
      ),
    ],
  });
  await service.post(leadEvent('lead-ra', '2026-11-20T10:15:00Z'));
  const [event] = await settled(service.db);
  assert.equal(event!.status, 'completed');
  assert.equal(calls.get('lead-ra'), 2);
  // The step's row holds its last (second) attempt.
  const { rows } = await service.db.pool.query(
    `SELECT extract(epoch FROM (s.started_at - e.received_at)) * 1000 AS after_ms
     FROM event_steps s JOIN webhook_events e ON e.id = s.event_id WHERE s.step = 'call'`,
  );
  assert.ok(Number(rows[0].after_ms) >= 2400, `second attempt began ${rows[0].after_ms} ms after arrival`);
});

test('a permanent failure fails at once with its reason, and a later event of the lead still runs', async (t) => {
  const calls = new Map<string, number>();
  const service = await startService(t, {
    role: 'all',
    env: fastRetries,
    workflow: () => [
      {
        name: 'validate',
        async run({ event }) {
          calls.set(event.leadId, (calls.get(event.leadId) ?? 0) + 1);
          if ((event.payload as { attributes: { bad?: boolean } }).attributes.bad) {
            throw new PermanentError('invalid_lead_data', 'the lead has no usable contact');
          }
          return {};
        },
      },
    ],
  });
  await service.post(leadEvent('lead-p', '2026-11-20T10:15:00Z', { bad: true }));
  const [failed] = await settled(service.db);
  assert.deepEqual(
    [failed!.status, failed!.attempts, failed!.error_code],
    ['failed', 1, 'invalid_lead_data'],
  );
  assert.match(failed!.error_message!, /validate: the lead has no usable contact/);

  await service.post(leadEvent('lead-p', '2026-11-20T11:15:00Z'));
  const states = await settled(service.db);
  assert.deepEqual(
    states.map((s) => s.status),
    ['failed', 'completed'],
  );
});

test('exhausted retries leave the event failed with the reason, without blocking the lead', async (t) => {
  const service = await startService(t, {
    role: 'all',
    env: { ...fastRetries, RETRY_MAX_ATTEMPTS: '3' },
    workflow: () => [
      {
        name: 'fetch',
        async run({ event }) {
          if (event.updatedAt.getUTCHours() === 10)
            throw new RetryableError('provider_timeout', 'provider timed out');
          return {};
        },
      },
    ],
  });
  await service.post(leadEvent('lead-x', '2026-11-20T10:15:00Z'));
  const [exhausted] = await settled(service.db);
  assert.deepEqual(
    [exhausted!.status, exhausted!.attempts, exhausted!.error_code],
    ['failed', 3, 'provider_timeout'],
  );
  assert.match(exhausted!.error_message!, /retries exhausted after 3 attempts/);

  await service.post(leadEvent('lead-x', '2026-11-20T11:15:00Z'));
  assert.deepEqual(
    (await settled(service.db)).map((s) => s.status),
    ['failed', 'completed'],
  );
});

test('an unexpected error is retried, and its message is stored and logged masked', async (t) => {
  let calls = 0;
  const service = await startService(t, {
    role: 'all',
    env: { ...fastRetries, RETRY_MAX_ATTEMPTS: '2' },
    workflow: () => [
      {
        name: 'buggy',
        async run() {
          calls++;
          throw new TypeError('cannot read ana.lima@example.com of 5511987654321');
        },
      },
    ],
  });
  await service.post(leadEvent('lead-u', '2026-11-20T10:15:00Z'));
  const [event] = await settled(service.db);
  assert.deepEqual([event!.status, event!.error_code, calls], ['failed', 'unexpected_error', 2]);
  assert.match(event!.error_message!, /a\*\*\*@e\*\*\*\.com of \*\*\*4321/);
  const stored = JSON.stringify(await service.db.pool.query(`SELECT * FROM event_steps`).then((r) => r.rows));
  const logs = service.logs.join('');
  for (const text of [stored, event!.error_message!, logs]) {
    assert.ok(!text.includes('ana.lima@example.com') && !text.includes('5511987654321'));
  }
});
