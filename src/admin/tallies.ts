import type pg from 'pg';
import { storableJson } from '../db/text.ts';
import type { Metrics } from '../metrics.ts';

/**
 * What happened per minute, across processes, without reading the events table: each process
 * reads its own counters (the metrics it keeps anyway: events stored by the webhook, runs
 * completed by outcome, failed) every few seconds and adds what changed since its last report to
 * the current minute's row in `event_tallies`. The hot paths do nothing more than they did. A
 * report that fails is sent again, whole, with the next one.
 */

export type TallyKind = 'received' | 'failed' | `completed:${string}`;

/** This process's counters as tallies: running totals by kind. */
async function totals(metrics: Metrics): Promise<Map<TallyKind, number>> {
  const totals = new Map<TallyKind, number>();
  const add = (kind: TallyKind, value: number) => totals.set(kind, (totals.get(kind) ?? 0) + value);
  for (const { labels, value } of (await metrics.webhookEvents.get()).values) {
    // Stored events: new ones, and stale ones (stored, not run).
    if (labels.outcome === 'accepted' || labels.outcome === 'stale') add('received', value);
  }
  for (const { labels, value } of (await metrics.workflowEvents.get()).values) {
    const result = String(labels.result);
    if (result.startsWith('completed_')) add(`completed:${result.slice('completed_'.length)}`, value);
    else if (result === 'failed') add('failed', value);
  }
  return totals;
}

/** Reports since the last successful one: adds the counters' growth to the current minute. */
export function createTallyReporter(db: pg.Pool, metrics: Metrics) {
  let reported = new Map<TallyKind, number>();
  return async function report(): Promise<void> {
    const now = await totals(metrics);
    const growth = [...now]
      .map(([kind, total]) => ({ kind, n: total - (reported.get(kind) ?? 0) }))
      .filter(({ n }) => n > 0);
    if (growth.length > 0) {
      await db.query({
        name: 'report-tallies',
        text: `INSERT INTO event_tallies (minute, kind, n)
               SELECT date_trunc('minute', now()), kind, n FROM json_to_recordset($1::json) AS x(kind text, n integer)
               ON CONFLICT (minute, kind) DO UPDATE SET n = event_tallies.n + EXCLUDED.n`,
        values: [storableJson(growth)],
      });
    }
    reported = now;
  };
}

/** Reports every `intervalMs` until stopped (a last one on stop); prunes rows over two days old. */
export function startTallyReports(
  db: pg.Pool,
  metrics: Metrics,
  onError: (error: unknown) => void,
  intervalMs = 5000,
): { stop(): Promise<void> } {
  const report = createTallyReporter(db, metrics);
  let reports = 0;
  let running: Promise<void> | undefined;
  const run = () => {
    running ??= (async () => {
      await report();
      if (reports++ % 120 === 0)
        await db.query(`DELETE FROM event_tallies WHERE minute < now() - interval '2 days'`);
    })()
      .catch(onError)
      .finally(() => (running = undefined));
    return running;
  };
  const timer = setInterval(() => void run(), intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await run();
    },
  };
}
