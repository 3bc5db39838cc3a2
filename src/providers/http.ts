import { Agent, errors, request, type Dispatcher } from 'undici';
import {
  ProviderNotFoundError,
  ProviderOutcomeUnknownError,
  ProviderRateLimitedError,
  ProviderRejectedError,
  ProviderResponseTooLargeError,
  ProviderServerError,
  ProviderTimeoutError,
  ProviderUnauthorizedError,
  ProviderUnavailableError,
  ProviderUnreachableError,
  type ProviderError,
  type ProviderMethod,
  type ProviderName,
} from '../errors.ts';

/** One connection pool for every provider call, with explicit timeouts. */
export function createHttpAgent(timeouts: { connectMs: number; responseMs: number }): Agent {
  return new Agent({
    connect: { timeout: timeouts.connectMs },
    headersTimeout: timeouts.responseMs,
    bodyTimeout: timeouts.responseMs,
    keepAliveTimeout: 10_000,
  });
}

/** The largest answer body a provider call reads unless the call says otherwise: 2 MiB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 2 * 1024 * 1024;

export interface ProviderCall {
  readonly provider: ProviderName;
  readonly method: ProviderMethod;
  readonly url: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** The caller's own signal (the worker stopping); its abort surfaces as a transport failure. */
  readonly signal?: AbortSignal;
  /** Total deadline: from the start of the call to the last byte of the answer's body. */
  readonly timeoutMs?: number;
  /** The largest body read (bytes); a bigger answer fails the call. Default 2 MiB. */
  readonly maxResponseBytes?: number;
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

/** The abort reason of a call whose total deadline passed. */
class DeadlineExceeded extends Error {
  override readonly name = 'DeadlineExceeded';
}

/** The body went over the call's size cap (by its Content-Length, or counted while streaming). */
class ResponseTooLarge extends Error {
  override readonly name = 'ResponseTooLarge';
}

/**
 * Sends one request and reads its answer within a total deadline (`timeoutMs`, headers and body
 * together: a provider trickling its body cannot keep the call alive) and a size cap
 * (`maxResponseBytes`: the stream is destroyed as soon as the body goes over it, so memory stays
 * bounded). Failures become typed errors (`ProviderError`s): for a POST, a failure after the
 * request went out (timeout, connection dropped, answer too large) has `outcomeUnknown`: it may
 * have landed.
 * Messages name the provider, never the URL (which can carry tokens or personal data).
 */
export async function callProvider(dispatcher: Dispatcher, call: ProviderCall): Promise<ProviderAnswer> {
  const maxBytes = call.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const deadline = new AbortController();
  const timer =
    call.timeoutMs === undefined
      ? undefined
      : setTimeout(() => deadline.abort(new DeadlineExceeded('deadline exceeded')), call.timeoutMs);
  const signal = call.signal ? AbortSignal.any([call.signal, deadline.signal]) : deadline.signal;
  let response: Dispatcher.ResponseData | undefined;
  try {
    response = await request(call.url, {
      dispatcher,
      method: call.method,
      headers: call.headers,
      body: call.body,
      signal,
      // Undici's per-phase timeouts stay as a backstop; the total deadline above comes first.
      ...(call.timeoutMs === undefined
        ? {}
        : { headersTimeout: call.timeoutMs, bodyTimeout: call.timeoutMs }),
    });
    const text = await readCapped(response.body, response.headers['content-length'], maxBytes);
    return { status: response.statusCode, headers: response.headers, text };
  } catch (error) {
    // Never leave a body half read: destroying it frees the socket (and its buffers) at once.
    if (response && !response.body.destroyed) response.body.destroy();
    if (error instanceof ResponseTooLarge) throw tooLargeError(call, maxBytes, error);
    const timedOut =
      (signal.aborted && signal.reason instanceof DeadlineExceeded) ||
      error instanceof errors.HeadersTimeoutError ||
      error instanceof errors.BodyTimeoutError;
    throw timedOut ? timeoutError(call, error) : transportError(call, error);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads a body as UTF-8 text, refusing it (and destroying the stream) beyond `maxBytes`. */
async function readCapped(
  body: Dispatcher.ResponseData['body'],
  contentLength: string | string[] | undefined,
  maxBytes: number,
): Promise<string> {
  const declared = Number(Array.isArray(contentLength) ? contentLength[0] : contentLength);
  if (Number.isFinite(declared) && declared > maxBytes) {
    body.destroy();
    throw new ResponseTooLarge(`declared ${declared} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy();
      throw new ResponseTooLarge(`more than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

/** A deadline passed: retry a GET; a POST may have landed. */
function timeoutError(call: ProviderCall, error: unknown): ProviderError {
  const options = { cause: error, timeoutMs: call.timeoutMs };
  return call.method === 'POST'
    ? new ProviderOutcomeUnknownError(call.provider, { ...options, reason: 'timeout' })
    : new ProviderTimeoutError(call.provider, options);
}

/** An answer over the size cap: retry a GET; a POST was sent and may have landed. */
function tooLargeError(call: ProviderCall, maxBytes: number, error: unknown): ProviderError {
  return new ProviderResponseTooLargeError(call.provider, { cause: error, maxBytes, method: call.method });
}

function transportError(call: ProviderCall, error: unknown): ProviderError {
  const transportCode = (error as { code?: string }).code ?? '';
  if (NOT_SENT.has(transportCode))
    return new ProviderUnreachableError(call.provider, { cause: error, transportCode });
  return call.method === 'POST'
    ? new ProviderOutcomeUnknownError(call.provider, {
        cause: error,
        reason: 'connection_lost',
        transportCode,
      })
    : new ProviderUnavailableError(call.provider, { cause: error, transportCode });
}

/** Maps an HTTP status to the error it means; 429 and 5xx are retryable, other 4xx permanent. */
export function statusError(
  provider: ProviderName,
  method: ProviderMethod,
  answer: ProviderAnswer,
): ProviderError {
  const retryAfterHeader = answer.headers['retry-after'];
  const retryAfterMs = parseRetryAfter(
    Array.isArray(retryAfterHeader) ? retryAfterHeader[0] : retryAfterHeader,
  );
  const status = answer.status;
  if (status === 429) return new ProviderRateLimitedError(provider, { status, retryAfterMs });
  // A POST answered 5xx may still have been applied: its outcome is unknown.
  if (status >= 500) return new ProviderServerError(provider, { status, method, retryAfterMs });
  if (status === 401 || status === 403) return new ProviderUnauthorizedError(provider, { status });
  if (status === 404) return new ProviderNotFoundError(provider);
  return new ProviderRejectedError(provider, { status });
}

/** A Retry-After header (seconds, or an HTTP date) in milliseconds from `now`. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
