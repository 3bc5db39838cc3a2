import { PgBoss } from 'pg-boss';
import type pg from 'pg';
import type { Logger } from '../log/logger.ts';
import { scrubText } from '../log/mask.ts';

/** One job per event to process; the lead id is the singleton key, so a lead runs one event at a time. */
export const LEAD_EVENTS_QUEUE = 'lead-events';

export interface QueueSettings {
  /** A worker that stops heartbeating this long is presumed dead and its job is retried. */
  readonly heartbeatSeconds: number;
  /** How often pg-boss looks for dead workers' jobs. */
  readonly superviseIntervalSeconds: number;
}

export interface LeadEventJob {
  readonly eventId: string;
}

/**
 * Starts pg-boss on its own schema in the service's database (applying its migrations under its
 * own lock) and makes sure the lead-events queue exists.
 */
export async function startQueue(url: string, settings: QueueSettings, logger: Logger): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: url,
    max: 4,
    application_name: 'c2s-enricher-queue',
    useListenNotify: true,
    supervise: true,
    superviseIntervalSeconds: settings.superviseIntervalSeconds,
    schedule: false,
  });
  boss.on('error', (error: Error) =>
    logger.warn({ err: { message: scrubText(error.message) } }, 'queue error'),
  );
  await boss.start();
  if ((await boss.getQueue(LEAD_EVENTS_QUEUE)) === null) {
    await boss
      .createQueue(LEAD_EVENTS_QUEUE, {
        policy: 'singleton',
        notify: true,
        heartbeatSeconds: settings.heartbeatSeconds,
        // pg-boss's own retries only cover crashed workers; failures of steps are retried by the
        // workflow itself (Retry-After, backoff window), which re-enqueues with a delay.
        retryLimit: 1000,
        retryDelay: 1,
        expireInSeconds: 15 * 60,
        deleteAfterSeconds: 7 * 24 * 3600,
      })
      .catch(async (error: unknown) => {
        // Another instance created it between our check and our call.
        if ((await boss.getQueue(LEAD_EVENTS_QUEUE)) === null) throw error;
      });
  }
  return boss;
}

export interface Enqueued {
  readonly eventId: string;
  readonly leadId: string;
  /** Run no earlier than this. */
  readonly startAfter?: Date;
}

/** Adds jobs through `client`, so they commit (or roll back) with the caller's transaction. */
export async function enqueueEvents(
  boss: PgBoss,
  client: pg.ClientBase,
  jobs: readonly Enqueued[],
): Promise<void> {
  if (jobs.length === 0) return;
  await boss.insert(
    LEAD_EVENTS_QUEUE,
    jobs.map((job) => ({
      data: { eventId: job.eventId } satisfies LeadEventJob,
      singletonKey: job.leadId,
      ...(job.startAfter ? { startAfter: job.startAfter } : {}),
    })),
    { db: { executeSql: (text: string, values?: unknown[]) => client.query(text, values) } },
  );
}

/**
 * Wakes the queue's workers (in every process) after jobs were committed. The channel is the one
 * pg-boss 12 listens on for this schema; a NOTIFY outside the inserting transaction writes no WAL,
 * so it holds the notification lock only for an instant. Should it ever be missed, workers still
 * poll every second.
 */
export async function wakeWorkers(db: pg.Pool): Promise<void> {
  await db.query({
    name: 'wake-workers',
    text: `SELECT pg_notify('pgboss_' || left(encode(sha224('pgboss'::bytea), 'hex'), 24), $1)`,
    values: [LEAD_EVENTS_QUEUE],
  });
}
