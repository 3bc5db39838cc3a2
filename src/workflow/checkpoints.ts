import type pg from 'pg';
import { storableJson } from '../db/text.ts';
import type { Fence } from '../queue/claims.ts';

/**
 * Checkpoints: one row per (event, step) in `event_steps`, what a later attempt resumes from. A
 * succeeded step's row keeps its saved output (ids, references, counts and flags: never personal
 * data) under the step's output version; a step whose saved version is not its current one runs
 * again (see the runner).
 */

/** What a succeeded step saved: its output under its version, and the outcome when it ended the run. */
export interface SavedResult {
  readonly v: number;
  readonly output?: unknown;
  readonly outcome?: string;
}

export interface Checkpoint {
  readonly status: 'succeeded' | 'failed';
  readonly attempts: number;
  /** For a succeeded step: what it saved; null for a failed one, or one blanked by a migration. */
  readonly result: SavedResult | null;
}

/** How one attempt at a step ended. */
export interface StepRecord {
  readonly step: string;
  readonly status: 'succeeded' | 'failed';
  readonly startedAt: Date;
  readonly durationMs: number;
  readonly error?: { readonly code: string; readonly message: string };
  readonly result?: SavedResult;
}

export async function loadCheckpoints(db: pg.Pool, eventId: string): Promise<Map<string, Checkpoint>> {
  const { rows } = await db.query<Checkpoint & { step: string }>({
    name: 'load-checkpoints',
    text: `SELECT step, status, attempts, output AS result FROM event_steps WHERE event_id = $1`,
    values: [eventId],
  });
  return new Map(rows.map((row) => [row.step, row]));
}

/** The rows of `checkpointRowsJson`, as a relation `x` for `upsertCheckpoints`. */
export const CHECKPOINT_ROWS = `json_to_recordset($1::json) AS x(event_id uuid, worker text, attempt integer,
  step text, status text, started_at timestamptz, duration_ms integer, error_code text, error_message text, output jsonb)`;

/** Writes the checkpoint rows of relation `x` (selected by `source`), one per (event, step). */
export const upsertCheckpoints = (source: string) => `
  INSERT INTO event_steps (event_id, step, status, attempts, started_at, finished_at, duration_ms, error_code, error_message, output)
  SELECT x.event_id, x.step, x.status, 1, x.started_at, x.started_at + x.duration_ms * interval '1 millisecond',
         x.duration_ms, x.error_code, x.error_message, x.output
  FROM ${source}
  ON CONFLICT (event_id, step) DO UPDATE SET
    status = EXCLUDED.status, attempts = event_steps.attempts + 1, started_at = EXCLUDED.started_at,
    finished_at = EXCLUDED.finished_at, duration_ms = EXCLUDED.duration_ms, error_code = EXCLUDED.error_code,
    error_message = EXCLUDED.error_message, output = EXCLUDED.output`;

/** Step records of many attempts as the JSON `CHECKPOINT_ROWS` reads, each under its fence. */
export function checkpointRowsJson(
  entries: ReadonlyArray<{ readonly fence: Fence; readonly records: readonly StepRecord[] }>,
): string {
  return storableJson(
    entries.flatMap(({ fence, records }) =>
      records.map((record) => ({
        event_id: fence.eventId,
        worker: fence.workerId,
        attempt: fence.attempt,
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

/**
 * Checkpoints written in the middle of attempts, fenced: a row is written only while its event is
 * still held by the attempt that ran the step. No lock is taken for the check: a claim committed
 * between this statement's snapshot and its write can let one row through, and that row records
 * a step the late attempt did finish (its paid call was made), which the new holder may reuse.
 * What must never go through late (the event's status, the note's state) is written by updates,
 * which re-check their fence on the row itself.
 */
const RECORD_CHECKPOINTS = `
  WITH x AS (SELECT * FROM ${CHECKPOINT_ROWS}),
  owned AS (
    -- By \`= ANY\` over the ids: joined to the JSON rows (estimated at 100), the planner would scan the table.
    SELECT e.id AS event_id, e.claimed_by AS worker, e.attempts AS attempt FROM webhook_events e
    WHERE e.id = ANY($2::uuid[])
      AND EXISTS (SELECT 1 FROM x WHERE x.event_id = e.id AND x.worker = e.claimed_by AND x.attempt = e.attempts)
  )
  ${upsertCheckpoints('x JOIN owned USING (event_id, worker, attempt)')}
  RETURNING event_id`;

/** Per attempt: whether its records were let through (false: the event is no longer its own). */
export async function recordCheckpoints(
  db: pg.Pool,
  entries: ReadonlyArray<{ readonly fence: Fence; readonly records: readonly StepRecord[] }>,
): Promise<boolean[]> {
  if (entries.every((entry) => entry.records.length === 0)) return entries.map(() => true);
  const { rows } = await db.query<{ event_id: string }>({
    name: 'record-checkpoints',
    text: RECORD_CHECKPOINTS,
    values: [checkpointRowsJson(entries), entries.map((entry) => entry.fence.eventId)],
  });
  const written = new Set(rows.map((row) => row.event_id));
  return entries.map((entry) => entry.records.length === 0 || written.has(entry.fence.eventId));
}
