import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';
import type { Logger } from '../log/logger.ts';
import { LeaseLostError } from '../errors.ts';
import type { Metrics } from '../metrics.ts';
import { renewLeases, startAttempts, type Attempt, type Lease } from '../queue/claims.ts';
import { listenForWakeups } from '../queue/wakeups.ts';
import type { RetryPolicy } from './retry.ts';
import { createRunner, type Step } from './runner.ts';

/** Events per claim: few statements under load, little held back by one slow event. */
const BATCH_SIZE = 8;
/** Backstop: a missed wake-up, a retry coming due or a dead worker's lease running out is seen this late. */
const POLL_MS = 1000;

export interface WorkerOptions {
  readonly db: pg.Pool;
  /** For the wake-up listener's own connection. */
  readonly databaseUrl: string;
  readonly steps: readonly Step[];
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly concurrency: number;
  /** Seconds without renewal after which a worker is presumed dead and its events run again. */
  readonly leaseSeconds: number;
  readonly retry: RetryPolicy;
  readonly drainTimeoutMs: number;
}

/** A run in this process: how to stop it, when it ends, and when its lease was last confirmed. */
interface Run {
  readonly controller: AbortController;
  readonly done: Promise<void>;
  /** When the claim or renewal that last confirmed the lease was sent (local clock). */
  confirmedAt: number;
}

export interface Worker {
  /** Stops taking events, lets running ones finish within the drain timeout, then returns. */
  stop(): Promise<void>;
}

/**
 * Takes due events and runs up to `concurrency` of them at once. It takes more as soon as it has
 * room: when woken by ingest's NOTIFY, when an event finishes, and on a one-second poll.
 */
export async function startWorker(options: WorkerOptions): Promise<Worker> {
  const { db, logger, concurrency } = options;
  const lease: Lease = {
    workerId: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    seconds: options.leaseSeconds,
  };
  const runAttempt = createRunner({
    db,
    steps: options.steps,
    retry: options.retry,
    logger,
    metrics: options.metrics,
  });
  const leaseMs = lease.seconds * 1000;
  const running = new Map<string, Run>();
  let stopping = false;
  let claiming: Promise<void> | undefined;
  let wanted = false;

  // One claim loop at a time; a call while it runs makes it look once more before it ends.
  const fill = (): Promise<void> => {
    wanted = true;
    return (claiming ??= claim().finally(() => (claiming = undefined)));
  };
  const claim = async (): Promise<void> => {
    try {
      while (wanted && !stopping) {
        wanted = false;
        while (!stopping && running.size < concurrency) {
          const room = Math.min(BATCH_SIZE, concurrency - running.size);
          const sentAt = performance.now();
          const attempts = await startAttempts(db, lease, room, options.retry.maxAttempts);
          for (const attempt of attempts) {
            const stale = running.get(idOf(attempt));
            if (!stale) start(attempt, sentAt);
            else {
              // One of ours whose lease lapsed (a stalled renewal) came back to us: the old run
              // writes under the old attempt's fence, so it stops and the new attempt follows it.
              stale.controller.abort(new LeaseLostError());
              void stale.done.then(() => {
                // A stop in between: the new attempt is not started, and runs again after its lease.
                if (!stopping) start(attempt, sentAt);
              });
            }
          }
          if (attempts.length < room) break;
        }
      }
    } catch (error) {
      logger.warn({ err: error }, 'could not take events');
    }
  };

  const start = (attempt: Attempt, claimedAt: number) => {
    const eventId = idOf(attempt);
    const controller = new AbortController();
    const hold = {
      held: () =>
        !(controller.signal.reason instanceof LeaseLostError) &&
        performance.now() - (running.get(eventId)?.confirmedAt ?? claimedAt) < leaseMs,
    };
    const done = runAttempt(attempt, controller.signal, hold)
      .then(() => undefined)
      .catch((error: unknown) => {
        // The run's own bookkeeping failed (database away): the lease runs out and it runs again.
        logger.warn({ eventId, err: error }, 'event run failed');
      })
      .finally(() => {
        running.delete(eventId);
        // Under load, take more once a batch's worth of room is free: one claim per few runs, not
        // per run. With room to spare (a light load), take at once.
        if (!stopping && concurrency - running.size >= Math.min(BATCH_SIZE, concurrency)) void fill();
      });
    running.set(eventId, { controller, done, confirmedAt: claimedAt });
  };

  // A lease is confirmed by each renewal that extends it. One reported lost, or not
  // confirmed for a whole lease period (the database unreachable, the process stalled), is
  // presumed taken over: its run is told to stop before its next side effect.
  const renew = async () => {
    const sentAt = performance.now();
    const ids = [...running.keys()];
    try {
      const { renewed, lost } = await renewLeases(db, lease, ids);
      for (const id of ids) {
        const run = running.get(id);
        if (!run) continue;
        if (renewed.has(id)) run.confirmedAt = sentAt;
        else if (lost.has(id)) run.controller.abort(new LeaseLostError());
        // Neither: busy with a fenced write just then; the next renewal confirms it.
      }
    } catch (error) {
      logger.warn({ err: error }, 'could not renew leases');
      for (const run of running.values())
        if (performance.now() - run.confirmedAt >= leaseMs) run.controller.abort(new LeaseLostError());
    }
  };

  const listener = listenForWakeups(options.databaseUrl, () => void fill(), logger);
  const poller = setInterval(() => void fill(), POLL_MS);
  // Three renewals per lease: one lost to a slow database does not cost the lease.
  const renewer = setInterval(() => void renew(), (lease.seconds * 1000) / 3);
  void fill();
  logger.info({ concurrency, worker: lease.workerId }, 'worker started');

  return {
    stop: async () => {
      stopping = true;
      clearInterval(poller);
      await listener.close();
      await claiming; // events it takes now are waited for like the others
      // Running events get the drain timeout to finish (their leases still renewed); past it
      // they are told to give up, and run again elsewhere once their lease runs out.
      let timer: NodeJS.Timeout | undefined;
      const drained = await Promise.race([
        Promise.all([...running.values()].map((run) => run.done)).then(() => true),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), options.drainTimeoutMs))),
      ]);
      clearTimeout(timer);
      clearInterval(renewer);
      if (!drained) {
        logger.warn({ running: running.size }, 'running events did not finish in time; they will run again');
        for (const run of running.values()) run.controller.abort();
      }
    },
  };
}

const idOf = (attempt: Attempt) => (attempt.kind === 'run' ? attempt.event.id : attempt.eventId);
