/**
 * The catalogue of the service's errors. Each has a stable `code` (used in metrics, API answers
 * and the database), an HTTP status where it reaches a client, and whether retrying can help.
 * Context goes on fields and `cause`, never into the message, so messages stay free of personal data.
 */
export abstract class AppError extends Error {
  abstract readonly code: string;
  readonly statusCode: number = 500;
  readonly retryable: boolean = false;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

// --- HTTP refusals -------------------------------------------------------------------------------

/**
 * Every `error` code an HTTP client of ours can get. The answers' schemas declare exactly these
 * (see src/webhooks/schemas.ts), so a code missing here fails to type-check.
 */
export const REFUSAL_CODES = [
  'unauthorized',
  'forbidden',
  'rate_limited',
  'payload_too_large',
  'too_many_events',
  'unsupported_media_type',
  'malformed_json',
  'empty_batch',
  'invalid_events',
  'database_unavailable',
  'backlog_full',
  'ingest_overloaded',
  'bad_request',
  'not_found',
  'internal_error',
] as const;
export type RefusalCode = (typeof REFUSAL_CODES)[number];

/** An error that reaches an HTTP client as it is: its status and one of the refusal codes. */
export abstract class RefusalError extends AppError {
  abstract override readonly code: RefusalCode;
}

/** Configuration that cannot start the service; `problems` lists every one found. */
export class ConfigError extends AppError {
  readonly code = 'config_invalid';
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

/** The database cannot be reached or refuses work for now: clients should retry later. */
export class DatabaseUnavailableError extends RefusalError {
  readonly code = 'database_unavailable';
  override readonly statusCode = 503;
  override readonly retryable = true;
}

/** The embedded PostgreSQL could not be started, or its data directory is in use. */
export class EmbeddedDatabaseError extends AppError {
  readonly code = 'embedded_database_failed';
}

/** Too much work is waiting: new webhooks are refused with 503 until the backlog drains. */
export class BacklogFullError extends RefusalError {
  readonly code = 'backlog_full';
  override readonly statusCode = 503;
  override readonly retryable = true;
}

/**
 * More events wait in this process for the database than it may hold in memory: the database is
 * slower than the webhooks coming in. Refused with 503 before anything is queued.
 */
export class IngestOverloadedError extends RefusalError {
  readonly code = 'ingest_overloaded';
  override readonly statusCode = 503;
  override readonly retryable = true;
}

/** A client over its per-minute request limit (WEBHOOK_RATE_LIMIT_PER_MINUTE): 429. */
export class ClientRateLimitedError extends RefusalError {
  readonly code = 'rate_limited';
  override readonly statusCode = 429;
}

/**
 * SQLSTATEs and socket errors that mean "the database cannot take work now", not "the query is
 * wrong": connection failures (08), resources (53), shutdown (57P0x), refused logins (28, 3D000,
 * 55000 "not accepting connections") and a read-only server after a failover (25006).
 */
const UNAVAILABLE_SQLSTATE = /^(08|53|28|57P0[1-3]$|3D000$|55000$|25006$)/;
const UNAVAILABLE_SOCKET = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EPIPE',
  'EHOSTUNREACH',
]);

/** Whether a `pg` error means the database is unavailable (retry later) rather than a bug. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_SOCKET.has(code)))
    return true;
  // pg reports pool and connection timeouts and a closed connection only through the message.
  return /timeout exceeded when trying to connect|Connection terminated|connection timeout|Client has encountered a connection error/i.test(
    error.message,
  );
}

/**
 * A step failed but a later attempt may succeed. The workflow's own transient failures (a note
 * another attempt may be posting, a test's stand-in); providers' failures are `ProviderError`s.
 * `retryAfterMs`, when set, sets the next attempt.
 */
export class RetryableError extends AppError {
  override readonly retryable = true;
  readonly code: string;
  readonly retryAfterMs: number | undefined;

