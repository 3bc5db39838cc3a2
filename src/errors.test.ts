import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AppError,
  BacklogFullError,
  ClientRateLimitedError,
  classifyError,
  codeOf,
  DatabaseUnavailableError,
  IngestOverloadedError,
  isOutcomeUnknown,
  OutcomeUnknownError,
  ProviderCircuitOpenError,
  ProviderError,
  ProviderMalformedBodyError,
  ProviderNotFoundError,
  ProviderOutcomeUnknownError,
  ProviderRateLimitedError,
  ProviderRejectedError,
  ProviderResponseTooLargeError,
  ProviderServerError,
  ProviderTimeoutError,
  ProviderTokenRefusedError,
  ProviderUnauthorizedError,
  ProviderUnavailableError,
  ProviderUnreachableError,
  REFUSAL_CODES,
  RefusalError,
  RetryableError,
} from './errors.ts';

/** Every provider error class, built as the HTTP layer, the guard and the clients build them. */
const cases: Array<{
  error: ProviderError;
  class: abstract new (...args: never[]) => ProviderError;
  code: string;
  qualifiedCode: string;
  retryable: boolean;
  outcomeUnknown?: boolean;
  retryAfterMs?: number;
}> = [
  {
    error: new ProviderRateLimitedError('c2s', { status: 429, retryAfterMs: 7000 }),
    class: ProviderRateLimitedError,
    code: 'rate_limited',
    qualifiedCode: 'c2s_rate_limited',
    retryable: true,
    retryAfterMs: 7000,
  },
  {
    error: new ProviderServerError('diretrix', { status: 503, method: 'GET' }),
    class: ProviderServerError,
    code: 'server_error',
    qualifiedCode: 'diretrix_server_error',
    retryable: true,
  },
  {
    error: new ProviderServerError('c2s', { status: 502, method: 'POST', retryAfterMs: 1000 }),
    class: ProviderServerError,
    code: 'server_error',
    qualifiedCode: 'c2s_server_error',
    retryable: true,
    outcomeUnknown: true,
    retryAfterMs: 1000,
  },
  {
    error: new ProviderUnauthorizedError('c2s', { status: 401 }),
    class: ProviderUnauthorizedError,
    code: 'unauthorized',
    qualifiedCode: 'c2s_unauthorized',
    retryable: false,
  },
  {
    error: new ProviderNotFoundError('c2s'),
    class: ProviderNotFoundError,
    code: 'not_found',
    qualifiedCode: 'c2s_not_found',
    retryable: false,
  },
  {
    error: new ProviderRejectedError('c2s_gateway', { status: 422 }),
    class: ProviderRejectedError,
    code: 'rejected',
    qualifiedCode: 'c2s_gateway_rejected',
    retryable: false,
  },
  {
    error: new ProviderUnreachableError('c2s', { transportCode: 'ECONNREFUSED' }),
    class: ProviderUnreachableError,
    code: 'unreachable',
    qualifiedCode: 'c2s_unreachable',
    retryable: true,
  },
  {
    error: new ProviderUnavailableError('workapi', { transportCode: 'ECONNRESET' }),
    class: ProviderUnavailableError,
    code: 'unavailable',
    qualifiedCode: 'workapi_unavailable',
    retryable: true,
  },
  {
    error: new ProviderTimeoutError('workapi', { timeoutMs: 800 }),
    class: ProviderTimeoutError,
    code: 'timeout',
    qualifiedCode: 'workapi_timeout',
    retryable: true,
  },
  {
    error: new ProviderOutcomeUnknownError('c2s', { reason: 'timeout', timeoutMs: 800 }),
    class: ProviderOutcomeUnknownError,
    code: 'outcome_unknown',
    qualifiedCode: 'c2s_outcome_unknown',
    retryable: true,
    outcomeUnknown: true,
  },
  {
    error: new ProviderOutcomeUnknownError('c2s_gateway', { reason: 'connection_lost' }),
    class: ProviderOutcomeUnknownError,
    code: 'outcome_unknown',
    qualifiedCode: 'c2s_gateway_outcome_unknown',
    retryable: true,
    outcomeUnknown: true,
  },
  {
    error: new ProviderResponseTooLargeError('diretrix', { maxBytes: 2048, method: 'GET' }),
    class: ProviderResponseTooLargeError,
    code: 'response_too_large',
    qualifiedCode: 'diretrix_response_too_large',
    retryable: true,
  },
  {
    error: new ProviderResponseTooLargeError('c2s', { maxBytes: 2048, method: 'POST' }),
    class: ProviderResponseTooLargeError,
    code: 'response_too_large',
    qualifiedCode: 'c2s_response_too_large',
    retryable: true,
    outcomeUnknown: true,
  },
  {
    error: new ProviderMalformedBodyError('workapi', {
      message: 'the Work API answered a body that is not JSON',
    }),
    class: ProviderMalformedBodyError,
    code: 'malformed_body',
    qualifiedCode: 'workapi_malformed_body',
    retryable: false,
  },
  {
    error: new ProviderCircuitOpenError('diretrix', { retryAfterMs: 30_000 }),
    class: ProviderCircuitOpenError,
    code: 'circuit_open',
    qualifiedCode: 'diretrix_circuit_open',
    retryable: true,
    retryAfterMs: 30_000,
  },
  {
    error: new ProviderTokenRefusedError('workapi', { status: 402, retryAfterMs: 600_000 }),
    class: ProviderTokenRefusedError,
    code: 'token_refused',
    qualifiedCode: 'workapi_token_refused',
    retryable: true,
    retryAfterMs: 600_000,
  },
];

