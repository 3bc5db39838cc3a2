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
  readonly status: 'running' | 'succeeded' | 'failed';
  readonly attempts: number;
  /** For a succeeded step: what it returned (`output`, and `outcome` when it ended the run). */
  readonly result: { output?: unknown; outcome?: Outcome } | null;
}

type Db = pg.Pool | pg.ClientBase;

const EVENT_COLUMNS = `id, lead_id AS "leadId", updated_at AS "updatedAt", hook_action AS "hookAction",
  payload_raw AS payload, attempts, started_at AS "startedAt"`;

/**
 * Latest wins: an unfinished event is superseded when its lead has a newer event. Returns
 * whether it was (and so must not run).
 */
export async function supersedeIfOvertaken(db: Db, eventId: string): Promise<boolean> {
  const { rowCount } = await db.query({
    name: 'supersede-if-overtaken',
    text: `UPDATE webhook_events e SET status = 'superseded', processed_at = now(), next_attempt_at = NULL
           WHERE e.id = $1 AND e.status IN ('received', 'processing')
             AND EXISTS (SELECT 1 FROM webhook_events n WHERE n.lead_id = e.lead_id AND n.updated_at > e.updated_at)`,
    values: [eventId],
  });
  return rowCount === 1;
}

/** Starts an attempt on an unfinished event; null when it is already finished (nothing to do). */
export async function beginAttempt(db: Db, eventId: string): Promise<EventRecord | null> {
  const { rows } = await db.query<EventRecord>({
    name: 'begin-attempt',
    text: `UPDATE webhook_events
           SET status = 'processing', attempts = attempts + 1, started_at = coalesce(started_at, now()),
               next_attempt_at = NULL
           WHERE id = $1 AND status IN ('received', 'processing')
           RETURNING ${EVENT_COLUMNS}`,
    values: [eventId],
  });
  return rows[0] ?? null;
}

export async function loadCheckpoints(db: Db, eventId: string): Promise<Map<string, Checkpoint>> {
  const { rows } = await db.query<Checkpoint & { step: string }>({
    name: 'load-checkpoints',
    text: `SELECT step, status, attempts, output AS result FROM event_steps WHERE event_id = $1`,
    values: [eventId],
  });
  return new Map(rows.map((row) => [row.step, row]));
}

export async function stepStarted(db: Db, eventId: string, step: string): Promise<void> {
  await db.query({
    name: 'step-started',
    text: `INSERT INTO event_steps (event_id, step, status, attempts, started_at)
           VALUES ($1, $2, 'running', 1, now())
           ON CONFLICT (event_id, step) DO UPDATE
           SET status = 'running', attempts = event_steps.attempts + 1, started_at = now(),
               finished_at = NULL, duration_ms = NULL, error_code = NULL, error_message = NULL`,
    values: [eventId, step],
  });
}

export async function stepSucceeded(
  db: Db,
  eventId: string,
  step: string,
  result: { output?: unknown; outcome?: Outcome },
  durationMs: number,
): Promise<void> {
  await db.query({
    name: 'step-succeeded',
    text: `UPDATE event_steps SET status = 'succeeded', finished_at = now(), duration_ms = $3, output = $4
           WHERE event_id = $1 AND step = $2`,
    values: [eventId, step, Math.round(durationMs), JSON.stringify(result)],
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
    name: 'step-failed',
    text: `UPDATE event_steps SET status = 'failed', finished_at = now(), duration_ms = $3,
             error_code = $4, error_message = $5
           WHERE event_id = $1 AND step = $2`,
    values: [eventId, step, Math.round(durationMs), error.code, error.message],
  });
}

export async function completeEvent(db: Db, eventId: string, outcome: Outcome): Promise<void> {
  await db.query({
    name: 'complete-event',
    text: `UPDATE webhook_events SET status = 'completed', outcome = $2, processed_at = now(),
             error_code = NULL, error_message = NULL
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
    text: `UPDATE webhook_events SET status = 'failed', processed_at = now(), error_code = $2, error_message = $3
           WHERE id = $1 AND status = 'processing'`,
    values: [eventId, error.code, error.message],
  });
}

/** Leaves the event `processing`, with why it waits and until when. */
export async function recordRetry(
  db: Db,
  eventId: string,
  at: Date,
  error: { code: string; message: string },
): Promise<void> {
  await db.query({
    name: 'record-retry',
    text: `UPDATE webhook_events SET next_attempt_at = $2, error_code = $3, error_message = $4
           WHERE id = $1 AND status = 'processing'`,
    values: [eventId, at, error.code, error.message],
  });
}
