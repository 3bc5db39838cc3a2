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
    SELECT e.id, e.lead_id, e.updated_at, e.due_at, e.attempts
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
           first.attempts >= $4 AS exhausted
    FROM (SELECT DISTINCT ON (lead_id) id, lead_id, updated_at, due_at, attempts FROM candidate
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
                           ELSE 'taken ' || e.attempts || ' times without finishing (each run may have crashed its worker); last error: '
                                || coalesce(e.error_message, 'none') END,
      started_at = coalesce(e.started_at, now()),
      next_attempt_at = NULL
  FROM chosen
  WHERE e.id = chosen.id
  RETURNING e.status, e.id, e.lead_id AS "leadId", e.updated_at AS "updatedAt", e.hook_action AS "hookAction",
            CASE WHEN e.status = 'processing' THEN e.payload_raw END AS payload, e.attempts,
            e.started_at AS "startedAt"`;

export type Attempt =
  | { readonly kind: 'run'; readonly event: EventRecord; readonly fence: Fence }
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
      const { rows } = await db.query<EventRecord & { status: string }>({
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
 * Step records of many events, one row each: `$1` is their JSON (see `stepRows`). Fenced: a row is
 * written only while its event is still held by the attempt that ran the step. The share lock
 * keeps a concurrent claim from slipping in between the check and the write.
 */
const RECORD_STEPS = `
  WITH x AS (
    SELECT * FROM json_to_recordset($1::json) AS x(event_id uuid, worker text, attempt integer, step text,
      status text, started_at timestamptz, duration_ms integer, error_code text, error_message text, output jsonb)
  ), owned AS (
    SELECT e.id FROM webhook_events e JOIN (SELECT DISTINCT event_id, worker, attempt FROM x) f
      ON e.id = f.event_id AND e.claimed_by = f.worker AND e.attempts = f.attempt
    FOR SHARE OF e
  )
  INSERT INTO event_steps (event_id, step, status, attempts, started_at, finished_at, duration_ms, error_code, error_message, output)
  SELECT x.event_id, x.step, x.status, 1, x.started_at, x.started_at + x.duration_ms * interval '1 millisecond',
         x.duration_ms, x.error_code, x.error_message, x.output
  FROM x JOIN owned ON owned.id = x.event_id
  ON CONFLICT (event_id, step) DO UPDATE SET
    status = EXCLUDED.status, attempts = event_steps.attempts + 1, started_at = EXCLUDED.started_at,
    finished_at = EXCLUDED.finished_at, duration_ms = EXCLUDED.duration_ms, error_code = EXCLUDED.error_code,
    error_message = EXCLUDED.error_message, output = EXCLUDED.output
  RETURNING event_id`;

/**
 * Ends attempts of many events in one statement: lets go of each event still held by the attempt
 * ending (`completed`, `failed`, or left `processing` with why it waits and until when), and
 * records its steps not yet written. An attempt whose event another worker has taken since
 * changes nothing: the update's fence fails, and its steps go only with the events it ended.
 */
const END_ATTEMPTS = `
  WITH ending AS (
    SELECT * FROM json_to_recordset($2::json) AS x(event_id uuid, worker text, attempt integer, kind text,
      outcome text, error_code text, error_message text, at timestamptz)
  ), ended AS (
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
    WHERE e.id = x.event_id AND e.status = 'processing' AND e.claimed_by = x.worker AND e.attempts = x.attempt
    RETURNING e.id
  ), steps AS (
    INSERT INTO event_steps (event_id, step, status, attempts, started_at, finished_at, duration_ms, error_code, error_message, output)
    SELECT s.event_id, s.step, s.status, 1, s.started_at, s.started_at + s.duration_ms * interval '1 millisecond',
           s.duration_ms, s.error_code, s.error_message, s.output
    FROM json_to_recordset($1::json) AS s(event_id uuid, worker text, attempt integer, step text, status text,
      started_at timestamptz, duration_ms integer, error_code text, error_message text, output jsonb)
    JOIN ended ON ended.id = s.event_id
    ON CONFLICT (event_id, step) DO UPDATE SET
      status = EXCLUDED.status, attempts = event_steps.attempts + 1, started_at = EXCLUDED.started_at,
      finished_at = EXCLUDED.finished_at, duration_ms = EXCLUDED.duration_ms, error_code = EXCLUDED.error_code,
      error_message = EXCLUDED.error_message, output = EXCLUDED.output
  )
  SELECT id FROM ended`;

/** How an attempt ends: the event completed, failed for good, or waits for a retry at `at`. */
export type Ending =
  | { readonly kind: 'completed'; readonly outcome: Outcome }
  | { readonly kind: 'failed'; readonly code: string; readonly message: string }
  | { readonly kind: 'retry'; readonly at: Date; readonly code: string; readonly message: string };

interface Steps {
  readonly fence: Fence;
  readonly records: readonly StepRecord[];
}

function stepRows(entries: readonly Steps[]): string {
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

/** Per entry: whether its writes were let through (false: the event is no longer its attempt's). */
async function recordSteps(db: Db, entries: readonly Steps[]): Promise<boolean[]> {
  if (entries.every((entry) => entry.records.length === 0)) return entries.map(() => true);
  const { rows } = await db.query<{ event_id: string }>({
    name: 'record-steps',
    text: RECORD_STEPS,
    values: [stepRows(entries)],
  });
  const written = new Set(rows.map((row) => row.event_id));
  return entries.map((entry) => entry.records.length === 0 || written.has(entry.fence.eventId));
}

async function endAttempts(db: Db, entries: ReadonlyArray<Steps & { ending: Ending }>): Promise<boolean[]> {
  const endings = entries.map(({ fence, ending }) => ({
    event_id: fence.eventId,
    worker: fence.workerId,
    attempt: fence.attempt,
    kind: ending.kind,
    outcome: ending.kind === 'completed' ? ending.outcome : null,
    error_code: ending.kind === 'completed' ? null : ending.code,
    error_message: ending.kind === 'completed' ? null : ending.message,
    at: ending.kind === 'retry' ? ending.at.toISOString() : null,
  }));
  const { rows } = await db.query<{ id: string }>({
    name: 'end-attempts',
    text: END_ATTEMPTS,
    values: [stepRows(entries), storableJson(endings)],
  });
  const ended = new Set(rows.map((row) => row.id));
  return entries.map((entry) => ended.has(entry.fence.eventId));
}

/**
 * Checkpoint and end-of-attempt writes of all the events a worker runs, batched: runs that write
 * at the same moment share one statement (and one commit). Each answers whether the write was
 * let through by the fence.
 */
export function createAttemptWriter(db: pg.Pool) {
  return {
    recordSteps: createBatcher<Steps, boolean>((entries) => recordSteps(db, entries)),
    endAttempt: createBatcher<Steps & { ending: Ending }, boolean>((entries) => endAttempts(db, entries)),
  };
}
