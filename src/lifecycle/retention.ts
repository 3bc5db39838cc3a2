import type pg from 'pg';
import { startPeriodic } from '../db/periodic.ts';
import { withSessionLock } from '../db/session-lock.ts';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics.ts';

/**
 * Data retention (LGPD): what the service keeps of the people it handles, and for how long.
 *
 * - A finished event (completed, failed, stale, superseded) received before the events' cut-off
 *   (now − RETENTION_DAYS) loses its raw payload (`payload_raw = NULL`, `purged_at` set) and its
 *   steps' outputs. The row stays: ids, times, statuses, outcomes, error codes and messages, the
 *   step timeline. The age is counted from `received_at` (what the index of pending purges
 *   holds): an event that finishes only after its cut-off is purged at the first run after it
 *   finishes. An unfinished event (received, processing) is never touched.
 * - Rejected input (`rejected_webhooks`) received before the same cut-off is deleted, and so is
 *   the text of a note DRY_RUN kept instead of posting, last written before it (the ledger row
 *   stays: reference and state).
 * - A person (party) neither updated nor found for a lead since the people's cut-off
 *   (now − PEOPLE_RETENTION_DAYS) is deleted with everything attached (contacts, addresses,
 *   companies, enrichments, lead links: the foreign keys cascade).
 *
 * One purge at a time across every process: a purge holds the session advisory lock
 * RETENTION_LOCK on the one connection it does all its work on, and a purge that cannot take it
 * at once does nothing (the hourly job: the next hour; the command: says so and fails). Holding
 * it for the whole run, on that connection, means two purges never walk the same rows, and a
 * process that dies mid-purge lets go of the lock with its connection. The work itself is many
 * small statements (a batch of at most PURGE_BATCH rows each), each its own short transaction
 * that locks only its batch's rows, skipping any row someone else holds (`SKIP LOCKED`: an
 * operator's requeue or erasure is never waited for, so nothing can deadlock with it).
 */
export const RETENTION_LOCK = 0x2c5e_7e7e;

/** Rows per statement: short transactions, steady progress, small WAL bursts. */
export const PURGE_BATCH = 1000;

export const PURGE_KINDS = ['event_payloads', 'rejected_inputs', 'dry_run_notes', 'people'] as const;
export type PurgeKind = (typeof PURGE_KINDS)[number];

export type PurgeCounts = Record<PurgeKind, number>;

export interface PurgeResult extends PurgeCounts {
  /** Another purge held the lock: nothing was done. */
  readonly skipped: boolean;
}

export interface PurgeProgress {
  readonly kind: PurgeKind;
  /** Rows of this kind purged so far in this purge. */
  readonly done: number;
  /** Rows of this kind the last batch purged. */
  readonly batch: number;
}

export interface PurgeOptions {
  /** Finished events received before this lose their payload; rejected input before it goes. */
  readonly eventsBefore: Date;
  /** People neither updated nor found for a lead since this are deleted. */
  readonly peopleBefore: Date;
  /** Called after every batch. */
  readonly onProgress?: (progress: PurgeProgress) => void;
  /** Stops between batches (a service shutting down); what is done so far is answered. */
  readonly signal?: AbortSignal;
  readonly batchSize?: number;
}

/**
 * The oldest finished events not purged yet, through the index of exactly those
 * (webhook_events_unpurged_idx), locked (skipping rows someone holds), blanked with their steps'
 * outputs. The worker never writes a finished event; a requeue that makes one unfinished again
 * between this statement's snapshot and its lock is seen by the lock's recheck of the status.
 */
const PURGE_EVENTS = `
  WITH chosen AS (
    SELECT id FROM webhook_events
    WHERE purged_at IS NULL AND status NOT IN ('received', 'processing') AND received_at < $1
    ORDER BY received_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
  ), blanked AS (
    UPDATE webhook_events e SET payload_raw = NULL, purged_at = now()
    FROM chosen WHERE e.id = chosen.id
    RETURNING e.id
  ), outputs AS (
    UPDATE event_steps s SET output = NULL
    FROM blanked WHERE s.event_id = blanked.id AND s.output IS NOT NULL
  )
  SELECT count(*)::int AS n FROM blanked`;

/** The oldest rejected input before the cut-off (the received-time index), deleted. */
const PURGE_REJECTED = `
  WITH gone AS (
    DELETE FROM rejected_webhooks WHERE id IN (
      SELECT id FROM rejected_webhooks WHERE received_at < $1
      ORDER BY received_at LIMIT $2
      FOR UPDATE SKIP LOCKED)
    RETURNING id
  )
  SELECT count(*)::int AS n FROM gone`;

/** The oldest dry-run note texts before the cut-off (their own small index), deleted. */
const PURGE_DRY_RUN_NOTES = `
  WITH chosen AS (
    SELECT lead_id, ref FROM notes WHERE body IS NOT NULL AND updated_at < $1
    ORDER BY updated_at LIMIT $2
    FOR UPDATE SKIP LOCKED
  ), gone AS (
    UPDATE notes n SET body = NULL FROM chosen c WHERE n.lead_id = c.lead_id AND n.ref = c.ref
    RETURNING 1
  )
  SELECT count(*)::int AS n FROM gone`;

/**
 * People not updated since the cut-off, the next batch after the keyset ($3, $4) in
 * (updated_at, id) order. Those found for a lead since are passed over, not deleted; the keyset
 * moves past them so a batch never reads them again. The key comes back as text: a JS Date would
 * drop the microseconds and read some rows twice.
 */
