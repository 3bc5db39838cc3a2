/** When to try a failed event again: exponential backoff with full jitter, within a window. */
export interface RetryPolicy {
  /** First backoff ceiling; doubles each attempt. */
  readonly baseDelayMs: number;
  /** Ceiling of any one backoff (and of an honoured Retry-After). */
  readonly maxDelayMs: number;
  /** No attempt starts more than this long after the event's first attempt. */
  readonly windowMs: number;
  readonly maxAttempts: number;
}

/**
 * The default rides out a provider outage of at least six hours: attempts keep coming (at most
 * 30 minutes apart) for 12 hours or 60 attempts, whichever ends first.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseDelayMs: 5_000,
  maxDelayMs: 30 * 60_000,
  windowMs: 12 * 60 * 60_000,
  maxAttempts: 60,
};

/**
 * The delay before attempt `attempts + 1`, or undefined when retries are exhausted.
 * A Retry-After from the provider replaces the backoff (capped, never shorter than asked).
 */
export function nextRetryDelayMs(
  policy: RetryPolicy,
  attempts: number,
  elapsedMs: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number | undefined {
  if (attempts >= policy.maxAttempts) return undefined;
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempts - 1, 30));
  const delay =
    retryAfterMs !== undefined
      ? Math.min(Math.max(retryAfterMs, 0), policy.maxDelayMs)
      : Math.round(random() * ceiling);
  if (elapsedMs + delay > policy.windowMs) return undefined;
  return delay;
}
