// The admin scenario's table: a million events as months of C2S traffic leave them, written by
// INSERT … SELECT so the fill takes seconds, not the hours ingesting them would.
import { availableParallelism } from 'node:os';
import pg from 'pg';

/** Mean events per lead of the mix below (1×40 %, 2×20 %, 3×15 %, 4×12 %, 6×8 %, 14×5 %). */
const EVENTS_PER_LEAD = 2.91;

/**
 * Leads, each with a few events spaced 30 min to 3 days apart, the first one up to 90 days ago
 * (twice as many leads start today as did 90 days ago); events not due yet are left out, so a
 * lead started lately has only its first ones. Then each event's hook action, status, outcome and
 * error. Percentages are of all events: superseded ~4 % and stale ~3 % (only an event with a
 * newer one of its lead), failed ~4 %, completed the rest (~89 %); closed is the outcome of a
 * completed on_close_lead. In the last hour, some events wait for a retry and the last minutes'
 * are still to run. Inserted in received order, as ingest would have: the heap follows time, as
 * in production. $1, $2: the leads' numbers (first, last); $3: how many events.
 */
const FILL = `
  WITH leads AS MATERIALIZED (
    SELECT md5('bench-lead-' || j) AS lead_id,
           CASE WHEN b < 0.40 THEN 1 WHEN b < 0.60 THEN 2 WHEN b < 0.75 THEN 3
                WHEN b < 0.87 THEN 4 WHEN b < 0.95 THEN 6 ELSE 14 END AS events,
           -- start times with a density falling linearly from 2 (now) to 1 (90 days ago)
           now() - 90 * (2 - sqrt(4 - 3 * random())) * interval '1 day' AS first_at,
           interval '30 minutes' + random() * interval '3 days' AS gap,
           random() < 0.23 AS closes
    FROM (SELECT j, random() AS b FROM generate_series($1::int, $2::int) j) picked
  ), events AS (
    SELECT l.lead_id, n, l.first_at + n * l.gap AS received_at,
           CASE WHEN n = 0 THEN 'on_create_lead' WHEN n = l.events - 1 AND l.closes THEN 'on_close_lead'
                ELSE 'on_update_lead' END AS hook_action,
           n < l.events - 1 AND l.first_at + (n + 1) * l.gap < now() AS has_newer,
           random() AS r, random() AS r2
    FROM leads l, generate_series(0, l.events - 1) n
    WHERE l.first_at + n * l.gap < now()
    LIMIT $3
  ), phased AS (
    SELECT e.*, CASE
             WHEN received_at > now() - interval '15 minutes' AND r < 0.6 THEN 'received'
             WHEN received_at > now() - interval '1 hour' AND r < 0.35 THEN 'processing'
             WHEN r >= 0.96 THEN 'failed'
             WHEN has_newer AND r < 0.0625 THEN 'superseded'
             WHEN has_newer AND r < 0.109 THEN 'stale'
             ELSE 'completed' END AS status
    FROM events e
  ), detailed AS (
    SELECT p.*,
           CASE WHEN status = 'completed' THEN CASE
             WHEN hook_action = 'on_close_lead' THEN 'closed'
             WHEN n > 0 AND r2 >= 0.9 THEN 'unchanged'
             WHEN r2 < 0.74 THEN 'enriched' ELSE 'no_match' END END AS outcome,
           CASE WHEN status = 'failed' THEN CASE
             WHEN r2 < 0.55 THEN 'c2s_not_found' WHEN r2 < 0.75 THEN 'workapi_token_refused'
             WHEN r2 < 0.9 THEN 'diretrix_timeout' ELSE 'attempts_exhausted' END
             WHEN status = 'processing' THEN 'diretrix_timeout' END AS error_code
    FROM phased p
  )
  INSERT INTO webhook_events (lead_id, updated_at, hook_action, payload_raw, received_at, status, outcome,
    attempts, started_at, processed_at, due_at, error_code, error_message)
  SELECT lead_id,
         received_at - (200 + 4800 * r2) * interval '1 millisecond', -- C2S stamped it a moment before
         hook_action, '{"bench": "admin"}'::jsonb, received_at, status, outcome,
         CASE WHEN status = 'received' THEN 0 WHEN status = 'processing' THEN 1 + (r2 * 3)::int
              WHEN error_code IN ('diretrix_timeout', 'attempts_exhausted') THEN 5
              WHEN status = 'completed' AND r2 > 0.92 THEN 2 ELSE 1 END,
         CASE WHEN status <> 'received' THEN received_at + r * interval '50 milliseconds' END,
         CASE WHEN status IN ('received', 'processing') THEN NULL
              WHEN error_code IN ('diretrix_timeout', 'attempts_exhausted')
                THEN least(now(), received_at + (5 + 25 * r2) * interval '1 minute')
              ELSE least(now(), received_at + (0.5 + 15 * r2) * interval '1 second') END,
         CASE WHEN status = 'processing' THEN now() + r2 * interval '10 minutes' ELSE received_at END,
         error_code,
         CASE error_code
           WHEN 'c2s_not_found' THEN 'C2S answered 404 for the lead'
           WHEN 'workapi_token_refused' THEN 'Work API refused the token'
           WHEN 'diretrix_timeout' THEN 'Diretrix did not answer within 30000 ms'
           WHEN 'attempts_exhausted' THEN 'gave up after 5 attempts' END
  FROM detailed
  ORDER BY detailed.received_at`;

