import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ProviderCircuitOpenError,
  ProviderMalformedBodyError,
  ProviderOutcomeUnknownError,
  ProviderRateLimitedError,
  ProviderServerError,
  ProviderTokenRefusedError,
} from '../errors.ts';
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

test('a bucket of burst 1 spaces every call at the rate, even after a quiet spell', () => {
  let now = 0;
  const bucket = tokenBucket(600, () => now, 1); // one every 100 ms
  assert.deepEqual(
    Array.from({ length: 4 }, () => bucket.reserve()),
    [0, 100, 200, 300],
  );
  now = 10_000;
  assert.deepEqual([bucket.reserve(), bucket.reserve()], [0, 100], 'a quiet spell earns one call, not ten');
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
    throw new ProviderServerError('diretrix', { status: 503, method: 'GET' });
  };
  for (let i = 0; i < 3; i++)
    await assert.rejects(guard.run('phone', failing), { qualifiedCode: 'diretrix_server_error' });
  await assert.rejects(guard.run('phone', failing), (error: unknown) => {
    assert.ok(error instanceof ProviderCircuitOpenError);
    assert.equal(error.qualifiedCode, 'diretrix_circuit_open');
    assert.equal(error.retryAfterMs, 60_000);
    return true;
  });
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
        throw new ProviderMalformedBodyError('workapi', { message: 'bad body' });
      }),
      { qualifiedCode: 'workapi_malformed_body' },
    );
  }
  assert.equal(await guard.run('cpf', async () => ({ value: null, result: 'not_found' })), null);
  const text = await metrics.registry.metrics();
  assert.match(text, /result="not_found"\} 1/);
  assert.match(
    text,
    /provider_calls_total\{provider="workapi",operation="cpf",result="workapi_malformed_body"\} 4/,
  );
});

test('a call that would wait too long in the limiter is handed back for a durable retry', async () => {
  const guard = createProviderGuard('c2s', { ratePerMinute: 1, maxQueueWaitMs: 1000 }, createMetrics());
  assert.equal(await guard.run('note', async () => ({ value: 'first' })), 'first');
  await assert.rejects(
    guard.run('note', async () => ({ value: 'second' })),
    (error: unknown) => {
      assert.ok(error instanceof ProviderRateLimitedError);
      assert.equal(error.qualifiedCode, 'c2s_rate_limited');
      assert.equal(error.status, undefined, 'refused by our own limiter, not by C2S');
      assert.ok(error.retryAfterMs! > 1000);
      return true;
    },
  );
  // An outcome-unknown error is retryable too, and counted under its code.
  await assert.rejects(
    createProviderGuard('c2s', { ratePerMinute: 0 }, createMetrics()).run('note', async () => {
      throw new ProviderOutcomeUnknownError('c2s', { reason: 'timeout' });
    }),
    { qualifiedCode: 'c2s_outcome_unknown', retryable: true, outcomeUnknown: true },
  );
});

test("a provider's 429 pauses the guard's limiter for its Retry-After; other waits do not", async () => {
  let now = 0;
  const realNow = Date.now;
  Date.now = () => now;
  try {
    const metrics = createMetrics();
    const guard = createProviderGuard('diretrix', { ratePerMinute: 600, maxQueueWaitMs: 1000 }, metrics);
    // A refused token carries a long retryAfterMs too, but it is no rate limit: no pause.
    await assert.rejects(
      guard.run('phone', async () => {
        throw new ProviderTokenRefusedError('diretrix', { status: 401, retryAfterMs: 600_000 });
      }),
      ProviderTokenRefusedError,
    );
    assert.equal(
      await guard.run('phone', async () => ({ value: 'still paced normally' })),
      'still paced normally',
    );
    // The provider's 429, matched by class: the next call is held back beyond the limiter's wait.
    await assert.rejects(
      guard.run('phone', async () => {
        throw new ProviderRateLimitedError('diretrix', { status: 429, retryAfterMs: 5_000 });
      }),
      { code: 'rate_limited', qualifiedCode: 'diretrix_rate_limited' },
    );
    let ran = false;
    await assert.rejects(
      guard.run('phone', async () => {
        ran = true;
        return { value: 'too soon' };
      }),
      (error: unknown) => {
        assert.ok(error instanceof ProviderRateLimitedError);
        assert.ok(error.retryAfterMs! >= 5_000, `asked to wait ${error.retryAfterMs} ms`);
        return true;
      },
    );
    assert.equal(ran, false, 'the call was handed back without reaching the provider');
    const text = await metrics.registry.metrics();
    assert.match(text, /result="diretrix_rate_limited"\} 1/);
    assert.match(text, /result="diretrix_token_refused"\} 1/);
    assert.match(text, /result="local_rate_limit"\} 1/);
    // Once the pause is over, calls go through again.
    now += 6_000;
    assert.equal(await guard.run('phone', async () => ({ value: 'after the pause' })), 'after the pause');
  } finally {
    Date.now = realNow;
  }
});
