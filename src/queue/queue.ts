import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Logger } from '../log/logger.ts';
import { scrubText } from '../log/mask.ts';

/**
 * The queue is the events table itself: an unfinished event (`received` or `processing`) whose
 * `due_at` has come is work to do. Storing an event is enqueuing it, in the same row and the
 * same statement; there is no second record to keep in step with it, and none to lose. Workers
 * take events with `startAttempts` (workflow/event-repository.ts) under a `Lease`, renewed here.
 */

/** The channel ingest notifies, after a commit, so that idle workers in every process look at once. */
const WAKE_CHANNEL = 'c2s_enricher_events_due';

export interface Lease {
  /** Who holds the events: shown to operators, and checked when the lease is renewed. */
  readonly workerId: string;
  /** A worker that stops renewing this long is presumed dead and its events run again. */
  readonly seconds: number;
}

/**
 * Pushes the lease of the events this worker is running one period further, and answers which
 * of them it still holds: an event missing from the answer was taken over after this worker's
 * lease ran out (it stalled), so its run must stop before its next side effect.
 */
export async function renewLeases(
  db: pg.Pool,
  lease: Lease,
  eventIds: readonly string[],
): Promise<ReadonlySet<string>> {
  if (eventIds.length === 0) return new Set();
  const { rows } = await db.query<{ id: string }>({
    name: 'renew-leases',
    text: `UPDATE webhook_events SET due_at = now() + $3 * interval '1 second'
           WHERE id = ANY($2::uuid[]) AND claimed_by = $1 AND status = 'processing'
           RETURNING id`,
    values: [lease.workerId, eventIds, lease.seconds],
  });
  return new Set(rows.map((row) => row.id));
}

/**
 * Returns a function that wakes the workers after events were committed. The first call sends a
 * NOTIFY at once; calls while one is under way, or within `minIntervalMs` of the last, share
 * the next one. So a busy ingest sends at most a hundred a second, and a lone event wakes workers
 * without delay. The NOTIFY runs outside the storing transaction: inside, it would hold a
 * server-wide lock through every commit. Should one be missed, workers still poll every second.
 */
export function createWaker(db: pg.Pool, minIntervalMs = 10): () => Promise<void> {
  let next: Promise<void> | undefined;
  let lastSentAt = 0;
  const send = async (): Promise<void> => {
    const wait = lastSentAt + minIntervalMs - Date.now();
    if (wait > 0) await sleep(wait);
    next = undefined; // calls from here on need a NOTIFY after this one
    lastSentAt = Date.now();
    await db.query({ name: 'wake-workers', text: 'SELECT pg_notify($1, NULL)', values: [WAKE_CHANNEL] });
  };
  let sending: Promise<void> = Promise.resolve();
  return () => {
    next ??= sending = sending.catch(() => {}).then(send);
    return next;
  };
}

/**
 * Listens for wake-ups on a connection of its own, reconnecting after a loss (polling covers the
 * gap). `close` ends it.
 */
export function listenForWakeups(
  url: string,
  onWake: () => void,
  logger: Logger,
): { close(): Promise<void> } {
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;

  const connect = async () => {
    const next = new pg.Client({
      connectionString: url,
      application_name: 'c2s-enricher-listener',
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    next.on('notification', onWake);
    next.on('error', (error) => {
      logger.warn({ err: { message: scrubText(error.message) } }, 'wake-up listener lost its connection');
      void next.end().catch(() => {});
      if (client === next) client = undefined;
      schedule();
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${WAKE_CHANNEL}`);
      if (closed) {
        await next.end();
        return;
      }
      client = next;
      onWake(); // whatever was notified while we were away
    } catch (error) {
      logger.warn(
        { err: { message: scrubText((error as Error).message) } },
        'wake-up listener cannot connect',
      );
      await next.end().catch(() => {});
      schedule();
    }
  };
  const schedule = () => {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, 1000);
    retry.unref();
  };
  void connect();

  return {
    close: async () => {
      closed = true;
      clearTimeout(retry);
      await client?.end().catch(() => {});
      client = undefined;
    },
  };
}
