import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ProviderNotFoundError,
  ProviderRateLimitedError,
  ProviderRejectedError,
  ProviderServerError,
  ProviderUnauthorizedError,
} from '../errors.ts';
import { parseRetryAfter, statusError, type ProviderAnswer } from './http.ts';

test('Retry-After is read as seconds or as an HTTP date', () => {
  const now = Date.parse('2026-11-20T10:00:00Z');
  assert.equal(parseRetryAfter('65', now), 65_000);
  assert.equal(parseRetryAfter('Fri, 20 Nov 2026 10:00:30 GMT', now), 30_000);
  assert.equal(parseRetryAfter('Fri, 20 Nov 2026 09:00:00 GMT', now), 0);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter(undefined, now), undefined);
});

const answer = (status: number, headers: ProviderAnswer['headers'] = {}): ProviderAnswer => ({
  status,
  headers,
  text: '',
});

test('a status maps to the class of its failure, with the provider and its Retry-After', () => {
  const limited = statusError('diretrix', 'GET', answer(429, { 'retry-after': '2' }));
  assert.ok(limited instanceof ProviderRateLimitedError);
  assert.deepEqual(
    [limited.qualifiedCode, limited.status, limited.retryAfterMs, limited.retryable],
    ['diretrix_rate_limited', 429, 2000, true],
  );
  // A repeated header counts by its first value.
  assert.equal(statusError('c2s', 'GET', answer(429, { 'retry-after': ['3', '9'] })).retryAfterMs, 3000);

  const get5xx = statusError('workapi', 'GET', answer(503));
  assert.ok(get5xx instanceof ProviderServerError);
  assert.deepEqual([get5xx.qualifiedCode, get5xx.outcomeUnknown], ['workapi_server_error', false]);
  const post5xx = statusError('c2s', 'POST', answer(502, { 'retry-after': '1' }));
  assert.ok(post5xx instanceof ProviderServerError);
  assert.deepEqual(
    [post5xx.qualifiedCode, post5xx.outcomeUnknown, post5xx.retryAfterMs],
    ['c2s_server_error', true, 1000],
  );

  for (const status of [401, 403]) {
    const refused = statusError('c2s', 'POST', answer(status));
    assert.ok(refused instanceof ProviderUnauthorizedError);
    assert.deepEqual(
      [refused.qualifiedCode, refused.status, refused.retryable],
      ['c2s_unauthorized', status, false],
    );
  }
  const missing = statusError('c2s', 'GET', answer(404));
  assert.ok(missing instanceof ProviderNotFoundError);
  assert.equal(missing.qualifiedCode, 'c2s_not_found');
  const rejected = statusError('c2s_gateway', 'POST', answer(422));
  assert.ok(rejected instanceof ProviderRejectedError);
  assert.deepEqual(
    [rejected.qualifiedCode, rejected.status, rejected.outcomeUnknown],
    ['c2s_gateway_rejected', 422, false],
  );
});
