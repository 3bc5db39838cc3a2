import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Logger } from '../log/logger.ts';

/** Wake-ups: ingest tells idle workers in every process, after its commit, that events wait. */

/** The channel ingest notifies, after a commit, so that idle workers in every process look at once. */
const WAKE_CHANNEL = 'c2s_enricher_events_due';

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
      logger.warn({ err: error }, 'wake-up listener lost its connection');
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
      logger.warn({ err: error }, 'wake-up listener cannot connect');
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