  constructor(code: string, message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(message, causeOf(options));
    this.code = code;
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/** A call that may or may not have taken effect (timeout or connection lost after sending). */
export class OutcomeUnknownError extends RetryableError {}

/**
 * This worker no longer holds the event it was running: its lease ran out (a stall, a partition
 * from the database) and another worker may have taken it. The run stops without writing.
 */
export class LeaseLostError extends AppError {
  readonly code = 'lease_lost';
  constructor() {
    super('the lease on this event was lost; another worker may be running it');
  }
}

/** A step failed for good (invalid data): retrying cannot help. */
export class PermanentError extends AppError {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, causeOf(options));
    this.code = code;
  }
}

// --- Providers ------------------------------------------------------------------------------------

/** Who a provider call went to; `c2s_gateway` is the older deployment's gateway for notes. */
export type ProviderName = 'c2s' | 'c2s_gateway' | 'diretrix' | 'workapi';

/** Every way a provider call fails: one class each, below. */
export type ProviderErrorCode =
  | 'rate_limited'
  | 'server_error'
  | 'unauthorized'
  | 'not_found'
  | 'rejected'
  | 'unreachable'
  | 'unavailable'
  | 'timeout'
  | 'outcome_unknown'
  | 'response_too_large'
  | 'malformed_body'
  | 'circuit_open'
  | 'token_refused';

/** The code operators see in metrics, alerts and stored rows: `c2s_rate_limited`, `workapi_timeout`. */
export type QualifiedProviderCode = `${ProviderName}_${ProviderErrorCode}`;

export interface ProviderErrorOptions {
  /** The lower-level failure (undici's error, a parse error): for logs, never in the message. */
  readonly cause?: unknown;
  /** Replaces the default message (which names the provider and the failure, never a URL). */
  readonly message?: string;
  /** How long the provider asked us to wait (its Retry-After), or our own pause. */
  readonly retryAfterMs?: number | undefined;
}

/** The request method of a call that was sent: a failed POST may still have taken effect. */
export type ProviderMethod = 'GET' | 'POST';

/**
 * A provider call failed. `code` is the failure mode alone (`rate_limited`), `provider` who
 * failed; matching is by class or by `code`, never by the text of a code. `qualifiedCode` joins
 * the two into what metrics, alerts and stored rows show. Context (statuses, limits, Retry-After,
 * the underlying error as `cause`) is on fields; messages never carry URLs (they can hold tokens
 * and personal data).
 */
export abstract class ProviderError extends AppError {
  abstract override readonly code: ProviderErrorCode;
  readonly provider: ProviderName;
  readonly retryAfterMs: number | undefined;
  /** A POST that failed after it was sent and may have landed: look before posting it again. */
  readonly outcomeUnknown: boolean;

  protected constructor(
    provider: ProviderName,
    message: string,
    options: ProviderErrorOptions & { readonly outcomeUnknown?: boolean } = {},
  ) {
    super(options.message ?? message, causeOf(options));
    this.provider = provider;
    this.retryAfterMs = options.retryAfterMs;
    this.outcomeUnknown = options.outcomeUnknown ?? false;
  }

  /** `${provider}_${code}`: computed here, and only here. */
  get qualifiedCode(): QualifiedProviderCode {
    return `${this.provider}_${this.code}`;
  }
}

/** 429 (from the provider, in the Work API's body, or our own limiter's pacing): retry after a pause. */
export class ProviderRateLimitedError extends ProviderError {
  readonly code = 'rate_limited';
  override readonly retryable = true;
  /** The provider's status (429), or undefined when our own limiter refused the call. */
  readonly status: number | undefined;

  constructor(provider: ProviderName, options: ProviderErrorOptions & { readonly status?: number } = {}) {
    super(provider, `${provider} answered 429`, options);
    this.status = options.status;
  }
}

/** 5xx (or a 5xx status in the Work API's body): retryable; a POST so answered may have been applied. */
export class ProviderServerError extends ProviderError {
  readonly code = 'server_error';
  override readonly retryable = true;
  readonly status: number;

