import { Gauge } from 'prom-client';
import type pg from 'pg';
import { sharedRead } from '../db/shared-read.ts';
import type { Metrics } from '../metrics.ts';
import { STATE_GAUGES_MAX_AGE_MS } from '../workflow/gauges.ts';
import { readReconcileSummary, type ReconcileSummary } from './runs-repository.ts';

/**
 * Reconciliation's state as gauges, read from `reconcile_runs` when Prometheus scrapes (at most
 * once per `maxAgeMs`): the same for every process, whichever of them ran the last run, so an
 * alert may watch any of them. `reconcile_consecutive_failures` above 0 for a few intervals means
 * missed webhooks are not being caught up; `reconcile_last_success_timestamp_seconds` says since
 * when. When the database cannot be read the gauges keep their last reading.
 */
export function registerReconcileGauges(
  metrics: Metrics,
  db: pg.Pool,
  maxAgeMs = STATE_GAUGES_MAX_AGE_MS,
): void {
  const reading = sharedRead(() => readReconcileSummary(db), maxAgeMs);
  const gauges: Array<{ name: string; help: string; value: (summary: ReconcileSummary) => number }> = [
    {
      name: 'reconcile_last_success_timestamp_seconds',
      help: 'When the last succeeded reconciliation run finished (Unix time; 0 before the first).',
      value: (summary) => (summary.last_run_at === null ? 0 : Date.parse(summary.last_run_at) / 1000),
    },
    {
      name: 'reconcile_consecutive_failures',
      help: 'Reconciliation runs failed since the last succeeded one (a crashed run counts as failed).',
      value: (summary) => summary.consecutive_failures,
    },
  ];
  for (const { name, help, value } of gauges) {
    new Gauge({
      name,
      help,
      registers: [metrics.registry],
      async collect() {
        const summary = await reading().catch(() => undefined);
        if (summary !== undefined) this.set(value(summary));
      },
    });
  }
}