/** A process reporting every provider healthy, and an hour of their calls per minute. */
const PROVIDERS = `
  WITH providers(provider) AS (VALUES ('c2s'), ('diretrix'), ('workapi'))
  , health AS (
    INSERT INTO provider_health (provider, process, breaker, last_error_code, last_error_at)
    SELECT provider, 'bench-worker-1', 'closed', provider || '_timeout', now() - interval '20 minutes'
    FROM providers
  )
  INSERT INTO provider_calls (provider, minute, calls, errors)
  SELECT provider, m, 20 + (random() * 20)::int, (random() < 0.1)::int
  FROM providers, generate_series(date_trunc('minute', now()) - interval '59 minutes',
                                  date_trunc('minute', now()), interval '1 minute') m`;

/** The per-minute tallies the processes would have reported for the last day's events. */
const TALLIES = `
  INSERT INTO event_tallies (minute, kind, n)
  SELECT date_trunc('minute', received_at), 'received', count(*) FROM webhook_events
  WHERE received_at >= now() - interval '24 hours' GROUP BY 1
  UNION ALL
  SELECT date_trunc('minute', processed_at),
         CASE WHEN status = 'completed' THEN 'completed:' || outcome ELSE 'failed' END, count(*)
  FROM webhook_events
  WHERE received_at >= now() - interval '25 hours' AND processed_at >= now() - interval '24 hours'
    AND status IN ('completed', 'failed')
  GROUP BY 1, 2`;

export interface Filled {
  readonly events: number;
  readonly leads: number;
  readonly seconds: number;
  /** Events by status, outcome, hook action, error code, and how many arrived lately. */
  readonly mix: Record<string, Record<string, number>>;
}

/** What the fill wrote, to check the mix against the one meant. */
const MIX = `
  SELECT 'status' AS kind, status AS key, count(*)::int AS n FROM webhook_events GROUP BY status
  UNION ALL SELECT 'outcome', outcome, count(*)::int FROM webhook_events WHERE outcome IS NOT NULL GROUP BY outcome
  UNION ALL SELECT 'hook_action', hook_action, count(*)::int FROM webhook_events GROUP BY hook_action
  UNION ALL SELECT 'error_code', error_code, count(*)::int FROM webhook_events
            WHERE error_code IS NOT NULL GROUP BY error_code
  UNION ALL SELECT 'received', k, n FROM (SELECT
              count(*) FILTER (WHERE received_at > now() - interval '1 hour')::int AS last_hour,
              count(*) FILTER (WHERE received_at > now() - interval '24 hours')::int AS last_24h,
              extract(day FROM now() - min(received_at))::int AS days_back,
              count(DISTINCT lead_id)::int AS leads FROM webhook_events) t,
            LATERAL (VALUES ('last_hour', last_hour), ('last_24h', last_24h), ('days_back', days_back),
                            ('leads', leads)) v(k, n)`;

/**
 * Inserters run side by side, one per core (index upkeep is what costs, and it is CPU): each
 * writes its own leads, in received order, on pages of its own.
 */
const INSERTERS = Math.min(4, availableParallelism());

/** Fills `webhook_events` (migrated, empty) with `events` rows; answers what it wrote. */
export async function fillEvents(url: string, events: number): Promise<Filled> {
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: INSERTERS }, (_, part) => {
      const share = Math.floor(events / INSERTERS) + (part < events % INSERTERS ? 1 : 0);
      return fillPart(url, part, share);
    }),
  );
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(PROVIDERS);
    await client.query(TALLIES);
    const seconds = (performance.now() - t0) / 1000;
    const mix: Record<string, Record<string, number>> = {};
    for (const { kind, key, n } of (await client.query<{ kind: string; key: string; n: number }>(MIX)).rows)
      (mix[kind] ??= {})[key] = n;
    const { leads, ...received } = mix.received!;
    return {
      events: Object.values(mix.status ?? {}).reduce((sum, n) => sum + n, 0),
      leads: leads ?? 0,
      seconds,
      mix: { ...mix, received },
    };
  } finally {
    await client.end();
  }
}

/** One inserter's share: `events` events of leads numbered apart from the other inserters'. */
async function fillPart(url: string, part: number, events: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`SET work_mem = '256MB'`); // the time sort stays in memory
    await client.query('SELECT setseed($1)', [0.1 * (part + 1)]); // the same table every run
    // Spares for the events not due yet: LIMIT cuts at exactly `events`.
    const leads = Math.ceil((events / EVENTS_PER_LEAD) * 1.15);
    const first = part * 10_000_000 + 1;
    await client.query(FILL, [first, first + leads - 1, events]);
  } finally {
    await client.end();
  }
}