  constructor(
    provider: ProviderName,
    options: ProviderErrorOptions & { readonly status: number; readonly method: ProviderMethod },
  ) {
    super(provider, `${provider} answered ${options.status}`, {
      ...options,
      outcomeUnknown: options.method === 'POST',
    });
    this.status = options.status;
  }
}

/** 401 or 403: our credentials are refused; retrying cannot help until someone acts. */
export class ProviderUnauthorizedError extends ProviderError {
  readonly code = 'unauthorized';
  readonly status: number;

  constructor(provider: ProviderName, options: ProviderErrorOptions & { readonly status: number }) {
    super(provider, `${provider} refused our credentials (${options.status})`, options);
    this.status = options.status;
  }
}

/** 404 where the thing must exist (a lead in C2S). */
export class ProviderNotFoundError extends ProviderError {
  readonly code = 'not_found';
  readonly status = 404;

  constructor(provider: ProviderName, options: ProviderErrorOptions = {}) {
    super(provider, `${provider} answered 404`, options);
  }
}

/** Any other 4xx: the provider refuses this request as it is. */
export class ProviderRejectedError extends ProviderError {
  readonly code = 'rejected';
  readonly status: number;

  constructor(provider: ProviderName, options: ProviderErrorOptions & { readonly status: number }) {
    super(provider, `${provider} answered ${options.status}`, options);
    this.status = options.status;
  }
}

/** Nothing reached the provider (refused, no route, DNS, connect timeout): a retry cannot duplicate work. */
export class ProviderUnreachableError extends ProviderError {
  readonly code = 'unreachable';
  override readonly retryable = true;
  /** The socket or undici error code (`ECONNREFUSED`, `UND_ERR_CONNECT_TIMEOUT`, …). */
  readonly transportCode: string;

  constructor(provider: ProviderName, options: ProviderErrorOptions & { readonly transportCode: string }) {
    super(provider, `${provider} could not be reached (${options.transportCode})`, options);
    this.transportCode = options.transportCode;
  }
}

/** A GET failed after it was sent (connection lost, or the caller's abort): retryable. */
export class ProviderUnavailableError extends ProviderError {
  readonly code = 'unavailable';
  override readonly retryable = true;
  /** The socket or undici error code, when there is one. */
  readonly transportCode: string | undefined;

  constructor(
    provider: ProviderName,
    options: ProviderErrorOptions & { readonly transportCode?: string } = {},
  ) {
    super(provider, `${provider} call failed (${options.transportCode || 'connection lost'})`, options);
    this.transportCode = options.transportCode || undefined;
  }
}

/** A GET passed its total deadline: retryable. (A POST that does is `ProviderOutcomeUnknownError`.) */
export class ProviderTimeoutError extends ProviderError {
  readonly code = 'timeout';
  override readonly retryable = true;
  readonly timeoutMs: number | undefined;

  constructor(provider: ProviderName, options: ProviderErrorOptions & { readonly timeoutMs?: number } = {}) {
    super(provider, `${provider} call timed out${after(options.timeoutMs)}`, options);
    this.timeoutMs = options.timeoutMs;
  }
}

/**
 * A POST timed out or lost its connection after it was sent: it may have landed. Retryable, but
 * only after looking whether it did (`outcomeUnknown`).
 */
export class ProviderOutcomeUnknownError extends ProviderError {
  readonly code = 'outcome_unknown';
  override readonly retryable = true;
  /** Why the outcome is unknown: the deadline passed, or the connection was lost. */
  readonly reason: 'timeout' | 'connection_lost';
  readonly timeoutMs: number | undefined;
  readonly transportCode: string | undefined;

  constructor(
    provider: ProviderName,
    options: ProviderErrorOptions &
      (
        | { readonly reason: 'timeout'; readonly timeoutMs?: number }
        | { readonly reason: 'connection_lost'; readonly transportCode?: string }
      ),
  ) {
    super(
      provider,
      options.reason === 'timeout'
        ? `${provider} call timed out${after(options.timeoutMs)}`
        : `${provider} call failed (${options.transportCode || 'connection lost'})`,
      { ...options, outcomeUnknown: true },
    );
    this.reason = options.reason;
    this.timeoutMs = options.reason === 'timeout' ? options.timeoutMs : undefined;
    this.transportCode =
      options.reason === 'connection_lost' ? options.transportCode || undefined : undefined;
  }
}

