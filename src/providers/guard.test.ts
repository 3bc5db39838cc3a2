import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OutcomeUnknownError, PermanentError, RetryableError } from '../errors.ts';
import { createMetrics } from '../metrics.ts';
import { createProviderGuard, tokenBucket } from './guard.ts';

test('the bucket lets a burst through, then spaces calls at the rate', () => {
  let now = 0;
  const bucket = tokenBucket(60, () => now); // one a second, burst of 10
  const waits = Array.from({ length: 12 }, () => bucket.reserve());
  assert.deepEqual(waits.slice(0, 10), Array(10).fill(0));
  assert.deepEqual(waits.slice(10), [1000, 2000]);
  now = 5000;
  assert.equal(bucket.reserve(), 0, 'refilled after waiting');
});

test('a paused bucket makes the next call wait at least the pause', () => {
  const now = 0;
  const bucket = tokenBucket(600, () => now);
  bucket.pause(65_000);
  assert.ok(bucket.reserve() >= 65_000);
  assert.equal(tokenBucket(0).reserve(), 0, 'a rate of 0 means no limit');
});

test('transient failures open the circuit, which then refuses calls without calling', async () => {
  const metrics = createMetrics();
  const guard = createProviderGuard(
    'diretrix',
    { ratePerMinute: 0, breakerFailures: 3, breakerHalfOpenMs: 60_000 },
    metrics,
  );
  let calls = 0;
  const failing = async () => {
    calls++;
    throw new RetryableError('diretrix_server_error', 'diretrix answered 503');
  };
  for (let i = 0; i < 3; i++)
    await assert.rejects(guard.run('phone', failing), { code: 'diretrix_server_error' });
  await assert.rejects(guard.run('phone', failing), { code: 'diretrix_circuit_open' });
  assert.equal(calls, 3);
  const text = await metrics.registry.metrics();
  assert.match(
    text,
    /provider_calls_total\{provider="diretrix",operation="phone",result="diretrix_server_error"\} 3/,
  );
  assert.match(text, /provider_calls_total\{provider="diretrix",operation="phone",result="circuit_open"\} 1/);
});

test('permanent failures do not open the circuit; results are labelled', async () => {
  const metrics = createMetrics();
  const guard = createProviderGuard('workapi', { ratePerMinute: 0, breakerFailures: 2 }, metrics);
  for (let i = 0; i < 4; i++) {
    await assert.rejects(
      guard.run('cpf', async () => {
        throw new PermanentError('workapi_malformed_body', 'bad body');
      }),
      { code: 'workapi_malformed_body' },
    );
  }
  assert.equal(await guard.run('cpf', async () => ({ value: null, result: 'not_found' })), null);
  assert.match(await metrics.registry.metrics(), /result="not_found"\} 1/);
});

test('a call that would wait too long in the limiter is handed back for a durable retry', async () => {
  const guard = createProviderGuard('c2s', { ratePerMinute: 1, maxQueueWaitMs: 1000 }, createMetrics());
  assert.equal(await guard.run('note', async () => ({ value: 'first' })), 'first');
  await assert.rejects(
    guard.run('note', async () => ({ value: 'second' })),
    (error: RetryableError) => {
      assert.equal(error.code, 'c2s_rate_limited');
      assert.ok(error.retryAfterMs! > 1000);
      return true;
    },
  );
  // An outcome-unknown error is retryable too, and counted under its code.
  await assert.rejects(
    createProviderGuard('c2s', { ratePerMinute: 0 }, createMetrics()).run('note', async () => {
      throw new OutcomeUnknownError('c2s_outcome_unknown', 'timed out');
    }),
    { code: 'c2s_outcome_unknown' },
  );
});