test('each provider error has its literal code, its provider, its retryability and its qualified code', () => {
  for (const expected of cases) {
    const { error } = expected;
    const label = expected.qualifiedCode;
    assert.ok(error instanceof expected.class, label);
    assert.ok(error instanceof ProviderError && error instanceof AppError && error instanceof Error, label);
    assert.equal(error.name, expected.class.name, label);
    assert.equal(error.code, expected.code, label);
    assert.equal(error.provider, label.slice(0, -expected.code.length - 1), label);
    assert.equal(error.qualifiedCode, `${error.provider}_${error.code}`, label);
    assert.equal(error.qualifiedCode, expected.qualifiedCode, label);
    assert.equal(error.retryable, expected.retryable, label);
    assert.equal(error.outcomeUnknown, expected.outcomeUnknown ?? false, label);
    assert.equal(error.retryAfterMs, expected.retryAfterMs, label);
    assert.equal(isOutcomeUnknown(error), expected.outcomeUnknown ?? false, label);
    assert.ok(!(error instanceof RefusalError), `${label} never reaches an HTTP client as it is`);
    // What the workflow stores and counts is the qualified code.
    assert.deepEqual(
      classifyError(error),
      { code: expected.qualifiedCode, retryable: expected.retryable, retryAfterMs: expected.retryAfterMs },
      label,
    );
    assert.equal(codeOf(error), expected.qualifiedCode, label);
  }
  // One class per failure mode: no two classes share a code.
  const byCode = new Map(cases.map((c) => [c.code, c.class]));
  for (const c of cases) assert.equal(byCode.get(c.code), c.class);
});

test('context is on fields and cause; messages name the provider, never a URL', () => {
  const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
  const unreachable = new ProviderUnreachableError('c2s', { cause, transportCode: 'ECONNREFUSED' });
  assert.equal(unreachable.cause, cause);
  assert.equal(unreachable.transportCode, 'ECONNREFUSED');
  assert.equal(unreachable.message, 'c2s could not be reached (ECONNREFUSED)');

  const timeout = new ProviderTimeoutError('workapi', { timeoutMs: 800 });
  assert.equal(timeout.timeoutMs, 800);
  assert.equal(timeout.message, 'workapi call timed out after 800 ms');
  assert.ok(!('cause' in timeout), 'no cause when none was given');

  const lost = new ProviderOutcomeUnknownError('c2s', {
    reason: 'connection_lost',
    transportCode: 'ECONNRESET',
  });
  assert.deepEqual(
    [lost.reason, lost.transportCode, lost.timeoutMs],
    ['connection_lost', 'ECONNRESET', undefined],
  );
  assert.equal(lost.message, 'c2s call failed (ECONNRESET)');

  const server = new ProviderServerError('c2s', { status: 502, method: 'POST' });
  assert.equal(server.status, 502);
  assert.equal(server.message, 'c2s answered 502');

  const tooLarge = new ProviderResponseTooLargeError('diretrix', { maxBytes: 2097152, method: 'GET' });
  assert.equal(tooLarge.maxBytes, 2097152);
  assert.match(tooLarge.message, /over 2097152 bytes/);

  const refused = new ProviderTokenRefusedError('workapi', {
    status: 401,
    message: 'the Work API refused the token (status 401)',
  });
  assert.equal(refused.status, 401);
  assert.equal(refused.message, 'the Work API refused the token (status 401)');
});

test('matching is by class or literal code: a workflow error is no provider error', () => {
  const inFlight = new RetryableError('note_in_flight', 'another attempt may be posting', {
    retryAfterMs: 5,
  });
  assert.ok(!(inFlight instanceof ProviderError));
  assert.deepEqual(classifyError(inFlight), { code: 'note_in_flight', retryable: true, retryAfterMs: 5 });
  assert.equal(isOutcomeUnknown(inFlight), false);
  const unknown = new OutcomeUnknownError('c2s_outcome_unknown', 'rewrapped', { retryAfterMs: 60_000 });
  assert.equal(isOutcomeUnknown(unknown), true);
  assert.deepEqual(classifyError(unknown), {
    code: 'c2s_outcome_unknown',
    retryable: true,
    retryAfterMs: 60_000,
  });
  assert.deepEqual(classifyError(new Error('boom')), { code: 'unexpected_error', retryable: true });
  assert.equal(codeOf(new Error('boom')), undefined);
});

test('HTTP refusals carry a code of the catalogue and their status', () => {
  const refusals: Array<[RefusalError, number, string]> = [
    [new DatabaseUnavailableError('down'), 503, 'database_unavailable'],
    [new BacklogFullError('full'), 503, 'backlog_full'],
    [new IngestOverloadedError('busy'), 503, 'ingest_overloaded'],
    [new ClientRateLimitedError('slow down'), 429, 'rate_limited'],
  ];
  for (const [error, status, code] of refusals) {
    assert.ok(error instanceof RefusalError);
    assert.equal(error.statusCode, status);
    assert.equal(error.code, code);
    assert.ok((REFUSAL_CODES as readonly string[]).includes(error.code));
  }
  assert.equal(new Set(REFUSAL_CODES).size, REFUSAL_CODES.length);
});
