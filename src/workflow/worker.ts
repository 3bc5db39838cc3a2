import type { PgBoss } from 'pg-boss';
import type pg from 'pg';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics.ts';
import { enqueueEvents, LEAD_EVENTS_QUEUE, type LeadEventJob } from '../queue/queue.ts';
import type { RetryPolicy } from './retry.ts';
import { createRunner, type Step } from './runner.ts';
import { sweepOrphanedEvents } from './sweep.ts';

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

  await boss.work<LeadEventJob>(
    LEAD_EVENTS_QUEUE,
    {
      batchSize: 1,
      localConcurrency: options.concurrency,
      pollingIntervalSeconds: 1,
      // NOTIFY wakes workers for jobs due now; a delayed retry is only seen by polling, so the
      // backstop poll bounds how late a retry can start.
      notifyPollingIntervalSeconds: 1,
    },
    async ([job]) => {
      if (job) await runEvent(job.data.eventId, job.signal);
    },
  );

  const sweep = async () => {
    try {
      const swept = await sweepOrphanedEvents(db, schedule, Math.max(options.sweepIntervalMs, 30_000));
      if (swept > 0) {
        metrics.sweptEvents.inc(swept);
        logger.warn({ swept }, 'scheduled events that had no job');
      }
    } catch (error) {
      logger.warn({ err: { message: (error as Error).message } }, 'sweep failed');
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
