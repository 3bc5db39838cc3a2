import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_RETRY_POLICY, nextRetryDelayMs, type RetryPolicy } from './retry.ts';

const policy: RetryPolicy = { baseDelayMs: 1000, maxDelayMs: 60_000, windowMs: 3_600_000, maxAttempts: 10 };

test('backoff ceilings double per attempt up to the maximum, with full jitter below them', () => {
  assert.equal(
    nextRetryDelayMs(policy, 1, 0, undefined, () => 0.999999),
    1000,
  );
  assert.equal(
    nextRetryDelayMs(policy, 2, 0, undefined, () => 0.999999),
    2000,
  );
  assert.equal(
    nextRetryDelayMs(policy, 5, 0, undefined, () => 0.999999),
    16_000,
  );
  assert.equal(
    nextRetryDelayMs(policy, 9, 0, undefined, () => 0.999999),
    60_000,
  );
  assert.equal(
    nextRetryDelayMs(policy, 3, 0, undefined, () => 0),
    0,
  );
  assert.equal(
    nextRetryDelayMs(policy, 3, 0, undefined, () => 0.5),
    2000,
  );
});

test('a Retry-After replaces the backoff, capped at the maximum delay', () => {
  assert.equal(
    nextRetryDelayMs(policy, 1, 0, 7000, () => 0),
    7000,
  );
  assert.equal(
    nextRetryDelayMs(policy, 1, 0, 3_600_000, () => 0),
    60_000,
  );
});

test('retries stop after the last attempt or past the window', () => {
  assert.equal(nextRetryDelayMs(policy, 10, 0, undefined), undefined);
  assert.equal(nextRetryDelayMs(policy, 2, 3_599_000, 5000), undefined);
  assert.equal(nextRetryDelayMs(policy, 2, 3_500_000, 5000), 5000);
});

test('the default schedule keeps trying through a six-hour outage', () => {
  let elapsed = 0;
  let attempts = 1;
  // Worst case for reaching six hours: every jittered delay as long as it can be.
  for (;;) {
    const delay = nextRetryDelayMs(DEFAULT_RETRY_POLICY, attempts, elapsed, undefined, () => 0.999999);
    if (delay === undefined) break;
    elapsed += delay;
    attempts++;
  }
  assert.ok(elapsed >= 6 * 3_600_000, `gave up after ${elapsed / 3_600_000} h`);
  // And even with short delays (all jitter near zero) it keeps going for the whole window.
  let quick = 0;
  let tries = 1;
  while (nextRetryDelayMs(DEFAULT_RETRY_POLICY, tries, quick, undefined, () => 0.5) !== undefined) {
    quick += nextRetryDelayMs(DEFAULT_RETRY_POLICY, tries, quick, undefined, () => 0.5)!;
    tries++;
  }
  assert.ok(quick >= 6 * 3_600_000, `with average jitter gave up after ${quick / 3_600_000} h`);
});
