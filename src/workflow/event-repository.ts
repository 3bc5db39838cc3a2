import type pg from 'pg';
import { createBatcher } from '../db/batcher.ts';
import { storableJson } from '../db/text.ts';
import type { Lease } from '../queue/queue.ts';

export type Outcome = 'enriched' | 'no_match' | 'unchanged' | 'closed';

export interface EventRecord {
  readonly id: string;
  readonly leadId: string;
  readonly updatedAt: Date;
  readonly hookAction: string | null;
  readonly payload: unknown;
  readonly attempts: number;
  readonly startedAt: Date;
}

export interface Checkpoint {
  readonly status: 'succeeded' | 'failed';
  readonly attempts: number;
  /** For a succeeded step: what it returned (`output`, and `outcome` when it ended the run). */
  readonly result: { output?: unknown; outcome?: Outcome } | null;
}

type Db = pg.Pool | pg.ClientBase;

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
    SELECT e.id, e.lead_id, e.updated_at, e.due_at
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
           ) AS overtaken
    FROM (SELECT DISTINCT ON (lead_id) id, lead_id, updated_at, due_at FROM candidate
          ORDER BY lead_id, due_at, updated_at DESC) first
    ORDER BY first.due_at
    LIMIT $2
  )
  UPDATE webhook_events e
  SET claimed_by = CASE WHEN chosen.overtaken THEN NULL ELSE $1 END,
      due_at = now() + $3 * interval '1 second',
      status = CASE WHEN chosen.overtaken THEN 'superseded' ELSE 'processing' END,
      processed_at = CASE WHEN chosen.overtaken THEN now() ELSE e.processed_at END,
      attempts = e.attempts + CASE WHEN chosen.overtaken THEN 0 ELSE 1 END,
      started_at = coalesce(e.started_at, now()),
      next_attempt_at = NULL
  FROM chosen
  WHERE e.id = chosen.id
  RETURNING e.status, e.id, e.lead_id AS "leadId", e.updated_at AS "updatedAt", e.hook_action AS "hookAction",
            CASE WHEN chosen.overtaken THEN NULL ELSE e.payload_raw END AS payload, e.attempts,
            e.started_at AS "startedAt"`;

export type Attempt =
  | { readonly kind: 'run'; readonly event: EventRecord }
  | { readonly kind: 'superseded'; readonly eventId: string };

/** Takes due events under a lease and starts their attempts (see START_ATTEMPTS). */
export async function startAttempts(db: pg.Pool, lease: Lease, limit: number): Promise<Attempt[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      const { rows } = await db.query<EventRecord & { status: string }>({
        name: 'start-attempts',
        text: START_ATTEMPTS,
        values: [lease.workerId, limit, lease.seconds],
      });
      return rows.map(({ status, ...event }) =>
        status === 'superseded' ? { kind: 'superseded', eventId: event.id } : { kind: 'run', event },
      );
    } catch (error) {
      // Two workers took two events of one lead at the same instant: the unique index let one
      // through. Asking again passes over the lead, now visibly held.
      if ((error as { code?: string }).code !== '23505' || attempt === 3) throw error;
    }
  }
}

export async function loadCheckpoints(db: Db, eventId: string): Promise<Map<string, Checkpoint>> {
  const { rows } = await db.query<Checkpoint & { step: string }>({
    name: 'load-checkpoints',
    text: `SELECT step, status, attempts, output AS result FROM event_steps WHERE event_id = $1`,
    values: [eventId],
  });
  return new Map(rows.map((row) => [row.step, row]));
}

/** How one attempt at a step ended. */
export interface StepRecord {
  readonly step: string;
  readonly status: 'succeeded' | 'failed';
  readonly startedAt: Date;
  readonly durationMs: number;
  readonly error?: { readonly code: string; readonly message: string };
  readonly result?: { readonly output?: unknown; readonly outcome?: Outcome };
}

/** Step records of many events, one row each: `$1` is their JSON (see `stepRows`). */
const RECORD_STEPS = `
  INSERT INTO event_steps (event_id, step, status, attempts, started_at, finished_at, duration_ms, error_code, error_message, output)
  SELECT x.event_id, x.step, x.status, 1, x.started_at, x.started_at + x.duration_ms * interval '1 millisecond',
         x.duration_ms, x.error_code, x.error_message, x.output
  FROM json_to_recordset($1::json) AS x(event_id uuid, step text, status text, started_at timestamptz,
                                        duration_ms integer, error_code text, error_message text, output jsonb)
  ON CONFLICT (event_id, step) DO UPDATE SET
    status = EXCLUDED.status, attempts = event_steps.attempts + 1, started_at = EXCLUDED.started_at,
    finished_at = EXCLUDED.finished_at, duration_ms = EXCLUDED.duration_ms, error_code = EXCLUDED.error_code,
    error_message = EXCLUDED.error_message, output = EXCLUDED.output`;

/**
 * Ends attempts of many events in one statement: records their steps not yet written and lets go
 * of each event, `completed`, `failed`, or left `processing` with why it waits and until when.
 */
const END_ATTEMPTS = `
  WITH steps AS (${RECORD_STEPS}),
  ending AS (
    SELECT * FROM json_to_recordset($2::json)
      AS x(event_id uuid, kind text, outcome text, error_code text, error_message text, at timestamptz)
  )
  UPDATE webhook_events e SET
    status = CASE WHEN x.kind = 'retry' THEN e.status ELSE x.kind END,
    outcome = CASE WHEN x.kind = 'completed' THEN x.outcome ELSE e.outcome END,
    processed_at = CASE WHEN x.kind = 'retry' THEN e.processed_at ELSE now() END,
    error_code = x.error_code,
    error_message = x.error_message,
    next_attempt_at = CASE WHEN x.kind = 'retry' THEN x.at ELSE e.next_attempt_at END,
    due_at = CASE WHEN x.kind = 'retry' THEN x.at ELSE e.due_at END,
    claimed_by = NULL
  FROM ending x
  WHERE e.id = x.event_id AND e.status = 'processing'`;

/** How an attempt ends: the event completed, failed for good, or waits for a retry at `at`. */
type Ending =
  | { readonly kind: 'completed'; readonly outcome: Outcome }
  | { readonly kind: 'failed'; readonly code: string; readonly message: string }
  | { readonly kind: 'retry'; readonly at: Date; readonly code: string; readonly message: string };

interface Steps {
  readonly eventId: string;
  readonly records: readonly StepRecord[];
}

function stepRows(entries: readonly Steps[]): string {
  return storableJson(
    entries.flatMap(({ eventId, records }) =>
      records.map((record) => ({
        event_id: eventId,
        step: record.step,
        status: record.status,
        started_at: record.startedAt.toISOString(),
        duration_ms: Math.round(record.durationMs),
        error_code: record.error?.code ?? null,
        error_message: record.error?.message ?? null,
        output: record.result ?? null,
      })),
    ),
  );
}

async function recordSteps(db: Db, entries: readonly Steps[]): Promise<void> {
  if (entries.every((entry) => entry.records.length === 0)) return;
  await db.query({ name: 'record-steps', text: RECORD_STEPS, values: [stepRows(entries)] });
}

async function endAttempts(db: Db, entries: ReadonlyArray<Steps & { ending: Ending }>): Promise<void> {
  const endings = entries.map(({ eventId, ending }) => ({
    event_id: eventId,
    kind: ending.kind,
    outcome: ending.kind === 'completed' ? ending.outcome : null,
    error_code: ending.kind === 'completed' ? null : ending.code,
    error_message: ending.kind === 'completed' ? null : ending.message,
    at: ending.kind === 'retry' ? ending.at.toISOString() : null,
  }));
  await db.query({
    name: 'end-attempts',
    text: END_ATTEMPTS,
    values: [stepRows(entries), storableJson(endings)],
  });
}

/**
 * Checkpoint and end-of-attempt writes of all the events a worker runs, batched: runs that write
 * at the same moment share one statement (and one commit).
 */
export function createAttemptWriter(db: pg.Pool) {
  return {
    recordSteps: createBatcher<Steps>((entries) => recordSteps(db, entries)),
    endAttempt: createBatcher<Steps & { ending: Ending }>((entries) => endAttempts(db, entries)),
  };
}