/** The answer's body went over the call's size cap: retryable; a POST so answered was sent. */
export class ProviderResponseTooLargeError extends ProviderError {
  readonly code = 'response_too_large';
  override readonly retryable = true;
  readonly maxBytes: number;

  constructor(
    provider: ProviderName,
    options: ProviderErrorOptions & { readonly maxBytes: number; readonly method: ProviderMethod },
  ) {
    super(provider, `${provider} answered a body over ${options.maxBytes} bytes`, {
      ...options,
      outcomeUnknown: options.method === 'POST',
    });
    this.maxBytes = options.maxBytes;
  }
}

/** The provider answered a body we cannot read (not JSON, not the expected shape): permanent. */
export class ProviderMalformedBodyError extends ProviderError {
  readonly code = 'malformed_body';

  constructor(provider: ProviderName, options: ProviderErrorOptions = {}) {
    super(provider, `${provider} answered a body that cannot be read`, options);
  }
}

/** Our circuit breaker is open after consecutive failures: no call was made; retry after it half-opens. */
export class ProviderCircuitOpenError extends ProviderError {
  readonly code = 'circuit_open';
  override readonly retryable = true;

  constructor(provider: ProviderName, options: ProviderErrorOptions = {}) {
    super(provider, `${provider} is failing; calls paused`, options);
  }
}

/**
 * The provider refused our token (expired, or its quota used up; the Work API says so in its
 * body): an outage for every call until someone acts, so retried after a long pause.
 */
export class ProviderTokenRefusedError extends ProviderError {
  readonly code = 'token_refused';
  override readonly retryable = true;
  readonly status: number;

  constructor(provider: ProviderName, options: ProviderErrorOptions & { readonly status: number }) {
    super(provider, `${provider} refused the token (status ${options.status})`, options);
    this.status = options.status;
  }
}

// --- Classification -------------------------------------------------------------------------------

/** Our own limiter held the call back (no provider was asked): a wait, not a failure. */
export function isLocalPacing(error: unknown): boolean {
  return error instanceof ProviderRateLimitedError && error.status === undefined;
}

/** The stable code of one of our errors (a provider's qualified), or undefined for anything else. */
export function codeOf(error: unknown): string | undefined {
  if (error instanceof ProviderError) return error.qualifiedCode;
  if (error instanceof AppError) return error.code;
  return undefined;
}

/** Whether a failed call may still have taken effect: a POST timed out, lost, or answered 5xx. */
export function isOutcomeUnknown(error: unknown): error is OutcomeUnknownError | ProviderError {
  return error instanceof OutcomeUnknownError || (error instanceof ProviderError && error.outcomeUnknown);
}

/** The error code and retryability of anything a step threw; unknown errors are retried. */
export function classifyError(error: unknown): { code: string; retryable: boolean; retryAfterMs?: number } {
  if (error instanceof ProviderError || error instanceof RetryableError)
    return { code: codeOf(error)!, retryable: error.retryable, retryAfterMs: error.retryAfterMs };
  if (error instanceof AppError) return { code: error.code, retryable: error.retryable };
  if (isDatabaseUnavailable(error)) return { code: 'database_unavailable', retryable: true };
  // A bug or an unforeseen failure: retrying is safe (steps are checkpointed) and the
  // exhausted retries leave it visible as `failed`.
  return { code: 'unexpected_error', retryable: true };
}

function after(timeoutMs: number | undefined): string {
  return timeoutMs === undefined ? '' : ` after ${timeoutMs} ms`;
}

/** `{ cause }` only when there is one: no own `cause: undefined` on the error. */
function causeOf(options: { readonly cause?: unknown } | undefined): { cause: unknown } | undefined {
  return options?.cause === undefined ? undefined : { cause: options.cause };
}
