import type pg from 'pg';
import { withTransaction } from '../db/transaction.ts';

/**
 * Event counts by status without counting the events table: each UTC day old enough to be
 * settled is counted once and sealed in `event_day_counts`; `stats` adds the sealed days up and
 * counts only the days not sealed (the last few, and any a requeue reopened).
 *
 * A day is sealed once it ended more than SEAL_AFTER_DAYS ago and holds no unfinished event. From
 * then on nothing changes its counts by itself: workers touch only unfinished events, and ingest
 * stamps events with today. Only an operator's requeue does, and it unseals the day in the same
 * transaction, under this lock taken shared (requeues run side by side) where sealing takes it
 * exclusive: a seal never counts a day a concurrent requeue is changing.
 */
export const DAY_COUNTS_LOCK = 0x2c5e_da11;

/*
 * Days are UTC days, stepped in `interval '24 hours'`: a UTC day always lasts 24 hours, while
 * `interval '1 day'` is a calendar day of the session's time zone (23 or 25 hours across a
 * daylight-saving change), which would shift every later day off midnight UTC.
 */

/** Days still counted live: events usually settle within hours, retries within the retry window. */
export const SEAL_AFTER_DAYS = 2;

/** Days sealed per statement: each counts one day of events through the received-time index. */
const SEAL_BATCH_DAYS = 7;

/**
 * Seals every day that can be sealed, a week of days per transaction, and answers how many it
 * sealed. Idempotent and safe to run from several processes at once.
 */
export async function sealDays(db: pg.Pool): Promise<number> {
  let sealed = 0;
  for (;;) {
    const count = await withTransaction(db, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [DAY_COUNTS_LOCK]);
      const { rowCount } = await client.query(
        `WITH bounds AS (
           SELECT date_trunc('day', (SELECT min(received_at) FROM webhook_events), 'UTC') AS first,
                  date_trunc('day', now(), 'UTC') - $1 * interval '24 hours' AS last
         ), open_days AS (
           SELECT DISTINCT date_trunc('day', received_at, 'UTC') AS day FROM webhook_events
           WHERE status IN ('received', 'processing')
         ), candidates AS (
           SELECT d AS day FROM bounds, generate_series(bounds.first, bounds.last - interval '24 hours', interval '24 hours') d
           WHERE NOT EXISTS (SELECT 1 FROM event_day_counts c WHERE c.day = d)
             AND d NOT IN (SELECT day FROM open_days)
           ORDER BY d LIMIT $2
         )
         INSERT INTO event_day_counts (day, counts)
         SELECT c.day, coalesce((
           SELECT jsonb_object_agg(status, n) FROM (
             SELECT status, count(*) AS n FROM webhook_events
             WHERE received_at >= c.day AND received_at < c.day + interval '24 hours' GROUP BY status) s), '{}')
         FROM candidates c
         ON CONFLICT (day) DO NOTHING`,
        [SEAL_AFTER_DAYS, SEAL_BATCH_DAYS],
      );
      return rowCount ?? 0;
    });
    sealed += count;
    if (count < SEAL_BATCH_DAYS) return sealed;
  }
}

/**
 * Events by status over the whole table: the sealed days' counts plus a live count of the days
 * not sealed, each day a range of the received-time index.
 */
export async function eventsByStatus(db: pg.Pool | pg.PoolClient): Promise<Record<string, number>> {
  const { rows } = await db.query<{ status: string; n: string }>(
    `WITH sealed AS (SELECT day, counts FROM event_day_counts),
     bounds AS (
       SELECT date_trunc('day', (SELECT min(received_at) FROM webhook_events), 'UTC') AS first,
              date_trunc('day', now(), 'UTC') AS today
     ),
     live_days AS (
       SELECT d AS day FROM bounds, generate_series(bounds.first, bounds.today, interval '24 hours') d
       WHERE NOT EXISTS (SELECT 1 FROM sealed WHERE sealed.day = d)
     )
     SELECT key AS status, sum(value::bigint)::text AS n FROM sealed, jsonb_each_text(counts) GROUP BY key
     UNION ALL
     SELECT e.status, count(*)::text FROM live_days
       JOIN webhook_events e ON e.received_at >= live_days.day AND e.received_at < live_days.day + interval '24 hours'
     GROUP BY e.status
     UNION ALL
     -- Anything stamped after today began (clock skew between hosts): counted, not lost.
     SELECT e.status, count(*)::text FROM bounds JOIN webhook_events e ON e.received_at >= bounds.today + interval '24 hours'
     GROUP BY e.status`,
  );
  const counts: Record<string, number> = {};
  for (const { status, n } of rows) counts[status] = (counts[status] ?? 0) + Number(n);
  return counts;
}

/** Runs `sealDays` now and then in the background (every process may: it is idempotent). */
export function startDaySealing(
  db: pg.Pool,
  onError: (error: unknown) => void,
  intervalMs = 10 * 60_000,
): { stop(): Promise<void> } {
  let running: Promise<unknown> | undefined;
  const run = () => {
    running ??= sealDays(db)
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
