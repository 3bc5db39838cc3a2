import pg from 'pg';
import type { Logger } from '../log/logger.ts';
import { scrubText } from '../log/mask.ts';

/**
 * The queue is the events table itself: an unfinished event (`received` or `processing`) whose
 * `due_at` has come is work to do. Storing an event is enqueuing it, in the same row and the
 * same statement; there is no second record to keep in step with it, and none to lose.
 */

/** The channel ingest notifies, after a commit, so that idle workers in every process look at once. */
const WAKE_CHANNEL = 'c2s_enricher_events_due';

/**
 * Takes up to `$2` due events for worker `$1` and leases them for `$3` seconds (`due_at` moves
 * past the lease, so a dead worker's events come back by themselves). One event per lead: a lead
 * another worker holds is passed over, and of two due events of one lead only the first is taken.
 * SKIP LOCKED lets concurrent workers take different events without waiting for each other;
 * looking at twice as many as wanted keeps a burst of one lead's updates from starving the rest.
 */
const CLAIM = `
  WITH candidate AS (
    SELECT e.id, e.lead_id, e.due_at
    FROM webhook_events e
    WHERE e.status IN ('received', 'processing') AND e.due_at <= now()
      AND NOT EXISTS (
        SELECT 1 FROM webhook_events held
        WHERE held.lead_id = e.lead_id AND held.claimed_by IS NOT NULL AND held.id <> e.id)
    ORDER BY e.due_at
    LIMIT 2 * $2
    FOR UPDATE SKIP LOCKED
  ), chosen AS (
    SELECT id FROM (SELECT DISTINCT ON (lead_id) id, due_at FROM candidate ORDER BY lead_id, due_at) first
    ORDER BY due_at
    LIMIT $2
  )
  UPDATE webhook_events e
  SET claimed_by = $1, due_at = now() + $3 * interval '1 second'
  FROM chosen
  WHERE e.id = chosen.id
  RETURNING e.id`;

export interface Lease {
  /** Who holds the events: shown to operators, and checked when the lease is renewed. */
  readonly workerId: string;
  /** A worker that stops renewing this long is presumed dead and its events run again. */
  readonly seconds: number;
}

/** Takes due events under a lease; their ids come back in no particular order. */
export async function claimEvents(db: pg.Pool, lease: Lease, limit: number): Promise<string[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      const { rows } = await db.query<{ id: string }>({
        name: 'claim-events',
        text: CLAIM,
        values: [lease.workerId, limit, lease.seconds],
      });
      return rows.map((row) => row.id);
    } catch (error) {
      // Two workers took two events of one lead at the same instant: the unique index let one
      // through. Asking again passes over the lead, now visibly held.
      if ((error as { code?: string }).code !== '23505' || attempt === 3) throw error;
    }
  }
}

/** Pushes the lease of the events this worker is running one period further. */
export async function renewLeases(db: pg.Pool, lease: Lease, eventIds: readonly string[]): Promise<void> {
  if (eventIds.length === 0) return;
  await db.query({
    name: 'renew-leases',
    text: `UPDATE webhook_events SET due_at = now() + $3 * interval '1 second'
           WHERE id = ANY($2::uuid[]) AND claimed_by = $1`,
    values: [lease.workerId, eventIds, lease.seconds],
  });
}

/**
 * Returns a function that wakes the workers after events were committed. Concurrent calls share
 * one NOTIFY (and at most one more after it), so a busy ingest sends a few a second, not one per
 * commit. The NOTIFY runs outside the storing transaction: inside, it would hold a server-wide
 * lock through every commit. Should one be missed, workers still poll every second.
 */
export function createWaker(db: pg.Pool): () => Promise<void> {
  let inFlight: Promise<void> | undefined;
  let again = false;
  const notify = async (): Promise<void> => {
    try {
      do {
        again = false;
        await db.query({ name: 'wake-workers', text: 'SELECT pg_notify($1, NULL)', values: [WAKE_CHANNEL] });
      } while (again);
    } finally {
      inFlight = undefined;
    }
  };
  return () => {
    if (inFlight) {
      again = true;
      return inFlight;
    }
    return (inFlight = notify());
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
    const next = new pg.Client({ connectionString: url, application_name: 'c2s-enricher-listener' });
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
