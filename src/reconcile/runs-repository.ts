import type pg from 'pg';
import { withSessionLock } from '../db/session-lock.ts';
import type { ReconcileCounts } from './reconcile.ts';

/**
 * The session advisory lock every reconciliation holds for its whole run, scheduled or from the
 * command line: one at a time across every process, since C2S's listing limit is per token (two
 * listings at once would each get half of it, and 429s). Held on the connection the run works
 * on, so a process that dies lets go of it with its connection.
 */
export const RECONCILE_LOCK = 0x2c5e_7ec0;

/** Runs `work` holding RECONCILE_LOCK (see `withSessionLock`), or answers `locked: false`. */
export function withReconcileLock<T>(db: pg.Pool, work: (client: pg.PoolClient) => Promise<T>) {
  return withSessionLock(db, RECONCILE_LOCK, work);
}

/**
 * Runs left `running` are dead: their process crashed or was killed mid-run (the caller holds the
 * lock, so none is live). They are marked failed; their windows are covered again because the
 * next window starts from the last *succeeded* run. Answers how many there were.
 */
export async function markInterruptedRuns(client: pg.ClientBase): Promise<number> {
  const { rowCount } = await client.query(
    `UPDATE reconcile_runs SET status = 'failed', error = 'interrupted: the process stopped before the run finished'
     WHERE status = 'running'`,
  );
  return rowCount ?? 0;
}

/** The end of the last succeeded run's window: everything up to it has been listed. */
export async function lastCoveredUntil(client: pg.ClientBase): Promise<Date | undefined> {
  const { rows } = await client.query<{ until: Date | null }>(
    `SELECT max(window_until) AS until FROM reconcile_runs WHERE status = 'succeeded'`,
  );
  return rows[0]?.until ?? undefined;
}

export async function startRun(
  client: pg.ClientBase,
  run: { readonly since: Date; readonly until: Date; readonly process: string },
): Promise<string> {
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO reconcile_runs (window_from, window_until, process) VALUES ($1, $2, $3) RETURNING id`,
    [run.since, run.until, run.process],
  );
  return rows[0]!.id;
}

export async function finishRun(client: pg.ClientBase, id: string, counts: ReconcileCounts): Promise<void> {
  await client.query(
    `UPDATE reconcile_runs SET status = 'succeeded', finished_at = now(), listed = $2, new = $3, known = $4
     WHERE id = $1`,
    [id, counts.listed, counts.new, counts.known],
  );
}

/** `counts`: what the run did before it failed (what it stored stays stored). */
export async function failRun(
  client: pg.ClientBase,
  id: string,
  counts: ReconcileCounts,
  error: string,
): Promise<void> {
  await client.query(
    `UPDATE reconcile_runs SET status = 'failed', finished_at = now(), listed = $2, new = $3, known = $4, error = $5
     WHERE id = $1`,
    [id, counts.listed, counts.new, counts.known, error],
  );
}

/** What `stats` and the gauges say about reconciliation. Times are RFC 3339 in UTC. */
export interface ReconcileSummary {
  /** When the last succeeded run finished. */
  readonly last_run_at: string | null;
  /** The end of its window: the next run starts there, minus the overlap. */
  readonly last_cursor: string | null;
  /** Events it stored that no webhook had brought. */
  readonly last_found: number | null;
  readonly last_window_from: string | null;
  readonly last_listed: number | null;
  readonly last_known: number | null;
  /** Runs failed since the last succeeded one (all of them, when none has succeeded). */
  readonly consecutive_failures: number;
  /** The last failed run's error and start, while failures are consecutive; else null. */
  readonly last_error: string | null;
  readonly last_error_at: string | null;
}

const ISO_MS = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', ${ISO_MS})`;

/**
 * Reads a handful of rows on the started_at index: the last succeeded run, the runs after it
 * (failures: at most one per interval since that success) and the newest of those.
 */
const SUMMARY = `
  WITH success AS (
    SELECT * FROM reconcile_runs WHERE status = 'succeeded' ORDER BY started_at DESC LIMIT 1
  ), failures AS (
    SELECT started_at, error FROM reconcile_runs
    WHERE status = 'failed' AND started_at > coalesce((SELECT started_at FROM success), '-infinity')
  )
  SELECT ${iso('s.finished_at')} AS last_run_at, ${iso('s.window_until')} AS last_cursor, s.new AS last_found,
         ${iso('s.window_from')} AS last_window_from, s.listed AS last_listed, s.known AS last_known,
         (SELECT count(*)::int FROM failures) AS consecutive_failures,
         f.error AS last_error, ${iso('f.started_at')} AS last_error_at
  FROM (SELECT 1) AS one
  LEFT JOIN success s ON true
  LEFT JOIN LATERAL (SELECT * FROM failures ORDER BY started_at DESC LIMIT 1) f ON true`;

export async function readReconcileSummary(db: pg.Pool | pg.ClientBase): Promise<ReconcileSummary> {
  const { rows } = await db.query<ReconcileSummary>({ name: 'reconcile-summary', text: SUMMARY });
  return rows[0]!;
}
