import { Gauge } from 'prom-client';
import type pg from 'pg';
import type { Metrics } from '../metrics.ts';

/**
 * State gauges read from the database when Prometheus scrapes: events by status, unfinished
 * events by queue state, the oldest waiting age, notes by state. One query per scrape.
 */
export function registerStateGauges(metrics: Metrics, db: pg.Pool): void {
  const read = async () => {
    const { rows } = await db.query<{ kind: string; label: string; count: string }>({
      name: 'state-gauges',
      text: `
        SELECT 'event' AS kind, status AS label, count(*) FROM webhook_events GROUP BY status
        UNION ALL
        SELECT 'queue', CASE WHEN due_at <= now() THEN 'due'
                             WHEN claimed_by IS NOT NULL THEN 'running'
                             ELSE 'waiting_retry' END, count(*)
        FROM webhook_events WHERE status IN ('received', 'processing') GROUP BY 2
        UNION ALL
        SELECT 'note', state, count(*) FROM notes GROUP BY state
        UNION ALL
        SELECT 'oldest', '', coalesce(extract(epoch FROM now() - min(received_at)), 0)::bigint
        FROM webhook_events WHERE status IN ('received', 'processing')`,
    });
    return rows;
  };
  let pending: ReturnType<typeof read> | undefined;
  // The four gauges collect together: one scrape, one query.
  const shared = () => (pending ??= read().finally(() => setTimeout(() => (pending = undefined), 100)));
  const gauges: Array<{ name: string; help: string; kind: string; label?: string }> = [
    { name: 'webhook_events_by_status', help: 'Stored events by status.', kind: 'event', label: 'status' },
    {
      name: 'queue_events_by_state',
      help: 'Unfinished events by queue state: due (waiting for a worker), running, waiting_retry.',
      kind: 'queue',
      label: 'state',
    },
    {
      name: 'notes_by_state',
      help: 'Notes in the ledger by state (pending, sent, unknown).',
      kind: 'note',
      label: 'state',
    },
    {
      name: 'workflow_oldest_waiting_seconds',
      help: 'Age of the oldest event not yet finished.',
      kind: 'oldest',
    },
  ];
  for (const { name, help, kind, label } of gauges) {
    new Gauge({
      name,
      help,
      labelNames: label ? [label] : [],
      registers: [metrics.registry],
      async collect() {
        this.reset();
        for (const row of (await shared()).filter((r) => r.kind === kind)) {
          if (label) this.set({ [label]: row.label }, Number(row.count));
          else this.set(Number(row.count));
        }
      },
    });
  }
}
