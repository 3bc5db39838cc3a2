import { Agent, errors, request, type Dispatcher } from 'undici';
import { OutcomeUnknownError, PermanentError, RetryableError } from '../errors.ts';
import { parseRetryAfter } from '../workflow/retry.ts';

/** One connection pool for every provider call, with explicit timeouts. */
export function createHttpAgent(timeouts: { connectMs: number; responseMs: number }): Agent {
  return new Agent({
    connect: { timeout: timeouts.connectMs },
    headersTimeout: timeouts.responseMs,
    bodyTimeout: timeouts.responseMs,
    keepAliveTimeout: 10_000,
  });
}

export interface ProviderCall {
  readonly provider: string;
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly signal?: AbortSignal;
  /** Time for the answer's headers, then again for its body. */
  readonly timeoutMs?: number;
}

export interface ProviderAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/** Errors that happen before anything reached the provider: a retry cannot duplicate work. */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * Sends one request and maps transport failures to typed errors. For a POST, a failure after the
 * request went out (timeout, connection dropped) is `OutcomeUnknownError`: it may have landed.
 * Messages name the provider, never the URL (which can carry tokens or personal data).
 */
export async function callProvider(dispatcher: Dispatcher, call: ProviderCall): Promise<ProviderAnswer> {
  let response: Dispatcher.ResponseData;
  try {
    response = await request(call.url, {
      dispatcher,
      method: call.method,
      headers: call.headers,
      body: call.body,
      signal: call.signal,
      ...(call.timeoutMs === undefined
        ? {}
        : { headersTimeout: call.timeoutMs, bodyTimeout: call.timeoutMs }),
    });
  } catch (error) {
    throw transportError(call, error);
  }
  let text: string;
  try {
    text = await response.body.text();
  } catch (error) {
    throw transportError(call, error);
  }
  return { status: response.statusCode, headers: response.headers, text };
}

function transportError(call: ProviderCall, error: unknown): Error {
  const code = (error as { code?: string }).code ?? '';
  if (NOT_SENT.has(code)) {
    return new RetryableError(
      `${call.provider}_unreachable`,
      `${call.provider} could not be reached (${code})`,
      {
        cause: error,
      },
    );
  }
  const what =
    error instanceof errors.HeadersTimeoutError || error instanceof errors.BodyTimeoutError
      ? 'timed out'
      : `failed (${code || 'connection lost'})`;
  const ErrorClass = call.method === 'POST' ? OutcomeUnknownError : RetryableError;
  const suffix = call.method === 'POST' ? '_outcome_unknown' : '_unavailable';
  return new ErrorClass(`${call.provider}${suffix}`, `${call.provider} call ${what}`, { cause: error });
}

/** Maps an HTTP status to the error it means; 429 and 5xx are retryable, other 4xx permanent. */
export function statusError(provider: string, method: 'GET' | 'POST', answer: ProviderAnswer): Error {
  const retryAfterHeader = answer.headers['retry-after'];
  const retryAfterMs = parseRetryAfter(
    Array.isArray(retryAfterHeader) ? retryAfterHeader[0] : retryAfterHeader,
  );
  if (answer.status === 429) {
    return new RetryableError(`${provider}_rate_limited`, `${provider} answered 429`, { retryAfterMs });
  }
  if (answer.status >= 500) {
    // A POST answered 5xx may still have been applied: treat its outcome as unknown.
    const ErrorClass = method === 'POST' ? OutcomeUnknownError : RetryableError;
    return new ErrorClass(`${provider}_server_error`, `${provider} answered ${answer.status}`, {
      retryAfterMs,
    });
  }
  if (answer.status === 401 || answer.status === 403) {
    return new PermanentError(
      `${provider}_unauthorized`,
      `${provider} refused our credentials (${answer.status})`,
    );
  }
  if (answer.status === 404) return new PermanentError(`${provider}_not_found`, `${provider} answered 404`);
  return new PermanentError(`${provider}_rejected`, `${provider} answered ${answer.status}`);
}