const PEOPLE_CANDIDATES = `
  SELECT id, updated_at::text AS key_at FROM people.parties
  WHERE updated_at < $1 AND (updated_at, id) > ($3::timestamptz, $4::bigint)
  ORDER BY updated_at, id
  LIMIT $2`;

/** Locks the candidates no one holds (an enrichment storing the person, a lead link being added). */
const LOCK_PEOPLE = `
  SELECT id FROM people.parties WHERE id = ANY($1::bigint[]) AND updated_at < $2
  FOR UPDATE SKIP LOCKED`;

/**
 * Deletes the locked people still stale, checked again by a statement whose snapshot is newer
 * than the locks: a lead link committed before the lock is seen here, and one attempted after it
 * waits for this transaction (its foreign key check takes a lock the row lock excludes) and then
 * fails on the deleted party, which the workflow's retry handles as it handles an erased person.
 */
const DELETE_PEOPLE = `
  WITH gone AS (
    DELETE FROM people.parties p
    WHERE p.id = ANY($1::bigint[]) AND p.updated_at < $2
      AND NOT EXISTS (SELECT 1 FROM people.party_leads l WHERE l.party_id = p.id AND l.found_at >= $2)
    RETURNING p.id
  )
  SELECT count(*)::int AS n FROM gone`;

/**
 * Applies retention now (see the top of this file) and answers what it purged, or `skipped` when
 * another purge is running. Idempotent: a second purge with the same cut-offs changes nothing.
 */
export async function purge(db: pg.Pool, options: PurgeOptions): Promise<PurgeResult> {
  const batchSize = options.batchSize ?? PURGE_BATCH;
  const counts: PurgeCounts = { event_payloads: 0, rejected_inputs: 0, dry_run_notes: 0, people: 0 };
  const eventsBefore = options.eventsBefore.toISOString();
  const peopleBefore = options.peopleBefore.toISOString();
  const stopped = () => options.signal?.aborted === true;
  const progress = (kind: PurgeKind, batch: number) => {
    counts[kind] += batch;
    options.onProgress?.({ kind, done: counts[kind], batch });
  };

  const outcome = await withSessionLock(db, RETENTION_LOCK, async (client) => {
    const single = async (sql: string, before: string) => {
      const {
        rows: [row],
      } = await client.query<{ n: number }>(sql, [before, batchSize]);
      return row?.n ?? 0;
    };
    for (let n = batchSize; n === batchSize && !stopped();) {
      n = await single(PURGE_EVENTS, eventsBefore);
      progress('event_payloads', n);
    }
    for (let n = batchSize; n === batchSize && !stopped();) {
      n = await single(PURGE_REJECTED, eventsBefore);
      progress('rejected_inputs', n);
    }
    for (let n = batchSize; n === batchSize && !stopped();) {
      n = await single(PURGE_DRY_RUN_NOTES, eventsBefore);
      progress('dry_run_notes', n);
    }
    let after: { at: string; id: string } = { at: '-infinity', id: '0' };
    for (let more = true; more && !stopped();) {
      const { rows: candidates } = await client.query<{ id: string; key_at: string }>(PEOPLE_CANDIDATES, [
        peopleBefore,
        batchSize,
        after.at,
        after.id,
      ]);
      more = candidates.length === batchSize;
      const last = candidates.at(-1);
      if (!last) break;
      after = { at: last.key_at, id: last.id };
      await client.query('BEGIN');
      const { rows: locked } = await client.query<{ id: string }>(LOCK_PEOPLE, [
        candidates.map((candidate) => candidate.id),
        peopleBefore,
      ]);
      const {
        rows: [gone],
      } = await client.query<{ n: number }>(DELETE_PEOPLE, [locked.map((row) => row.id), peopleBefore]);
      await client.query('COMMIT');
      progress('people', gone?.n ?? 0);
    }
  });
  return outcome.locked ? { ...counts, skipped: false } : { ...counts, skipped: true };
}

/** How often the service purges. */
export const RETENTION_INTERVAL_MS = 60 * 60_000;
/** The first purge after a start: soon, but not in the middle of booting. */
export const RETENTION_FIRST_RUN_MS = 60_000;

export interface RetentionJobOptions {
  readonly eventDays: number;
  readonly peopleDays: number;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Tests run it more often; the service uses the constants above. */
  readonly intervalMs?: number;
  readonly firstRunMs?: number;
}

const DAY_MS = 86_400_000;

/**
 * Runs `purge` every hour (the first time shortly after start) in the background. Each process
 * may run it: the lock lets one purge at a time through, the others skip that round. Counts go to
 * `retention_purged_total` batch by batch and to one log line per purge (counts only).
 */
export function startRetention(db: pg.Pool, options: RetentionJobOptions): { stop(): Promise<void> } {
  const { metrics, logger } = options;
  return startPeriodic({
    firstRunMs: options.firstRunMs ?? RETENTION_FIRST_RUN_MS,
    intervalMs: options.intervalMs ?? RETENTION_INTERVAL_MS,
    run: (signal) => {
      const now = Date.now();
      return purge(db, {
        eventsBefore: new Date(now - options.eventDays * DAY_MS),
        peopleBefore: new Date(now - options.peopleDays * DAY_MS),
        signal,
        onProgress: ({ kind, batch }) => {
          if (batch > 0) metrics.retentionPurged.inc({ kind }, batch);
        },
      })
        .then(({ skipped, ...counts }) => {
          if (skipped) logger.debug('retention purge skipped: another process is purging');
          else logger.info({ purged: counts }, 'retention purge done');
        })
        .catch((error: unknown) => logger.warn({ err: error }, 'retention purge failed'));
    },
  });
}
