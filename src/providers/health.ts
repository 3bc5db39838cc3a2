import { CircuitState } from 'cockatiel';
import type pg from 'pg';
import { storableJson } from '../db/text.ts';
import type { ProviderName } from '../errors.ts';

/**
 * Provider health as this process sees it (breakers, calls, errors), reported to the database
 * every few seconds so that any process, and the command line, can answer `stats` for all of
 * them. Only calls that reached the provider count: a call held back by our own limiter or
 * refused by an open breaker is not one.
 */

export type BreakerState = 'closed' | 'open' | 'half_open';

interface Breaker {
  readonly state: CircuitState;
}

export interface HealthRecorder {
  /** Follows a breaker's state (a provider may have several: C2S's reads and its listing). */
  watch(provider: ProviderName, breaker: Breaker): void;
  /** A call that reached the provider: answered, or failed with `errorCode`. */
  call(provider: ProviderName, errorCode?: string): void;
}

interface MinuteCount {
  calls: number;
  errors: number;
}

/** Worst first: the state a provider shows when its breakers disagree. */
const SEVERITY: readonly BreakerState[] = ['open', 'half_open', 'closed'];

function stateOf(state: CircuitState): BreakerState {
  if (state === CircuitState.HalfOpen) return 'half_open';
  return state === CircuitState.Closed ? 'closed' : 'open';
}

export function createHealthRecorder(now: () => number = Date.now) {
  const breakers = new Map<ProviderName, Breaker[]>();
  const minutes = new Map<string, MinuteCount>();
  const lastErrors = new Map<ProviderName, { code: string; at: Date }>();

  const recorder = {
    watch(provider: ProviderName, breaker: Breaker): void {
      breakers.set(provider, [...(breakers.get(provider) ?? []), breaker]);
    },
    call(provider: ProviderName, errorCode?: string): void {
      const minute = new Date(Math.floor(now() / 60_000) * 60_000).toISOString();
      const key = `${provider}|${minute}`;
      const count = minutes.get(key) ?? { calls: 0, errors: 0 };
      count.calls += 1;
      if (errorCode !== undefined) {
        count.errors += 1;
        lastErrors.set(provider, { code: errorCode, at: new Date(now()) });
      }
      minutes.set(key, count);
    },
    /** The breaker state of each provider watched, worst of its breakers. */
    breakerStates(): Map<ProviderName, BreakerState> {
      const states = new Map<ProviderName, BreakerState>();
      for (const [provider, list] of breakers) {
        const seen = list.map((breaker) => stateOf(breaker.state));
        states.set(provider, SEVERITY.find((state) => seen.includes(state)) ?? 'closed');
      }
      return states;
    },
    /** Takes the counts gathered since the last report (put back if the report fails). */
    drain(): Array<{ provider: string; minute: string; calls: number; errors: number }> {
      const drained = [...minutes].map(([key, count]) => {
        const [provider, minute] = key.split('|') as [string, string];
        return { provider, minute, ...count };
      });
      minutes.clear();
      return drained;
    },
    restore(
      counts: ReadonlyArray<{ provider: string; minute: string; calls: number; errors: number }>,
    ): void {
      for (const { provider, minute, calls, errors } of counts) {
        const key = `${provider}|${minute}`;
        const count = minutes.get(key) ?? { calls: 0, errors: 0 };
        count.calls += calls;
        count.errors += errors;
        minutes.set(key, count);
      }
    },
    lastError(provider: ProviderName): { code: string; at: Date } | undefined {
      return lastErrors.get(provider);
    },
  };
  return recorder satisfies HealthRecorder;
}

export type HealthLedger = ReturnType<typeof createHealthRecorder>;

/** How often a process reports; `stats` trusts a breaker state reported within REPORT_STALE_MS. */
export const REPORT_INTERVAL_MS = 5000;
export const REPORT_STALE_MS = 60_000;

/** Writes one report: this process's breaker states and last errors, and its call counts. */
export async function reportHealth(db: pg.Pool, health: HealthLedger, processId: string): Promise<void> {
  const counts = health.drain();
  const states = [...health.breakerStates()].map(([provider, breaker]) => {
    const last = health.lastError(provider);
    return {
      provider,
      breaker,
      last_error_code: last?.code ?? null,
      last_error_at: last?.at.toISOString() ?? null,
    };
  });
  try {
    await db.query({
      name: 'report-provider-health',
      text: `WITH counted AS (
               INSERT INTO provider_calls (provider, minute, calls, errors)
               SELECT provider, minute, calls, errors
               FROM json_to_recordset($1::json) AS x(provider text, minute timestamptz, calls integer, errors integer)
               ON CONFLICT (provider, minute) DO UPDATE
                 SET calls = provider_calls.calls + EXCLUDED.calls, errors = provider_calls.errors + EXCLUDED.errors
             )
             INSERT INTO provider_health (provider, process, breaker, last_error_code, last_error_at, updated_at)
             SELECT provider, $3, breaker, last_error_code, last_error_at, now()
             FROM json_to_recordset($2::json) AS x(provider text, breaker text, last_error_code text, last_error_at timestamptz)
             ON CONFLICT (provider, process) DO UPDATE SET breaker = EXCLUDED.breaker,
               last_error_code = EXCLUDED.last_error_code, last_error_at = EXCLUDED.last_error_at, updated_at = now()`,
      values: [storableJson(counts), storableJson(states), processId],
    });
  } catch (error) {
    health.restore(counts);
    throw error;
  }
}

/** Forgets call counts older than a day and processes silent for a day. */
export async function pruneHealth(db: pg.Pool): Promise<void> {
  await db.query(`DELETE FROM provider_calls WHERE minute < now() - interval '25 hours'`);
  await db.query(`DELETE FROM provider_health WHERE updated_at < now() - interval '1 day'`);
}

/**
 * Reports every REPORT_INTERVAL_MS (and prunes now and then) until stopped; a last report goes
 * out on stop. A failed report keeps its counts for the next one.
 */
export function startHealthReports(
  db: pg.Pool,
  health: HealthLedger,
  processId: string,
  onError: (error: unknown) => void,
  intervalMs = REPORT_INTERVAL_MS,
): { stop(): Promise<void> } {
  let reports = 0;
  let running: Promise<void> | undefined;
  const report = () => {
    running ??= (async () => {
      await reportHealth(db, health, processId);
      if (reports++ % 120 === 0) await pruneHealth(db);
    })()
      .catch(onError)
      .finally(() => (running = undefined));
    return running;
  };
  const timer = setInterval(() => void report(), intervalMs);
  timer.unref();
  void report();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await report();
    },
  };
}
