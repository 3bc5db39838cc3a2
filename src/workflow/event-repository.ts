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

/** How one attempt at a step ended. */
export interface StepRecord {
  readonly step: string;
  readonly status: 'succeeded' | 'failed';
  readonly startedAt: Date;
  readonly durationMs: number;
  readonly error?: { readonly code: string; readonly message: string };
  readonly result?: { readonly output?: unknown; readonly outcome?: Outcome };
}

/**
 * Upserts step records in one write (a step killed mid-way leaves no row and simply runs again).
 * `$2` is the records as JSON; the statement is used alone or ahead of the one ending an attempt.
 */
const RECORD_STEPS = `
  INSERT INTO event_steps (event_id, step, status, attempts, started_at, finished_at, duration_ms, error_code, error_message, output)
  SELECT $1, x.step, x.status, 1, x.started_at, x.started_at + x.duration_ms * interval '1 millisecond',
         x.duration_ms, x.error_code, x.error_message, x.output
  FROM json_to_recordset($2::json) AS x(step text, status text, started_at timestamptz, duration_ms integer,
                                        error_code text, error_message text, output jsonb)
  ON CONFLICT (event_id, step) DO UPDATE SET
    status = EXCLUDED.status, attempts = event_steps.attempts + 1, started_at = EXCLUDED.started_at,
    finished_at = EXCLUDED.finished_at, duration_ms = EXCLUDED.duration_ms, error_code = EXCLUDED.error_code,
    error_message = EXCLUDED.error_message, output = EXCLUDED.output`;

function stepsJson(records: readonly StepRecord[]): string {
  return JSON.stringify(
    records.map((record) => ({
      step: record.step,
      status: record.status,
      started_at: record.startedAt.toISOString(),
      duration_ms: Math.round(record.durationMs),
      error_code: record.error?.code ?? null,
      error_message: record.error?.message ?? null,
      output: record.result ?? null,
    })),
  );
}

export async function recordSteps(db: Db, eventId: string, records: readonly StepRecord[]): Promise<void> {
  if (records.length === 0) return;
  await db.query({ name: 'record-steps', text: RECORD_STEPS, values: [eventId, stepsJson(records)] });
}

/** How an attempt ends: the event completed, failed for good, or waits for a retry at `at`. */
export type Ending =
  | { readonly kind: 'completed'; readonly outcome: Outcome }
  | { readonly kind: 'failed'; readonly code: string; readonly message: string }
  | { readonly kind: 'retry'; readonly at: Date; readonly code: string; readonly message: string };

/**
 * Ends an attempt in one statement: records its steps not yet written and lets go of the event,
 * `completed`, `failed`, or left `processing` with why it waits and until when.
 */
export async function endAttempt(
  db: Db,
  eventId: string,
  ending: Ending,
  records: readonly StepRecord[],
): Promise<void> {
  const values: unknown[] = [eventId, stepsJson(records)];
  let update: string;
  if (ending.kind === 'completed') {
    values.push(ending.outcome);
    update = `status = 'completed', outcome = $3, processed_at = now(), error_code = NULL, error_message = NULL`;
  } else if (ending.kind === 'failed') {
    values.push(ending.code, ending.message);
    update = `status = 'failed', processed_at = now(), error_code = $3, error_message = $4`;
  } else {
    values.push(ending.code, ending.message, ending.at);
    update = `next_attempt_at = $5, due_at = $5, error_code = $3, error_message = $4`;
  }
  await db.query({
    name: `end-attempt-${ending.kind}`,
    text: `WITH steps AS (${RECORD_STEPS})
           UPDATE webhook_events SET ${update}, claimed_by = NULL
           WHERE id = $1 AND status = 'processing'`,
    values,
  });
}
