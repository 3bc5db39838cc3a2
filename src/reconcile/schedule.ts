import type pg from 'pg';
import { startPeriodic } from '../db/periodic.ts';
import { codeOf, ProviderError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import { scrubText } from '../log/mask.ts';
import type { Metrics } from '../metrics.ts';
import type { C2sClient } from '../providers/c2s/client.ts';
import { NO_PROGRESS, reconcile, type ReconcileProgress } from './reconcile.ts';
import {
  failRun,
  finishRun,
  lastCoveredUntil,
  markInterruptedRuns,
  startRun,
  withReconcileLock,
} from './runs-repository.ts';

/**
 * Each window starts this long before the last succeeded one ended: a lead updated just before
 * a run's end may reach C2S's listing late, and a webhook then in flight may still fail.
 */
export const RECONCILE_OVERLAP_MS = 10 * 60_000;
/** The first run after a start: soon (a service that was down has missed webhooks), not mid-boot. */
export const RECONCILE_FIRST_RUN_MS = 60_000;

export interface ReconcileJobOptions {
  readonly c2s: Pick<C2sClient, 'listLeadsUpdated'>;
  /** How often a run is tried (RECONCILE_INTERVAL_MINUTES). */
  readonly intervalMs: number;
  /** The first run's window (RECONCILE_LOOKBACK_HOURS). */
  readonly lookbackMs: number;
  /** This process, as runs record it (hostname:pid). */
  readonly process: string;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Tells the workers that events wait. */
  readonly wake: () => Promise<void>;
  /** Tests run it sooner and more often; the service uses the constants above. */
  readonly firstRunMs?: number;
  readonly overlapMs?: number;
}

/** What one try did: ran (and how it ended), or found another process reconciling. */
export type ReconcileTry =
  | { readonly ran: false }
  | {
      readonly ran: true;
      readonly runId: string;
      readonly succeeded: boolean;
      readonly progress: ReconcileProgress;
    };

/**
 * One scheduled run, if no other reconciliation holds the lock: marks runs a crash left
 * `running` as failed, takes the window from the last succeeded run's end (minus the overlap; the
 * look-back the first time) to now, records the run, reconciles, records how it ended. `db` gives
 * the run a connection of its own for its whole length (the lock lives on it), so it should not
 * be a pool other work depends on.
 */
export async function reconcileOnce(
  db: pg.Pool,
  options: Omit<ReconcileJobOptions, 'intervalMs' | 'firstRunMs'>,
  signal?: AbortSignal,
): Promise<ReconcileTry> {
  const { metrics, logger } = options;
  const overlapMs = options.overlapMs ?? RECONCILE_OVERLAP_MS;
  const outcome = await withReconcileLock(db, async (client): Promise<ReconcileTry> => {
    const interrupted = await markInterruptedRuns(client);
    if (interrupted > 0)
      logger.warn(
        { runs: interrupted },
        'reconciliation runs interrupted by a stop or crash: their windows are covered again',
      );
    const until = new Date();
    const covered = await lastCoveredUntil(client);
    let since = covered
      ? new Date(covered.getTime() - overlapMs)
      : new Date(until.getTime() - options.lookbackMs);
    // Another process's clock ahead of ours could put the last window's end in our future.
    if (since >= until) since = new Date(until.getTime() - overlapMs);
    const runId = await startRun(client, { since, until, process: options.process });
    const window = { from: since.toISOString(), until: until.toISOString() };
    let progress = NO_PROGRESS;
    const started = performance.now();
    try {
      progress = await reconcile({
        db: client,
        c2s: options.c2s,
        window: { since, until },
        requestId: `reconcile-${runId}`,
        wake: options.wake,
        signal,
        onPage: (current) => (progress = current),
      });
    } catch (error) {
      const stopped = signal?.aborted === true;
      await failRun(client, runId, progress, stopped ? STOPPED : describe(error));
      metrics.reconcileRuns.inc({ result: 'failed' });
      countLeads(metrics, progress);
      const reason = stopped
        ? 'the service is stopping'
        : error instanceof ProviderError
          ? 'C2S cannot be reached or refuses the listing'
          : 'it failed';
      logger.warn(
        {
          run: runId,
          window,
          listed: progress.listed,
          new: progress.new,
          known: progress.known,
          pages: progress.pages,
          err: error,
        },
        `reconciliation failed: ${reason}; the window is tried again at the next interval`,
      );
      return { ran: true, runId, succeeded: false, progress };
    }
    await finishRun(client, runId, progress);
    metrics.reconcileRuns.inc({ result: 'succeeded' });
    countLeads(metrics, progress);
    logger.info(
      { run: runId, window, ...counts(progress), elapsedMs: Math.round(performance.now() - started) },
      'reconciliation done',
    );
    return { ran: true, runId, succeeded: true, progress };
  });
  if (outcome.locked) return outcome.value;
  metrics.reconcileRuns.inc({ result: 'skipped' });
  logger.debug('reconciliation skipped: another process is reconciling');
  return { ran: false };
}

/**
 * Tries a run every `intervalMs` (the first shortly after start) in the background. Every
 * process serving the API may: the lock lets one run at a time through, the others skip that
 * round. A run that fails (C2S unreachable, the database gone) is recorded failed and its window
 * is covered by the next one. A run still going when the next is due is not doubled.
 */
export function startReconciliation(db: pg.Pool, options: ReconcileJobOptions): { stop(): Promise<void> } {
  return startPeriodic({
    firstRunMs: options.firstRunMs ?? RECONCILE_FIRST_RUN_MS,
    intervalMs: options.intervalMs,
    run: (signal) =>
      reconcileOnce(db, options, signal).catch((error: unknown) => {
        // No run row: the database could not be reached, or the lock not taken.
        options.metrics.reconcileRuns.inc({ result: 'failed' });
        options.logger.warn(
          { err: error },
          'reconciliation could not run; it is tried again at the next interval',
        );
      }),
  });
}

const STOPPED = 'stopped: the service stopped during the run';

/** A failed run's `error`: its stable code and its message, masked (never a URL or personal data). */
function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `${codeOf(error) ?? 'unexpected_error'}: ${scrubText(message, 300)}`;
}

function counts(progress: ReconcileProgress) {
  return {
    listed: progress.listed,
    new: progress.new,
    known: progress.known,
    invalid: progress.invalid,
    pages: progress.pages,
    calls: progress.calls,
    rateLimited: progress.rateLimited,
  };
}

function countLeads(metrics: Metrics, progress: ReconcileProgress): void {
  metrics.reconcileLeads.inc({ kind: 'listed' }, progress.listed);
  metrics.reconcileLeads.inc({ kind: 'new' }, progress.new);
  metrics.reconcileLeads.inc({ kind: 'known' }, progress.known);
}
