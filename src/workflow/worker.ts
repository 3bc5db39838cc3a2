import type { PgBoss } from 'pg-boss';
import type pg from 'pg';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics.ts';
import { enqueueEvents, LEAD_EVENTS_QUEUE, type LeadEventJob } from '../queue/queue.ts';
import type { RetryPolicy } from './retry.ts';
import { createRunner, type Step } from './runner.ts';
import { sweepOrphanedEvents } from './sweep.ts';
import { scrubText } from '../log/mask.ts';

/** Jobs per fetch: enough to keep fetches few under load, small enough that a slow event holds little back. */
const BATCH_SIZE = 4;

export interface WorkerOptions {
  readonly db: pg.Pool;
  readonly boss: PgBoss;
  readonly steps: readonly Step[];
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly concurrency: number;
  readonly retry: RetryPolicy;
  readonly sweepIntervalMs: number;
  readonly drainTimeoutMs: number;
}

export interface Worker {
  /** Stops fetching, lets running steps finish within the drain timeout, then returns. */
  stop(): Promise<void>;
}

/** Takes lead-event jobs from the queue and runs them; sweeps for orphaned events meanwhile. */
export async function startWorker(options: WorkerOptions): Promise<Worker> {
  const { db, boss, logger, metrics } = options;
  const schedule = (client: pg.ClientBase, jobs: Parameters<typeof enqueueEvents>[2]) =>
    enqueueEvents(boss, client, jobs);
  const runEvent = createRunner({
    db,
    steps: options.steps,
    retry: options.retry,
    logger,
    metrics,
    schedule,
  });

  // Each fetch loop takes a batch and runs its events concurrently (one per lead: the queue's
  // singleton policy). A full batch is fetched again at once; a short one waits for a NOTIFY or
  // the backstop poll. (With single-job fetches, pg-boss waits a poll interval between jobs.)
  const batchSize = Math.min(BATCH_SIZE, options.concurrency);
  await boss.work<LeadEventJob>(
    LEAD_EVENTS_QUEUE,
    {
      batchSize,
      localConcurrency: Math.ceil(options.concurrency / batchSize),
      burstWhenBatchFull: true,
      perJobResults: true,
      pollingIntervalSeconds: 1,
      // NOTIFY wakes workers for jobs due now; a delayed retry is only seen by polling, so the
      // backstop poll bounds how late a retry can start.
      notifyPollingIntervalSeconds: 1,
    },
    async (jobs) =>
      Promise.all(
        jobs.map(async (job) => {
          try {
            await runEvent(job.data.eventId, job.signal);
            return { id: job.id, status: 'completed' as const };
          } catch (error) {
            // The run's own bookkeeping failed (database away): pg-boss retries the job.
            logger.warn(
              { eventId: job.data.eventId, err: { message: (error as Error).message } },
              'event run failed',
            );
            return { id: job.id, status: 'failed' as const, output: { message: (error as Error).message } };
          }
        }),
      ),
  );

  const sweep = async () => {
    try {
      const swept = await sweepOrphanedEvents(db, schedule, Math.max(options.sweepIntervalMs, 30_000));
      if (swept > 0) {
        metrics.sweptEvents.inc(swept);
        logger.warn({ swept }, 'scheduled events that had no job');
      }
    } catch (error) {
      logger.warn({ err: { message: scrubText((error as Error).message) } }, 'sweep failed');
    }
  };
  const sweeper = setInterval(() => void sweep(), options.sweepIntervalMs);
  sweeper.unref();
  logger.info({ concurrency: options.concurrency }, 'worker started');

  return {
    stop: async () => {
      clearInterval(sweeper);
      // Running steps get the drain timeout to finish; past it we exit anyway, and their jobs
      // are picked up again once their heartbeat expires.
      let timer: NodeJS.Timeout | undefined;
      const drained = await Promise.race([
        boss.offWork(LEAD_EVENTS_QUEUE, { wait: true }).then(() => true),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), options.drainTimeoutMs))),
      ]);
      clearTimeout(timer);
      if (!drained) logger.warn('running events did not finish in time; they will be retried');
    },
  };
}
