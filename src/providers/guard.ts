import { circuitBreaker, ConsecutiveBreaker, handleWhen, isBrokenCircuitError } from 'cockatiel';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AppError,
  codeOf,
  ProviderCircuitOpenError,
  ProviderRateLimitedError,
  type ProviderName,
} from '../errors.ts';
import type { Metrics } from '../metrics.ts';
import type { HealthRecorder } from './health.ts';

export interface GuardOptions {
  /** Calls per minute allowed through this process; 0 means no limit (simulators, benchmarks). */
  readonly ratePerMinute: number;
  /**
   * Calls that may go at once after a quiet spell (default: a few seconds' worth, at most 10).
   * 1 spaces every call at the rate: for a provider that counts calls in a sliding window.
   */
  readonly burst?: number;
  /** Consecutive transient failures that open the circuit. */
  readonly breakerFailures?: number;
  /** How long an open circuit refuses calls before letting one through to test. */
  readonly breakerHalfOpenMs?: number;
  /** Longest a call waits in the limiter; beyond it the event is retried later instead. */
  readonly maxQueueWaitMs?: number;
  /** Where calls that reached the provider, and the breaker's state, are reported for `stats`. */
  readonly health?: HealthRecorder;
}

/** What a provider call returns to the guard's metrics: a result label besides `ok`. */
export type Labelled<T> = { readonly value: T; readonly result?: string };

/**
 * One per provider (and token): paces calls (a token bucket), stops hammering a provider that is
 * down (a circuit breaker over transient failures), and records calls, results and latency.
 * Durable retries are the workflow's job: the guard never retries by itself.
 */
export function createProviderGuard(provider: ProviderName, options: GuardOptions, metrics: Metrics) {
  const limiter = tokenBucket(options.ratePerMinute, Date.now, options.burst);
  const halfOpenAfter = options.breakerHalfOpenMs ?? 30_000;
  const breaker = circuitBreaker(
    handleWhen((error) => error instanceof AppError && error.retryable),
    { halfOpenAfter, breaker: new ConsecutiveBreaker(options.breakerFailures ?? 5) },
  );
  const maxWait = options.maxQueueWaitMs ?? 10_000;
  options.health?.watch(provider, breaker);

  return {
    async run<T>(operation: string, call: () => Promise<Labelled<T>>): Promise<T> {
      const wait = limiter.reserve();
      if (wait > maxWait) {
        limiter.cancel();
        metrics.providerCalls.inc({ provider, operation, result: 'local_rate_limit' });
        throw new ProviderRateLimitedError(provider, {
          message: `${provider} calls are paced; retrying later`,
          retryAfterMs: wait,
        });
      }
      if (wait > 0) await sleep(wait);
      const started = performance.now();
      try {
        const { value, result } = await breaker.execute(call);
        metrics.providerCalls.inc({ provider, operation, result: result ?? 'ok' });
        options.health?.call(provider);
        return value;
      } catch (error) {
        if (isBrokenCircuitError(error)) {
          metrics.providerCalls.inc({ provider, operation, result: 'circuit_open' });
          throw new ProviderCircuitOpenError(provider, { cause: error, retryAfterMs: halfOpenAfter });
        }
        // Labelled as operators know it: `c2s_rate_limited`, `workapi_token_refused`.
        const code = codeOf(error) ?? 'unexpected_error';
        metrics.providerCalls.inc({ provider, operation, result: code });
        options.health?.call(provider, code);
        // The provider's 429 holds back every call through this guard for its Retry-After.
        if (error instanceof ProviderRateLimitedError && error.retryAfterMs !== undefined)
          limiter.pause(error.retryAfterMs);
        throw error;
      } finally {
        metrics.providerDuration.observe({ provider, operation }, (performance.now() - started) / 1000);
      }
    },
  };
}

export type ProviderGuard = ReturnType<typeof createProviderGuard>;

/**
 * A token bucket holding a few seconds' burst (or `burstSize`). `reserve` takes a token, going
 * into debt when none is left, and says how long to wait until that token is earned; a
 * provider's 429 pauses the bucket for its Retry-After.
 */
export function tokenBucket(perMinute: number, now: () => number = Date.now, burstSize?: number) {
  const perMs = perMinute / 60_000;
  const burst = Math.max(1, burstSize ?? Math.min(10, Math.floor(perMinute / 6)));
  let tokens = burst;
  let updatedAt = now();
  const refill = () => {
    const at = now();
    tokens = Math.min(burst, tokens + (at - updatedAt) * perMs);
    updatedAt = at;
  };
  return {
    /** Milliseconds to wait before the reserved call may go. */
    reserve(): number {
      if (perMinute === 0) return 0;
      refill();
      tokens -= 1;
      return tokens >= 0 ? 0 : Math.ceil(-tokens / perMs);
    },
    cancel(): void {
      if (perMinute > 0) tokens += 1;
    },
    pause(ms: number): void {
      if (perMinute === 0) return;
      refill();
      tokens = Math.min(tokens, 0) - ms * perMs;
    },
  };
}
