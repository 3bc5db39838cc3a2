import { Gauge } from 'prom-client';
import type pg from 'pg';
import { sharedRead } from '../db/shared-read.ts';
import type { Metrics } from '../metrics.ts';

/** The state gauges read the database at most this often; scrapes in between share the reading. */
export const STATE_GAUGES_MAX_AGE_MS = 5000;

/**
 * What the state gauges read: only rows that are bounded and indexed. Unfinished events
 * (`received`, `processing`: the queue's partial index `webhook_events_due_idx`) by status and
 * queue state, with the oldest one's age; notes not yet sent (the partial index
 * `notes_state_idx`). Finished events and sent notes grow forever and are never counted here:
 * the counters (`workflow_events_total`, `webhook_events_total`, `notes_total`) count them as
 * they happen.
 */
export const STATE_GAUGES_SQL = `
  SELECT 'event' AS kind, status AS label,
         CASE WHEN due_at <= now() THEN 'due'
              WHEN claimed_by IS NOT NULL THEN 'running'
              ELSE 'waiting_retry' END AS state,
         count(*)::int AS count,
         extract(epoch FROM now() - min(received_at))::float8 AS oldest
  FROM webhook_events WHERE status IN ('received', 'processing')
  GROUP BY 2, 3
  UNION ALL
  SELECT 'note', state, NULL, count(*)::int, NULL
  FROM notes WHERE state <> 'sent'
  GROUP BY state`;

interface Row {
  readonly kind: 'event' | 'note';
  readonly label: string;
  readonly state: string | null;
  readonly count: number;
  readonly oldest: number | null;
}

interface Reading {
  readonly byStatus: Map<string, number>;
  readonly byQueueState: Map<string, number>;
  readonly notesByState: Map<string, number>;
  readonly oldestSeconds: number;
}

/** Labels always exported, at 0 when there is none, so a series does not vanish when it empties. */
const STATUSES = ['received', 'processing'];
const QUEUE_STATES = ['due', 'running', 'waiting_retry'];
const UNSENT_NOTE_STATES = ['pending', 'unknown'];

/**
 * State gauges read from the database when Prometheus scrapes: unfinished events by status and
 * by queue state, the oldest unfinished event's age, notes not yet sent by state. One query
 * (two index scans) for the four gauges, at most once per `maxAgeMs` however many scrapes come;
 * read through `db`, which should be the health pool, not the workers'. When the database cannot
 * be read the gauges keep their last reading, and the rest of `/metrics` is still served.
 */
export function registerStateGauges(metrics: Metrics, db: pg.Pool, maxAgeMs = STATE_GAUGES_MAX_AGE_MS): void {
  const reading = sharedRead(async (): Promise<Reading> => {
    const { rows } = await db.query<Row>({ name: 'state-gauges', text: STATE_GAUGES_SQL });
    const zeros = (labels: readonly string[]) => new Map(labels.map((label) => [label, 0]));
    const result = {
      byStatus: zeros(STATUSES),
      byQueueState: zeros(QUEUE_STATES),
      notesByState: zeros(UNSENT_NOTE_STATES),
      oldestSeconds: 0,
    };
    const add = (map: Map<string, number>, label: string, count: number) =>
      map.set(label, (map.get(label) ?? 0) + count);
    for (const row of rows) {
      if (row.kind === 'note') {
        add(result.notesByState, row.label, row.count);
        continue;
      }
      add(result.byStatus, row.label, row.count);
      add(result.byQueueState, row.state ?? 'due', row.count);
      result.oldestSeconds = Math.max(result.oldestSeconds, row.oldest ?? 0);
    }
    return result;
  }, maxAgeMs);
  // Resolves to undefined when the database cannot be read.
  const read = () => reading().catch(() => undefined);

  const gauges: Array<{
    name: string;
    help: string;
    label?: string;
    values: (reading: Reading) => Map<string, number> | number;
  }> = [
    {
      name: 'webhook_events_by_status',
      help:
        'Unfinished events by status (received, processing). Finished events are counted as they ' +
        'finish by workflow_events_total (completed by outcome, failed, superseded) and ' +
        'webhook_events_total{outcome="stale"}.',
      label: 'status',
      values: (r) => r.byStatus,
    },
    {
      name: 'queue_events_by_state',
      help: 'Unfinished events by queue state: due (waiting for a worker), running, waiting_retry.',
      label: 'state',
      values: (r) => r.byQueueState,
    },
    {
      name: 'notes_by_state',
      help:
        'Notes not yet sent, by state (pending, unknown). Sent notes are counted by ' +
        'notes_total{state="sent"} as they are sent.',
      label: 'state',
      values: (r) => r.notesByState,
    },
    {
      name: 'workflow_oldest_waiting_seconds',
      help: 'Age of the oldest event not yet finished (0 when none waits).',
      values: (r) => r.oldestSeconds,
    },
  ];
  for (const { name, help, label, values } of gauges) {
    new Gauge({
      name,
      help,
      labelNames: label ? [label] : [],
      registers: [metrics.registry],
      async collect() {
        const current = await read();
        if (current === undefined) return; // the last reading stands
        this.reset();
        const value = values(current);
        if (typeof value === 'number') this.set(value);
        else if (label) for (const [key, count] of value) this.set({ [label]: key }, count);
      },
    });
  }
}
