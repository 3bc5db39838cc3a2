import type pg from 'pg';
import { storableJson } from '../db/text.ts';
import {
  CHECKPOINT_ROWS,
  checkpointRowsJson,
  upsertCheckpoints,
  type StepRecord,
} from '../workflow/checkpoints.ts';

/**
 * The queue is the events table itself: an unfinished event (`received` or `processing`) whose
 * `due_at` has come is work to do. Storing an event is enqueuing it, in the same row and the same
 * statement; there is no second record to keep in step with it, and none to lose. This module is
 * the only one that writes the queue's columns (`status` while unfinished, `due_at`, `claimed_by`,
 * `attempts`): workers claim events here, renew their leases here and report here how each
 * attempt ended.
 */

export interface Lease {
  /** Who holds the events: shown to operators, and checked when the lease is renewed. */
  readonly workerId: string;
  /** A worker that stops renewing this long is presumed dead and its events run again. */
  readonly seconds: number;
}

/** An event taken for a run. */
export interface ClaimedEvent {
  readonly id: string;
  readonly leadId: string;
  readonly updatedAt: Date;
  readonly hookAction: string | null;
  readonly payload: unknown;
  /** This attempt's number: 1 for the first claim. It fences the attempt's writes. */
  readonly attempts: number;
  /**
   * Attempts that count against the retry budget: those since an operator last queued the event
   * again, less the ones deferred by this service's own provider pacing.
   */
  readonly countedAttempts: number;
  /** When the current run began (its first attempt, or the first since it was queued again). */
  readonly startedAt: Date;
  /** When it entered the queue: received, or queued again by an operator (reprocess, replay). */
  readonly queuedAt: Date;
}

/**
 * Who may write for an event: the worker that claimed it, at the attempt number the claim gave.
 * Every write of a run carries it, and a write whose fence no longer matches the event row (the
 * lease ran out and another worker took the event) changes nothing.
 */
export interface Fence {
  readonly eventId: string;
  readonly workerId: string;
  readonly attempt: number;
}

/**
 * Takes up to `$2` due events for worker `$1`, leases them for `$3` seconds and starts an attempt
 * on each, in one statement. `due_at` moves past the lease, so a dead worker's events come back by
 * themselves. One event per lead: a lead another worker holds is passed over, and of two due events
 * of one lead only the first due (the newest, on a tie) is taken; one whose lead has a newer event
 * is `superseded` at once
 * (latest wins) and let go. SKIP LOCKED lets concurrent workers take different events without
 * waiting for each other; looking at twice as many as wanted keeps a burst of one lead's updates
 * from starving the rest.
 */
const START_ATTEMPTS = `
  WITH candidate AS (
    SELECT e.id, e.lead_id, e.updated_at, e.due_at, e.attempts - e.uncounted_attempts AS counted
    FROM webhook_events e
    WHERE e.status IN ('received', 'processing') AND e.due_at <= now()
      AND NOT EXISTS (
        SELECT 1 FROM webhook_events held
        WHERE held.lead_id = e.lead_id AND held.claimed_by IS NOT NULL AND held.id <> e.id)
    ORDER BY e.due_at
    LIMIT 2 * $2
    FOR UPDATE SKIP LOCKED
  ), chosen AS (
    SELECT first.id, EXISTS (
             SELECT 1 FROM webhook_events n WHERE n.lead_id = first.lead_id AND n.updated_at > first.updated_at
           ) AS overtaken,
           first.counted >= $4 AS exhausted
    FROM (SELECT DISTINCT ON (lead_id) id, lead_id, updated_at, due_at, counted FROM candidate
          ORDER BY lead_id, due_at, updated_at DESC) first
    ORDER BY first.due_at
    LIMIT $2
  )
  UPDATE webhook_events e
  SET claimed_by = CASE WHEN chosen.overtaken OR chosen.exhausted THEN NULL ELSE $1 END,
      due_at = now() + $3 * interval '1 second',
      status = CASE WHEN chosen.overtaken THEN 'superseded' WHEN chosen.exhausted THEN 'failed' ELSE 'processing' END,
      processed_at = CASE WHEN chosen.overtaken OR chosen.exhausted THEN now() ELSE e.processed_at END,
      attempts = e.attempts + CASE WHEN chosen.overtaken OR chosen.exhausted THEN 0 ELSE 1 END,
      error_code = CASE WHEN chosen.overtaken OR NOT chosen.exhausted THEN e.error_code ELSE 'attempts_exhausted' END,
      error_message = CASE WHEN chosen.overtaken OR NOT chosen.exhausted THEN e.error_message
                           ELSE 'taken ' || (e.attempts - e.uncounted_attempts) || ' times without finishing (each run may have crashed its worker); last error: '
                                || coalesce(e.error_message, 'none') END,
      started_at = coalesce(e.started_at, now())
  FROM chosen
  WHERE e.id = chosen.id
  RETURNING e.status, e.id, e.lead_id AS "leadId", e.updated_at AS "updatedAt", e.hook_action AS "hookAction",
            CASE WHEN e.status = 'processing' THEN e.payload_raw END AS payload, e.attempts,
            e.attempts - e.uncounted_attempts AS "countedAttempts", e.started_at AS "startedAt",
            coalesce(e.requeued_at, e.received_at) AS "queuedAt"`;

