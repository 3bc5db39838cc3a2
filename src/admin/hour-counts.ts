import type pg from 'pg';
import { withTransaction } from '../db/transaction.ts';

/**
 * Event counts by status without counting the events table: each hour of received time that has
 * settled is counted once and sealed in `event_hour_counts`; `stats` adds the sealed hours up and
 * counts only the hours not sealed (the last one or two, and any a requeue reopened or a retry
 * keeps open).
 *
 * An hour is sealed once it ended more than SEAL_AFTER_MINUTES ago and holds no unfinished event.
 * From then on nothing changes its counts by itself: workers touch only unfinished events, and
 * ingest stamps events with the current time. Only an operator's requeue does, and it unseals the
 * hour in the same transaction, under this lock taken shared (requeues run side by side) where
 * sealing takes it exclusive: a seal never counts an hour a concurrent requeue is changing.
 *
 * Hours are UTC hours (`date_trunc('hour', …, 'UTC')`, stepped by `interval '1 hour'`): in a zone
 * offset by half an hour they would start at :30, and two sessions in two zones would disagree.
 */
export const HOUR_COUNTS_LOCK = 0x2c5e_da11;

/**
 * The oldest received time: the smaller of the finished events' oldest (first entry of their
 * received-time index) and the unfinished ones' (the queue). As one `min()` over the table it
 * would be a scan: no index holds every event's received time.
 */
const FIRST_RECEIVED = `least(
  (SELECT min(received_at) FROM webhook_events WHERE status NOT IN ('received', 'processing')),
  (SELECT min(received_at) FROM webhook_events WHERE status IN ('received', 'processing')))`;

/** How long after an hour ends it may be sealed: events usually finish within seconds. */
export const SEAL_AFTER_MINUTES = 10;

/** Hours sealed per statement (a day's worth). */
const SEAL_BATCH_HOURS = 24;

/**
 * Seals every hour that can be sealed, a day of hours per transaction, and answers how many it
 * sealed. Idempotent and safe to run from several processes at once.
 */
export async function sealHours(db: pg.Pool): Promise<number> {
  let sealed = 0;
  for (;;) {
    const count = await withTransaction(db, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [HOUR_COUNTS_LOCK]);
      const { rowCount } = await client.query(
        `WITH bounds AS (
           SELECT date_trunc('hour', ${FIRST_RECEIVED}, 'UTC') AS first,
                  date_trunc('hour', now() - $1 * interval '1 minute', 'UTC') AS stop
         ), open_hours AS (
           SELECT DISTINCT date_trunc('hour', received_at, 'UTC') AS hour FROM webhook_events
           WHERE status IN ('received', 'processing')
         ), candidates AS (
           SELECT h AS hour FROM bounds, generate_series(bounds.first, bounds.stop - interval '1 hour', interval '1 hour') h
           WHERE NOT EXISTS (SELECT 1 FROM event_hour_counts c WHERE c.hour = h)
             AND h NOT IN (SELECT hour FROM open_hours)
           ORDER BY h LIMIT $2
         )
         INSERT INTO event_hour_counts (hour, counts)
         SELECT c.hour, coalesce((
           SELECT jsonb_object_agg(status, n) FROM (
             -- The hour holds finished events only: counted through the list index on them.
             SELECT status, count(*) AS n FROM webhook_events
             WHERE received_at >= c.hour AND received_at < c.hour + interval '1 hour'
               AND status NOT IN ('received', 'processing')
             GROUP BY status) s), '{}')
         FROM candidates c
         ON CONFLICT (hour) DO NOTHING`,
        [SEAL_AFTER_MINUTES, SEAL_BATCH_HOURS],
      );
      return rowCount ?? 0;
    });
    sealed += count;
    if (count < SEAL_BATCH_HOURS) return sealed;
  }
}

/**
 * Events by status over the whole table: the sealed hours' counts plus a live count of the hours
 * not sealed, each hour a range of the received-time index.
 */
export async function eventsByStatus(db: pg.Pool | pg.PoolClient): Promise<Record<string, number>> {
  const { rows } = await db.query<{ status: string; n: string }>(
    `WITH bounds AS (
       SELECT date_trunc('hour', ${FIRST_RECEIVED}, 'UTC') AS first,
              date_trunc('hour', now(), 'UTC') AS current
     ),
     live_hours AS (
       SELECT h AS hour FROM bounds, generate_series(bounds.first, bounds.current, interval '1 hour') h
       WHERE NOT EXISTS (SELECT 1 FROM event_hour_counts c WHERE c.hour = h)
     )
     SELECT key AS status, sum(value::bigint)::text AS n FROM event_hour_counts, jsonb_each_text(counts) GROUP BY key
     UNION ALL
     -- Finished events of the hours not sealed, through the list index on finished events.
     SELECT e.status, count(*)::text FROM live_hours
       JOIN webhook_events e ON e.received_at >= live_hours.hour AND e.received_at < live_hours.hour + interval '1 hour'
                            AND e.status NOT IN ('received', 'processing')
     GROUP BY e.status
     UNION ALL
     -- Finished events stamped after the current hour (clock skew between hosts): counted, not lost.
     SELECT e.status, count(*)::text FROM bounds
       JOIN webhook_events e ON e.received_at >= bounds.current + interval '1 hour'
                            AND e.status NOT IN ('received', 'processing')
     GROUP BY e.status
     UNION ALL
     -- Unfinished events, all in hours not sealed (sealing waits for them), through the queue's index.
     SELECT status, count(*)::text FROM webhook_events WHERE status IN ('received', 'processing')
     GROUP BY status`,
  );
  const counts: Record<string, number> = {};
  for (const { status, n } of rows) counts[status] = (counts[status] ?? 0) + Number(n);
  return counts;
}

/** Runs `sealHours` now and then in the background (every process may: it is idempotent). */
export function startHourSealing(
  db: pg.Pool,
  onError: (error: unknown) => void,
  intervalMs = 5 * 60_000,
): { stop(): Promise<void> } {
  let running: Promise<unknown> | undefined;
  const run = () => {
    running ??= sealHours(db)
      .catch(onError)
      .finally(() => (running = undefined));
  };
  run();
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
