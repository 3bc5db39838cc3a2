import type pg from 'pg';
import { withTransaction } from '../db/transaction.ts';
import { LEAD_EVENTS_QUEUE, type Enqueued } from '../queue/queue.ts';

/** Arbitrary, fixed: one sweeper at a time across every instance. */
const SWEEP_LOCK = 7_341_902;

/**
 * Defence in depth: finds unfinished events that no live job will run (a job lost to an
 * operator's cleanup, a bug, a restore) and schedules them again. It runs under a
 * transaction-scoped advisory lock and schedules in the same transaction, so two sweepers
 * cannot schedule one event twice; and an event only counts as orphaned when it is older than
 * `graceMs` and not waiting for a retry.
 */
export async function sweepOrphanedEvents(
  db: pg.Pool,
  schedule: (client: pg.ClientBase, jobs: readonly Enqueued[]) => Promise<void>,
  graceMs: number,
  limit = 500,
): Promise<number> {
  return withTransaction(db, async (client) => {
    const { rows: lock } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [
      SWEEP_LOCK,
    ]);
    if (!lock[0]?.ok) return 0;
    const { rows } = await client.query<{ eventId: string; leadId: string }>({
      name: 'find-orphaned-events',
      text: `SELECT e.id AS "eventId", e.lead_id AS "leadId"
             FROM webhook_events e
             WHERE e.status IN ('received', 'processing')
               AND e.received_at < now() - $2 * interval '1 millisecond'
               AND (e.next_attempt_at IS NULL OR e.next_attempt_at < now() - $2 * interval '1 millisecond')
               AND NOT EXISTS (
                 SELECT 1 FROM pgboss.job j
                 WHERE j.name = $1 AND j.singleton_key = e.lead_id AND j.data->>'eventId' = e.id::text
                   AND j.state IN ('created', 'retry', 'active'))
             ORDER BY e.received_at
             LIMIT $3`,
      values: [LEAD_EVENTS_QUEUE, graceMs, limit],
    });
    await schedule(client, rows);
    return rows.length;
  });
}
