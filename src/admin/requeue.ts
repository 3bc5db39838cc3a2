import type pg from 'pg';
import { withTransaction } from '../db/transaction.ts';
import { AdminError, AdminInputError } from './errors.ts';
import { isEmptyFilter, newestFirst, type EventFilter } from './filter.ts';
import { isEventId, iso } from './events.ts';
import { HOUR_COUNTS_LOCK } from './hour-counts.ts';

/**
 * Queuing finished events again: one (reprocess) or a class of them (replay). A requeued event
 * is an ordinary unfinished event: the same queue, the same one-run-per-lead rule, the same
 * provider limiters as a new one, so a replay of thousands makes the backlog grow and never the
 * providers' load. Its note is still posted at most once: the ledger and the reference on the
 * lead decide, whatever the run.
 */

/** Where a requeued event's run starts: at its first step that did not succeed, or from scratch. */
export const REQUEUE_FROM = ['failed_step', 'start'] as const;
export type RequeueFrom = (typeof REQUEUE_FROM)[number];

/**
 * Queues the events of `$1` again, those still eligible: finished (not received or processing)
 * and the newest of their lead (latest wins: an older event never runs after a newer one). The
 * attempts made so far stop counting against the retry budget; the run's time window starts
 * again. From `start`, the step checkpoints go too; from the failed step they stay, and the run
 * resumes where the last one stopped. The hour counts of the hours touched are unsealed.
 */
const REQUEUE = `
  WITH requeued AS (
    UPDATE webhook_events e SET
      status = 'received', due_at = now(), outcome = NULL, error_code = NULL, error_message = NULL,
      processed_at = NULL, started_at = NULL, uncounted_attempts = e.attempts, requeued_at = now()
    WHERE e.id = ANY($1::uuid[]) AND e.status NOT IN ('received', 'processing')
      AND NOT EXISTS (SELECT 1 FROM webhook_events n WHERE n.lead_id = e.lead_id AND n.updated_at > e.updated_at)
    RETURNING e.id, e.received_at
  ), cleared AS (
    DELETE FROM event_steps s USING requeued r WHERE s.event_id = r.id AND $2 = 'start'
  ), unsealed AS (
    DELETE FROM event_hour_counts c
    WHERE c.hour IN (SELECT date_trunc('hour', received_at, 'UTC') FROM requeued)
  )
  SELECT id FROM requeued`;

async function requeue(db: pg.Pool, ids: readonly string[], from: RequeueFrom): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  return withTransaction(db, async (client) => {
    // Shared with other requeues, exclusive with sealing a day (see hour-counts.ts).
    await client.query('SELECT pg_advisory_xact_lock_shared($1)', [HOUR_COUNTS_LOCK]);
    const { rows } = await client.query<{ id: string }>(REQUEUE, [ids, from]);
    return new Set(rows.map((row) => row.id));
  });
}

/** How many of these events a requeue would take (what REQUEUE checks, without writing). */
async function countEligible(db: pg.Pool, ids: readonly string[]): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM webhook_events e
     WHERE e.id = ANY($1::uuid[]) AND e.status NOT IN ('received', 'processing')
       AND NOT EXISTS (SELECT 1 FROM webhook_events n WHERE n.lead_id = e.lead_id AND n.updated_at > e.updated_at)`,
    [ids],
  );
  return rows[0]?.n ?? 0;
}

export type ReprocessResult = 'queued' | 'not_found' | 'event_running' | 'not_latest';

/** Queues one event again, or says why it cannot be. */
export async function reprocessEvent(db: pg.Pool, id: string, from: RequeueFrom): Promise<ReprocessResult> {
  if (!isEventId(id)) return 'not_found';
  if ((await requeue(db, [id], from)).has(id)) return 'queued';
  const { rows } = await db.query<{ status: string; overtaken: boolean }>(
    `SELECT e.status, EXISTS (SELECT 1 FROM webhook_events n WHERE n.lead_id = e.lead_id AND n.updated_at > e.updated_at) AS overtaken
     FROM webhook_events e WHERE e.id = $1`,
    [id],
  );
  const event = rows[0];
  if (!event) return 'not_found';
  if (event.status === 'received' || event.status === 'processing') return 'event_running';
  return 'not_latest';
}

/** The admin API's answer for a refused reprocess. */
export function reprocessRefusal(result: Exclude<ReprocessResult, 'queued'>): AdminError {
  switch (result) {
    case 'not_found':
      return new AdminError('not_found', 404, 'no event has that id');
    case 'event_running':
      return new AdminError('event_running', 409, 'the event is queued or running; wait for it to finish');
    case 'not_latest':
      return new AdminError(
        'not_latest',
        409,
        'the lead has a newer event: only the newest event of a lead runs (reprocess that one)',
      );
  }
}

export interface ReplayProgress {
  /** Events matching the filter so far. */
  readonly matched: number;
  /** Of those, queued again (or, in a dry run, that would be). */
  readonly scheduled: number;
}

export interface ReplayResult extends ReplayProgress {
  readonly dry_run: boolean;
}

/** Events looked at per statement: short transactions, steady progress. */
const REPLAY_BATCH = 1000;

/**
 * Queues again every event matching `filter` that may run (finished, newest of its lead), a
 * batch at a time, walking the filter's index newest first. A dry run counts and changes
 * nothing. An empty filter is refused: replaying the whole history is never what was meant.
 */
export async function replayEvents(
  db: pg.Pool,
  options: {
    readonly filter: EventFilter;
    readonly dryRun: boolean;
    readonly from: RequeueFrom;
    readonly onProgress?: (progress: ReplayProgress) => void;
  },
): Promise<ReplayResult> {
  if (isEmptyFilter(options.filter))
    throw new AdminInputError(
      'replay needs a filter (status, outcome, error_code, lead_id, hook_action, since or until)',
      'empty_filter',
    );
  let matched = 0;
  let scheduled = 0;
  let after: { receivedAt: string; id: string } | undefined;
  for (;;) {
    const { rows } = await db.query<{ id: string; received_at: string }>(
      newestFirst(options.filter, {
        columns: `id, ${iso('received_at')} AS received_at`,
        after,
        limit: REPLAY_BATCH,
      }),
    );
    if (rows.length === 0) break;
    matched += rows.length;
    const ids = rows.map((row) => row.id);
    scheduled += options.dryRun ? await countEligible(db, ids) : (await requeue(db, ids, options.from)).size;
    const last = rows.at(-1)!;
    after = { receivedAt: last.received_at, id: last.id };
    options.onProgress?.({ matched, scheduled });
    if (rows.length < REPLAY_BATCH) break;
  }
  return { matched, scheduled, dry_run: options.dryRun };
}
