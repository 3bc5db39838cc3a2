import type pg from 'pg';
import { REPORT_STALE_MS, type BreakerState } from '../providers/health.ts';
import { readReconcileSummary, type ReconcileSummary } from '../reconcile/runs-repository.ts';
import { eventsByStatus } from './hour-counts.ts';

/** The providers `stats` reports on, by the names operators know. */
export const STATS_PROVIDERS = ['c2s', 'diretrix', 'workapi'] as const;
export type StatsProvider = (typeof STATS_PROVIDERS)[number];

export interface ProviderStats {
  readonly breaker: BreakerState;
  readonly last_error_code: string | null;
  readonly last_error_at: string | null;
  readonly calls_1h: number;
  readonly errors_1h: number;
}

export interface Stats {
  readonly events_by_status: Record<string, number>;
  readonly outcomes_24h: Record<string, number>;
  readonly backlog: {
    readonly due: number;
    readonly waiting_retry: number;
    readonly oldest_due_age_s: number;
  };
  readonly per_minute_1h: ReadonlyArray<{
    readonly minute: string;
    readonly received: number;
    readonly completed: number;
    readonly failed: number;
  }>;
  readonly providers: Record<StatsProvider, ProviderStats>;
  /** The scheduled reconciliation of missed webhooks: its last succeeded run, failures since. */
  readonly reconcile: ReconcileSummary;
}

const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;

/**
 * The last day from the processes' tallies (see tallies.ts): runs completed in the last 24 hours
 * by outcome, and per minute of the last hour the events received, completed and failed.
 */
const RECENT = `
  WITH recent AS (
    SELECT minute, kind, n FROM event_tallies WHERE minute >= date_trunc('minute', now()) - interval '24 hours'
  )
  SELECT 'outcome' AS kind, substr(kind, length('completed:') + 1) AS key, sum(n)::int AS n,
         NULL::int AS completed, NULL::int AS failed
  FROM recent WHERE kind LIKE 'completed:%' AND minute > now() - interval '24 hours' GROUP BY kind
  UNION ALL
  SELECT 'minute', ${iso('m.minute')},
         coalesce(sum(r.n) FILTER (WHERE r.kind = 'received'), 0)::int,
         coalesce(sum(r.n) FILTER (WHERE r.kind LIKE 'completed:%'), 0)::int,
         coalesce(sum(r.n) FILTER (WHERE r.kind = 'failed'), 0)::int
  FROM generate_series(date_trunc('minute', now()) - interval '59 minutes', date_trunc('minute', now()),
                       interval '1 minute') AS m(minute)
  LEFT JOIN recent r ON r.minute = m.minute
  GROUP BY m.minute
  ORDER BY 1, 2`;

/** The queue: only unfinished events, on the queue's partial index. */
const BACKLOG = `
  SELECT count(*) FILTER (WHERE due_at <= now())::int AS due,
         count(*) FILTER (WHERE due_at > now() AND claimed_by IS NULL)::int AS waiting_retry,
         coalesce(extract(epoch FROM now() - min(received_at) FILTER (WHERE due_at <= now())), 0)::float8 AS oldest
  FROM webhook_events WHERE status IN ('received', 'processing')`;

const PROVIDERS = `
  SELECT p.provider,
    coalesce((SELECT h.breaker FROM provider_health h
              WHERE h.provider = p.provider AND h.updated_at > now() - $1 * interval '1 millisecond'
              ORDER BY CASE h.breaker WHEN 'open' THEN 0 WHEN 'half_open' THEN 1 ELSE 2 END LIMIT 1), 'closed') AS breaker,
    last.code AS last_error_code, ${iso('last.at')} AS last_error_at,
    coalesce(sums.calls, 0)::int AS calls_1h, coalesce(sums.errors, 0)::int AS errors_1h
  FROM unnest($2::text[]) AS p(provider)
  LEFT JOIN LATERAL (SELECT h.last_error_code AS code, h.last_error_at AS at FROM provider_health h
                     WHERE h.provider = p.provider AND h.last_error_at IS NOT NULL
                     ORDER BY h.last_error_at DESC LIMIT 1) last ON true
  LEFT JOIN LATERAL (SELECT sum(c.calls) AS calls, sum(c.errors) AS errors FROM provider_calls c
                     WHERE c.provider = p.provider AND c.minute >= now() - interval '1 hour') sums ON true`;

/**
 * The admin `stats`: whole-table counts from the sealed hour counts plus the hours not sealed,
 * the last day from the processes' tallies, the backlog from the queue's own index, the
 * providers as their processes last reported and reconciliation's last runs. Nothing here reads more than an hour or two of
 * events.
 */
export async function readStats(db: pg.Pool): Promise<Stats> {
  const [byStatus, recent, backlog, providers, reconcile] = await Promise.all([
    eventsByStatus(db),
    db.query<{ kind: string; key: string; n: number; completed: number; failed: number }>(RECENT),
    db.query<{ due: number; waiting_retry: number; oldest: number }>(BACKLOG),
    db.query<ProviderStats & { provider: StatsProvider }>(PROVIDERS, [REPORT_STALE_MS, STATS_PROVIDERS]),
    readReconcileSummary(db),
  ]);
  const outcomes: Record<string, number> = {};
  const perMinute: Array<Stats['per_minute_1h'][number]> = [];
  for (const row of recent.rows) {
    if (row.kind === 'outcome') outcomes[row.key] = row.n;
    else perMinute.push({ minute: row.key, received: row.n, completed: row.completed, failed: row.failed });
  }
  const queue = backlog.rows[0] ?? { due: 0, waiting_retry: 0, oldest: 0 };
  return {
    events_by_status: byStatus,
    outcomes_24h: outcomes,
    backlog: {
      due: queue.due,
      waiting_retry: queue.waiting_retry,
      oldest_due_age_s: Math.round(queue.oldest),
    },
    per_minute_1h: perMinute,
    providers: Object.fromEntries(
      providers.rows.map(({ provider, ...stats }) => [provider, stats]),
    ) as Record<StatsProvider, ProviderStats>,
    reconcile,
  };
}
