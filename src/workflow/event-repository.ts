import type pg from 'pg';

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
 * Starts an attempt on an unfinished event, in one statement: `superseded` when its lead has a
 * newer event (latest wins; it must not run), `finished` when there is nothing left to do.
 */
export async function beginAttempt(
  db: Db,
  eventId: string,
): Promise<{ kind: 'run'; event: EventRecord } | { kind: 'superseded' | 'finished' }> {
  const { rows } = await db.query<EventRecord & { status: string }>({
    name: 'begin-attempt',
    text: `UPDATE webhook_events e
           SET status = CASE WHEN o.overtaken THEN 'superseded' ELSE 'processing' END,
               processed_at = CASE WHEN o.overtaken THEN now() ELSE e.processed_at END,
               attempts = e.attempts + CASE WHEN o.overtaken THEN 0 ELSE 1 END,
               started_at = coalesce(e.started_at, now()),
               next_attempt_at = NULL,
               claimed_by = CASE WHEN o.overtaken THEN NULL ELSE e.claimed_by END
           FROM (SELECT EXISTS (
                   SELECT 1 FROM webhook_events n, webhook_events me
                   WHERE me.id = $1 AND n.lead_id = me.lead_id AND n.updated_at > me.updated_at
                 ) AS overtaken) o
           WHERE e.id = $1 AND e.status IN ('received', 'processing')
           RETURNING e.status, e.id, e.lead_id AS "leadId", e.updated_at AS "updatedAt", e.hook_action AS "hookAction",
                     e.payload_raw AS payload, e.attempts, e.started_at AS "startedAt"`,
    values: [eventId],
  });
  const row = rows[0];
  if (!row) return { kind: 'finished' };
  if (row.status === 'superseded') return { kind: 'superseded' };
  const { status: _status, ...event } = row;
  return { kind: 'run', event };
}

export async function loadCheckpoints(db: Db, eventId: string): Promise<Map<string, Checkpoint>> {
  const { rows } = await db.query<Checkpoint & { step: string }>({
    name: 'load-checkpoints',
    text: `SELECT step, status, attempts, output AS result FROM event_steps WHERE event_id = $1`,
    values: [eventId],
  });
  return new Map(rows.map((row) => [row.step, row]));
}

/**
 * Records how one attempt at a step ended, in one write when it ends (a step killed mid-way
 * leaves no row and simply runs again).
 */
const RECORD_STEP = `
  INSERT INTO event_steps (event_id, step, status, attempts, started_at, finished_at, duration_ms, error_code, error_message, output)
  VALUES ($1, $2, $3, 1, now() - $4 * interval '1 millisecond', now(), $4, $5, $6, $7)
  ON CONFLICT (event_id, step) DO UPDATE SET
    status = EXCLUDED.status, attempts = event_steps.attempts + 1, started_at = EXCLUDED.started_at,
    finished_at = EXCLUDED.finished_at, duration_ms = EXCLUDED.duration_ms, error_code = EXCLUDED.error_code,
    error_message = EXCLUDED.error_message, output = EXCLUDED.output`;

export async function stepSucceeded(
  db: Db,
  eventId: string,
  step: string,
  result: { output?: unknown; outcome?: Outcome },
  durationMs: number,
): Promise<void> {
  await db.query({
    name: 'record-step',
    text: RECORD_STEP,
    values: [eventId, step, 'succeeded', Math.round(durationMs), null, null, JSON.stringify(result)],
  });
}

export async function stepFailed(
  db: Db,
  eventId: string,
  step: string,
  error: { code: string; message: string },
  durationMs: number,
): Promise<void> {
  await db.query({
    name: 'record-step',
    text: RECORD_STEP,
    values: [eventId, step, 'failed', Math.round(durationMs), error.code, error.message, null],
  });
}

export async function completeEvent(db: Db, eventId: string, outcome: Outcome): Promise<void> {
  await db.query({
    name: 'complete-event',
    text: `UPDATE webhook_events SET status = 'completed', outcome = $2, processed_at = now(),
             error_code = NULL, error_message = NULL, claimed_by = NULL
           WHERE id = $1 AND status = 'processing'`,
    values: [eventId, outcome],
  });
}

export async function failEvent(
  db: Db,
  eventId: string,
  error: { code: string; message: string },
): Promise<void> {
  await db.query({
    name: 'fail-event',
    text: `UPDATE webhook_events SET status = 'failed', processed_at = now(), error_code = $2, error_message = $3,
             claimed_by = NULL
           WHERE id = $1 AND status = 'processing'`,
    values: [eventId, error.code, error.message],
  });
}

/** Leaves the event `processing`, with why it waits and until when, and lets go of it until then. */
export async function recordRetry(
  db: Db,
  eventId: string,
  at: Date,
  error: { code: string; message: string },
): Promise<void> {
  await db.query({
    name: 'record-retry',
    text: `UPDATE webhook_events SET next_attempt_at = $2, due_at = $2, claimed_by = NULL,
             error_code = $3, error_message = $4
           WHERE id = $1 AND status = 'processing'`,
    values: [eventId, at, error.code, error.message],
  });
}
