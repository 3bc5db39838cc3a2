import { Gauge } from 'prom-client';
import type { Metrics } from '../metrics.ts';
import type { BreakerState, HealthLedger } from './health.ts';

/** A number per state, worse is higher, so `max` across processes shows the worst. */
export const BREAKER_STATE_VALUES: Readonly<Record<BreakerState, number>> = {
  closed: 0,
  half_open: 1,
  open: 2,
};

/**
 * `provider_breaker_state{provider}`: this process's circuit breaker per provider (the worst of a
 * provider's breakers), read at scrape time. Exported by the processes that call providers
 * (roles `worker` and `all`), for the dashboard and the "breaker open" alert: `stats` has the
 * same state, but only through the database and the admin API.
 */
export function registerBreakerGauge(metrics: Metrics, health: Pick<HealthLedger, 'breakerStates'>): void {
  new Gauge({
    name: 'provider_breaker_state',
    help: 'Circuit breaker of calls to a provider in this process: 0 closed, 1 half open (testing), 2 open (calls refused).',
    labelNames: ['provider'] as const,
    registers: [metrics.registry],
    collect() {
      for (const [provider, state] of health.breakerStates())
        this.set({ provider }, BREAKER_STATE_VALUES[state]);
    },
  });
}