export type Attempt =
  /** Run it: the event, and the fence its writes go under. */
  | { readonly kind: 'run'; readonly event: ClaimedEvent; readonly fence: Fence }
  /** Overtaken by a newer event of its lead: let go without running (latest wins). */
  | { readonly kind: 'superseded'; readonly eventId: string }
  /** Taken as often as the retry policy allows without ever finishing: failed, not run again. */
  | { readonly kind: 'exhausted'; readonly eventId: string };

/**
 * Takes due events under a lease and starts their attempts (see START_ATTEMPTS). An event taken
 * `maxAttempts` times already, whose runs never ended (a poison event that kills its worker), is
 * failed with `attempts_exhausted` instead of being run again.
 */
export async function startAttempts(
  db: pg.Pool,
  lease: Lease,
  limit: number,
  maxAttempts: number,
): Promise<Attempt[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      const { rows } = await db.query<ClaimedEvent & { status: string }>({
        name: 'start-attempts',
        text: START_ATTEMPTS,
        values: [lease.workerId, limit, lease.seconds, maxAttempts],
      });
      return rows.map(({ status, ...event }): Attempt => {
        if (status === 'superseded') return { kind: 'superseded', eventId: event.id };
        if (status === 'failed') return { kind: 'exhausted', eventId: event.id };
        return {
          kind: 'run',
          event,
          fence: { eventId: event.id, workerId: lease.workerId, attempt: event.attempts },
        };
      });
    } catch (error) {
      // Two workers took two events of one lead at the same instant: the unique index let one
      // through. Asking again passes over the lead, now visibly held.
      if ((error as { code?: string }).code !== '23505' || attempt === 3) throw error;
    }
  }
}

/** What a renewal found (see `renewLeases`). */
export interface Renewal {
  /** Leases pushed one period further: the worker holds these events, confirmed. */
  readonly renewed: ReadonlySet<string>;
  /** Events no longer this worker's (taken over after its lease ran out, or ended): runs stop. */
  readonly lost: ReadonlySet<string>;
}

/**
 * Pushes the lease of the events this worker is running one period further. An event missing
 * from both answers is still this worker's but was busy: a run's fenced write held it (FOR SHARE)
 * at that instant, and the next renewal, a third of a lease later, extends it. Waiting for those
 * locks instead made every renewal a convoy: it held the rows it had already updated while
 * waiting for the next, and each run's next fenced write queued behind it (171 ms a renewal in
 * the pipeline benchmark).
 */
export async function renewLeases(db: pg.Pool, lease: Lease, eventIds: readonly string[]): Promise<Renewal> {
  if (eventIds.length === 0) return { renewed: new Set(), lost: new Set() };
  const { rows } = await db.query<{ id: string; renewed: boolean }>({
    name: 'renew-leases',
    text: `WITH renewed AS (
             UPDATE webhook_events e SET due_at = now() + $3 * interval '1 second'
             FROM (SELECT id FROM webhook_events
                   WHERE id = ANY($2::uuid[]) AND claimed_by = $1 AND status = 'processing'
                   FOR NO KEY UPDATE SKIP LOCKED) free
             WHERE e.id = free.id
             RETURNING e.id
           )
           SELECT e.id, EXISTS (SELECT 1 FROM renewed r WHERE r.id = e.id) AS renewed
           FROM webhook_events e
           WHERE e.id = ANY($2::uuid[]) AND e.claimed_by = $1 AND e.status = 'processing'`,
    values: [lease.workerId, eventIds, lease.seconds],
  });
  const held = new Set(rows.map((row) => row.id));
  return {
    renewed: new Set(rows.filter((row) => row.renewed).map((row) => row.id)),
    lost: new Set(eventIds.filter((id) => !held.has(id))),
  };
}

/** How an attempt ends: the event completed, failed for good, or waits for a retry at `at`. */
export type Ending =
  | { readonly kind: 'completed'; readonly outcome: string }
  | { readonly kind: 'failed'; readonly code: string; readonly message: string }
  | {
      readonly kind: 'retry';
      readonly at: Date;
      readonly code: string;
      readonly message: string;
      /** Deferred by our own pacing, not failed: the attempt does not count against the budget. */
      readonly uncounted?: boolean;
    };

