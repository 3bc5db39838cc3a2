import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';
import type { Logger } from '../log/logger.ts';
import { scrubText } from '../log/mask.ts';
import type { Metrics } from '../metrics.ts';
import { listenForWakeups, renewLeases, type Lease } from '../queue/queue.ts';
import { startAttempts, type Attempt } from './event-repository.ts';
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
  const running = new Map<string, { controller: AbortController; done: Promise<void> }>();
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
          const attempts = await startAttempts(db, lease, room);
          // One of ours whose lease lapsed (a stalled renewal) is still running here: keep it.
          for (const attempt of attempts) if (!running.has(idOf(attempt))) start(attempt);
          if (attempts.length < room) break;
        }
      }
    } catch (error) {
      logger.warn({ err: { message: scrubText((error as Error).message) } }, 'could not take events');
    }
  };

  const start = (attempt: Attempt) => {
    const eventId = idOf(attempt);
    const controller = new AbortController();
    const done = runAttempt(attempt, controller.signal)
      .then(() => undefined)
      .catch((error: unknown) => {
        // The run's own bookkeeping failed (database away): the lease runs out and it runs again.
        logger.warn({ eventId, err: { message: scrubText((error as Error).message) } }, 'event run failed');
      })
      .finally(() => {
        running.delete(eventId);
        // Under load, take more once a batch's worth of room is free: one claim per few runs, not
        // per run. With room to spare (a light load), take at once.
        if (!stopping && concurrency - running.size >= Math.min(BATCH_SIZE, concurrency)) void fill();
      });
    running.set(eventId, { controller, done });
  };

  const renew = async () => {
    try {
      await renewLeases(db, lease, [...running.keys()]);
    } catch (error) {
      logger.warn({ err: { message: scrubText((error as Error).message) } }, 'could not renew leases');
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
