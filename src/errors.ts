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
export class DatabaseUnavailableError extends AppError {
  readonly code = 'database_unavailable';
  override readonly statusCode = 503;
  override readonly retryable = true;
}

/** The embedded PostgreSQL could not be started, or its data directory is in use. */
export class EmbeddedDatabaseError extends AppError {
  readonly code = 'embedded_database_failed';
}

/** Too much work is waiting: new webhooks are refused with 503 until the backlog drains. */
export class BacklogFullError extends AppError {
  readonly code = 'backlog_full';
  override readonly statusCode = 503;
  override readonly retryable = true;
}

/**
 * More events wait in this process for the database than it may hold in memory: the database is
 * slower than the webhooks coming in. Refused with 503 before anything is queued.
 */
export class IngestOverloadedError extends AppError {
  readonly code = 'ingest_overloaded';
  override readonly statusCode = 503;
  override readonly retryable = true;
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
 * A step failed but a later attempt may succeed (network, timeout, 5xx, 429, provider quota).
 * `retryAfterMs` carries a provider's Retry-After, which then sets the next attempt.
 */
export class RetryableError extends AppError {
  override readonly retryable = true;
  readonly code: string;
  readonly retryAfterMs: number | undefined;

  constructor(code: string, message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(message, options);
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

/** A step failed for good (other 4xx, invalid data): retrying cannot help. */
export class PermanentError extends AppError {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** The error code and retryability of anything a step threw; unknown errors are retried. */
export function classifyError(error: unknown): { code: string; retryable: boolean; retryAfterMs?: number } {
  if (error instanceof RetryableError)
    return { code: error.code, retryable: true, retryAfterMs: error.retryAfterMs };
  if (error instanceof AppError) return { code: error.code, retryable: error.retryable };
  if (isDatabaseUnavailable(error)) return { code: 'database_unavailable', retryable: true };
  // A bug or an unforeseen failure: retrying is safe (steps are checkpointed) and the
  // exhausted retries leave it visible as `failed`.
  return { code: 'unexpected_error', retryable: true };
}