/** An attempt's end as reported by its run: how it ended, and the step records not yet written. */
export interface AttemptEnd {
  readonly fence: Fence;
  readonly ending: Ending;
  readonly records: readonly StepRecord[];
}

/**
 * Ends attempts of many events in one statement: lets go of each event still held by the attempt
 * ending (`completed`, `failed`, or left `processing` with why it waits and until when), and
 * records its steps not yet written. An attempt whose event another worker has taken since
 * changes nothing: the update's fence fails, and its steps go only with the events it ended.
 */
const FINISH_ATTEMPTS = `
  WITH ending AS (
    SELECT * FROM json_to_recordset($2::json) AS x(event_id uuid, worker text, attempt integer, kind text,
      outcome text, error_code text, error_message text, at timestamptz, uncounted boolean)
  ), ended AS (
    UPDATE webhook_events e SET
      status = CASE WHEN x.kind = 'retry' THEN e.status ELSE x.kind END,
      outcome = CASE WHEN x.kind = 'completed' THEN x.outcome ELSE e.outcome END,
      processed_at = CASE WHEN x.kind = 'retry' THEN e.processed_at ELSE now() END,
      error_code = x.error_code,
      error_message = x.error_message,
      due_at = CASE WHEN x.kind = 'retry' THEN x.at ELSE e.due_at END,
      uncounted_attempts = e.uncounted_attempts + CASE WHEN x.uncounted THEN 1 ELSE 0 END,
      claimed_by = NULL,
      -- A suppressed person objects to processing: their input is not kept either.
      payload_raw = CASE WHEN x.outcome = 'suppressed' THEN NULL ELSE e.payload_raw END,
      purged_at = CASE WHEN x.outcome = 'suppressed' THEN now() ELSE e.purged_at END
    FROM ending x
    -- \`= ANY\` over the ids lets the planner find the rows by key (see RECORD_CHECKPOINTS).
    WHERE e.id = ANY($3::uuid[]) AND e.id = x.event_id AND e.status = 'processing'
      AND e.claimed_by = x.worker AND e.attempts = x.attempt
    RETURNING e.id AS event_id, x.worker, x.attempt
  ), steps AS (
    ${upsertCheckpoints(`${CHECKPOINT_ROWS} JOIN ended USING (event_id, worker, attempt)`)}
  )
  SELECT event_id AS id FROM ended`;

/**
 * Ends attempts of many events in one statement (see FINISH_ATTEMPTS). Answers, per attempt,
 * whether it was let through: false when its event is no longer its own.
 */
export async function finishAttempts(db: pg.Pool, ends: readonly AttemptEnd[]): Promise<boolean[]> {
  const endings = ends.map(({ fence, ending }) => ({
    event_id: fence.eventId,
    worker: fence.workerId,
    attempt: fence.attempt,
    kind: ending.kind,
    outcome: ending.kind === 'completed' ? ending.outcome : null,
    error_code: ending.kind === 'completed' ? null : ending.code,
    error_message: ending.kind === 'completed' ? null : ending.message,
    at: ending.kind === 'retry' ? ending.at.toISOString() : null,
    uncounted: ending.kind === 'retry' && ending.uncounted === true,
  }));
  const { rows } = await db.query<{ id: string }>({
    name: 'finish-attempts',
    text: FINISH_ATTEMPTS,
    values: [checkpointRowsJson(ends), storableJson(endings), ends.map((end) => end.fence.eventId)],
  });
  const ended = new Set(rows.map((row) => row.id));
  return ends.map((end) => ended.has(end.fence.eventId));
}

/**
 * Ends every unfinished event of these leads at once, whoever holds it (an erasure: the person's
 * data is going, so nothing may run for them any more). A run in flight loses its claim here, so
 * its fenced writes (checkpoints, its end, the people it would store) change nothing after this
 * transaction commits. Answers the ids of the events ended.
 */
export async function stopEventsOfLeads(
  client: pg.ClientBase,
  leadIds: readonly string[],
  ending: Exclude<Ending, { kind: 'retry' }>,
): Promise<string[]> {
  if (leadIds.length === 0) return [];
  const { rows } = await client.query<{ id: string }>(
    `UPDATE webhook_events SET status = $2, outcome = $3, error_code = $4, error_message = $5,
                              processed_at = now(), claimed_by = NULL
     WHERE lead_id = ANY($1::text[]) AND status IN ('received', 'processing')
     RETURNING id`,
    [
      leadIds,
      ending.kind,
      ending.kind === 'completed' ? ending.outcome : null,
      ending.kind === 'failed' ? ending.code : null,
      ending.kind === 'failed' ? ending.message : null,
    ],
  );
  return rows.map((row) => row.id);
}
