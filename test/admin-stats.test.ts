// The admin `stats`: event counts from sealed day counts plus the live days, the last day's
// outcomes and per-minute series, the backlog, and provider health as the worker processes
// report it to the database, asked of a process that runs no workers. Each answer over HTTP is
// checked against the rows themselves.
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { test } from 'node:test';
import pg from 'pg';
import { sealDays } from '../src/admin/day-counts.ts';
import { reprocessEvent } from '../src/admin/requeue.ts';
import { readStats } from '../src/admin/stats.ts';
import { startSimulators } from './helpers/enrichment.ts';
import { freshDatabase, type TestDatabase } from './helpers/database.ts';
import { spawnService } from './helpers/process.ts';
import { ADMIN_TOKEN, SECRET, startService } from './helpers/service.ts';
import { until } from './helpers/wait.ts';
import { settled } from './helpers/workflow.ts';

const ADMIN = '/api/v1/admin';

interface ProviderStats {
  breaker: string;
  last_error_code: string | null;
  last_error_at: string | null;
  calls_1h: number;
  errors_1h: number;
}

interface Stats {
  events_by_status: Record<string, number>;
  outcomes_24h: Record<string, number>;
  backlog: { due: number; waiting_retry: number; oldest_due_age_s: number };
  per_minute_1h: Array<{ minute: string; received: number; completed: number; failed: number }>;
  providers: Record<'c2s' | 'diretrix' | 'workapi', ProviderStats>;
  reconcile: { last_run_at: string | null; last_cursor: string | null; last_found: number | null };
}

async function getStats(baseUrl: string): Promise<Stats> {
  const response = await fetch(`${baseUrl}${ADMIN}/stats`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as Stats;
}

/** An event row as the tests place it; times are SQL expressions (relative to now()). */
interface PlacedEvent {
  readonly lead: string;
  readonly status: 'received' | 'processing' | 'completed' | 'failed' | 'stale' | 'superseded';
  readonly receivedAt: string;
  readonly outcome?: 'enriched' | 'no_match' | 'unchanged' | 'closed';
  readonly processedAt?: string;
  readonly dueAt?: string;
  readonly claimedBy?: string;
  readonly errorCode?: string;
}

async function place(db: TestDatabase, events: readonly PlacedEvent[]): Promise<string[]> {
  const ids: string[] = [];
  for (const event of events) {
    const finished = event.status !== 'received' && event.status !== 'processing';
    const processedAt = event.processedAt ?? (finished ? event.receivedAt : 'NULL');
    const outcome = event.outcome ?? (event.status === 'completed' ? 'enriched' : null);
    const errorCode = event.errorCode ?? (event.status === 'failed' ? 'c2s_rejected' : null);
    const { rows } = await db.pool.query<{ id: string }>(
      `INSERT INTO webhook_events
         (lead_id, updated_at, hook_action, payload_raw, received_at, processed_at, status, outcome,
          error_code, due_at, claimed_by)
       VALUES ($1, now(), 'on_create_lead', '{}'::jsonb, ${event.receivedAt}, ${processedAt}, $2, $3, $4,
               ${event.dueAt ?? event.receivedAt}, $5)
       RETURNING id`,
      [event.lead, event.status, outcome, errorCode, event.claimedBy ?? null],
    );
    ids.push(rows[0]!.id);
  }
  return ids;
}

/** What a count of the whole table says: the truth `events_by_status` must equal. */
async function countedByStatus(db: TestDatabase): Promise<Record<string, number>> {
  const { rows } = await db.pool.query<{ status: string; n: number }>(
    'SELECT status, count(*)::int AS n FROM webhook_events GROUP BY status',
  );
  return Object.fromEntries(rows.map((row) => [row.status, row.n]));
}

/** The sealed days, as days before today (UTC), and their counts. */
async function sealedDays(db: TestDatabase): Promise<Map<number, Record<string, number>>> {
  const { rows } = await db.pool.query<{ ago: number; counts: Record<string, number> }>(
    `SELECT (extract(epoch FROM date_trunc('day', now(), 'UTC') - day) / 86400)::float8 AS ago, counts
     FROM event_day_counts ORDER BY day`,
  );
  return new Map(rows.map((row) => [row.ago, row.counts]));
}

/** Counts of one UTC day (`ago` days before today), straight from the rows. */
async function countedOnDay(db: TestDatabase, ago: number): Promise<Record<string, number>> {
  const { rows } = await db.pool.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM webhook_events
     WHERE received_at >= date_trunc('day', now(), 'UTC') - $1 * interval '24 hours'
       AND received_at < date_trunc('day', now(), 'UTC') - ($1 - 1) * interval '24 hours'
     GROUP BY status`,
    [ago],
  );
  return Object.fromEntries(rows.map((row) => [row.status, row.n]));
}

const dayAt = (ago: number, hour: number) =>
  `date_trunc('day', now(), 'UTC') - interval '${ago} days' + interval '${hour} hours'`;

const FINISHED: ReadonlyArray<PlacedEvent['status']> = ['completed', 'failed', 'stale', 'superseded'];

test('events_by_status matches a count of the table across sealed and live days, through a requeue and a new seal', async (t) => {
  const db = await freshDatabase(t);
  // Twelve days of events, several statuses a day (hours chosen so that none is in the future).
  const events: PlacedEvent[] = [];
  for (let ago = 11; ago >= 0; ago--) {
    const hour = ago === 0 ? 0 : 13;
    const kinds = [...FINISHED.slice(0, 2 + (ago % 3)), 'completed' as const];
    kinds.forEach((status, i) => events.push({ lead: `d${ago}-${i}`, status, receivedAt: dayAt(ago, hour) }));
    // The last few days still have work in progress, as a live service would.
    if (ago <= 2) events.push({ lead: `d${ago}-open`, status: 'received', receivedAt: dayAt(ago, hour) });
  }
  // Five days ago one event is still being processed: its day must stay live.
  events.push({ lead: 'd5-running', status: 'processing', receivedAt: dayAt(5, 20) });
  const [toRequeue, running] = await place(db, [
    { lead: 'd4-requeue', status: 'failed', receivedAt: dayAt(4, 9), errorCode: 'c2s_server_error' },
    { lead: 'd5-running-2', status: 'processing', receivedAt: dayAt(5, 21) },
  ]);
  await place(db, events);

  // Days that ended more than 2 days ago and hold nothing unfinished: 11..3 days ago, but 5.
  const sealable = [3, 4, 6, 7, 8, 9, 10, 11];
  assert.equal(await sealDays(db.pool), sealable.length);
  const sealed = await sealedDays(db);
  assert.deepEqual(
    [...sealed.keys()].sort((a, b) => a - b),
    sealable,
  );
  for (const ago of sealable) assert.deepEqual(sealed.get(ago), await countedOnDay(db, ago), `day -${ago}`);
  // A second run has nothing left to do and changes nothing.
  const before = await db.pool.query('SELECT day, counts, sealed_at FROM event_day_counts ORDER BY day');
  assert.equal(await sealDays(db.pool), 0);
  const after = await db.pool.query('SELECT day, counts, sealed_at FROM event_day_counts ORDER BY day');
  assert.deepEqual(after.rows, before.rows);

  const api = await startService(t, { role: 'api', db });
  const initial = await getStats(api.url);
  assert.deepEqual(initial.events_by_status, await countedByStatus(db));
  assert.equal(initial.events_by_status.processing, 2);

  // The sealed days are read from their counts, not counted again: a row slipped into a sealed
  // day behind the service's back does not show, while one in a live day does.
  const [slipped] = await place(db, [{ lead: 'slipped', status: 'completed', receivedAt: dayAt(8, 2) }]);
  assert.deepEqual((await getStats(api.url)).events_by_status, initial.events_by_status);
  await db.pool.query('DELETE FROM webhook_events WHERE id = $1', [slipped]);
  await place(db, [{ lead: 'live-1', status: 'stale', receivedAt: dayAt(5, 1) }]);
  const withLive = await getStats(api.url);
  assert.equal(withLive.events_by_status.stale, initial.events_by_status.stale! + 1);
  assert.deepEqual(withLive.events_by_status, await countedByStatus(db));

  // Requeue the failed event of a sealed day: its day is unsealed and the counts follow.
  const requeued = await fetch(`${api.url}${ADMIN}/events/${toRequeue}/reprocess`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ from: 'failed_step' }),
  });
  assert.equal(requeued.status, 202, await requeued.text());
  assert.deepEqual(
    [...(await sealedDays(db)).keys()].sort((a, b) => a - b),
    sealable.filter((ago) => ago !== 4),
  );
  const afterRequeue = await getStats(api.url);
  assert.deepEqual(afterRequeue.events_by_status, await countedByStatus(db));
  assert.equal(afterRequeue.events_by_status.failed, withLive.events_by_status.failed! - 1);
  assert.equal(afterRequeue.events_by_status.received, withLive.events_by_status.received! + 1);

  // While it is unfinished its day stays live.
  assert.equal(await sealDays(db.pool), 0);
  assert.equal((await sealedDays(db)).has(4), false);

  // Once it (and the one still running 5 days ago) finished, both days are sealed again.
  await db.pool.query(
    `UPDATE webhook_events SET status = 'completed', outcome = 'enriched', processed_at = now(), error_code = NULL
     WHERE id = ANY($1::uuid[]) OR lead_id = 'd5-running'`,
    [[toRequeue, running]],
  );
  assert.equal(await sealDays(db.pool), 2);
  const resealed = await sealedDays(db);
  assert.deepEqual(
    [...resealed.keys()].sort((a, b) => a - b),
    [...sealable, 5].sort((a, b) => a - b),
  );
  assert.deepEqual(resealed.get(4), await countedOnDay(db, 4));
  assert.deepEqual(resealed.get(5), await countedOnDay(db, 5));
  const final = await getStats(api.url);
  assert.deepEqual(final.events_by_status, await countedByStatus(db));
  assert.equal(final.events_by_status.processing, undefined);
  assert.equal(await sealDays(db.pool), 0);
});

test('day counts are UTC days even when the database runs in a time zone with daylight saving', async (t) => {
  const db = await freshDatabase(t);
  // Every session of this database (the service's pools and ours) now runs in New York time.
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  try {
    await admin.query(`ALTER DATABASE ${db.name} SET timezone TO 'America/New_York'`);
  } finally {
    await admin.end();
  }
  const { rows: zone } = await db.pool.query<{ zone: string }>(`SELECT current_setting('TimeZone') AS zone`);
  assert.equal(zone[0]!.zone, 'America/New_York');
  // The last change of New York's UTC offset at least 10 days ago: the days around it are sealable.
  const { rows: found } = await db.pool.query<{ ago: number }>(
    `SELECT (extract(epoch FROM date_trunc('day', now(), 'UTC') - date_trunc('day', max(h), 'UTC')) / 86400)::int AS ago
     FROM generate_series(date_trunc('hour', now()) - interval '400 days', now() - interval '10 days', interval '1 hour') h
     WHERE (h AT TIME ZONE 'America/New_York') - (h AT TIME ZONE 'UTC')
        <> ((h - interval '1 hour') AT TIME ZONE 'America/New_York') - ((h - interval '1 hour') AT TIME ZONE 'UTC')`,
  );
  const transition = found[0]!.ago;
  const events: PlacedEvent[] = [];
  for (let ago = transition + 2; ago >= transition - 4; ago--) {
    events.push({ lead: `d${ago}-a`, status: 'completed', receivedAt: dayAt(ago, 12) });
    events.push({ lead: `d${ago}-b`, status: 'failed', receivedAt: dayAt(ago, 0.5) });
    events.push({ lead: `d${ago}-c`, status: 'stale', receivedAt: dayAt(ago, 23.5) });
  }
  events.push({ lead: 'today', status: 'received', receivedAt: 'now()' });
  await place(db, events);
  const [toRequeue] = await place(db, [
    { lead: 'requeue-me', status: 'failed', receivedAt: dayAt(transition - 3, 6) },
  ]);
  await sealDays(db.pool);
  const { rows: misaligned } = await db.pool.query(
    `SELECT day FROM event_day_counts WHERE day <> date_trunc('day', day, 'UTC')`,
  );
  assert.deepEqual(misaligned, [], 'every sealed day starts at midnight UTC');
  for (const [ago, counts] of await sealedDays(db))
    assert.deepEqual(counts, await countedOnDay(db, ago), `day -${ago}`);

  // Read and requeued as the service does, through sessions in that time zone.
  assert.deepEqual((await readStats(db.pool)).events_by_status, await countedByStatus(db));
  assert.equal(await reprocessEvent(db.pool, toRequeue!, 'failed_step'), 'queued');
  assert.equal((await sealedDays(db)).has(transition - 3), false, 'its day unsealed');
  assert.deepEqual((await readStats(db.pool)).events_by_status, await countedByStatus(db));
});

test('outcomes_24h counts completed events of the last day by outcome; per_minute_1h is the last hour, minute by minute', async (t) => {
  const db = await freshDatabase(t);
  const api = await startService(t, { role: 'api', db });
  // Every row is placed relative to one minute, read once: the current one.
  const { rows } = await db.pool.query<{ start: string }>(
    `SELECT to_char(date_trunc('minute', now()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS start`,
  );
  const start = rows[0]!.start;
  const minute = (ago: number, second = 20) =>
    `'${start}'::timestamptz - interval '${ago} minutes' + interval '${second} seconds'`;
  // Minutes are placed 3..50 minutes back: a minute boundary passing during the test moves none
  // of them out of the hour.
  await place(db, [
    // The last 24 hours: counted in outcomes.
    { lead: 'o1', status: 'completed', outcome: 'enriched', receivedAt: "now() - interval '2 hours'" },
    { lead: 'o2', status: 'completed', outcome: 'enriched', receivedAt: "now() - interval '23 hours'" },
    { lead: 'o3', status: 'completed', outcome: 'no_match', receivedAt: "now() - interval '5 hours'" },
    { lead: 'o4', status: 'completed', outcome: 'closed', receivedAt: "now() - interval '90 minutes'" },
    // Not completed, or older than a day: not in outcomes.
    { lead: 'x1', status: 'failed', receivedAt: "now() - interval '3 hours'" },
    { lead: 'x2', status: 'stale', receivedAt: "now() - interval '3 hours'" },
    { lead: 'x3', status: 'completed', outcome: 'unchanged', receivedAt: "now() - interval '25 hours'" },
    { lead: 'x4', status: 'completed', outcome: 'no_match', receivedAt: "now() - interval '3 days'" },
    // The last hour: received in one minute, finished in another.
    { lead: 'm1', status: 'completed', outcome: 'enriched', receivedAt: minute(50), processedAt: minute(48) },
    {
      lead: 'm2',
      status: 'completed',
      outcome: 'unchanged',
      receivedAt: minute(50, 40),
      processedAt: minute(3),
    },
    { lead: 'm3', status: 'failed', receivedAt: minute(30), processedAt: minute(3, 50) },
    { lead: 'm4', status: 'failed', receivedAt: minute(30, 5), processedAt: minute(20) },
    { lead: 'm5', status: 'received', receivedAt: minute(3, 10) },
    { lead: 'm6', status: 'processing', receivedAt: minute(10) },
    { lead: 'm7', status: 'stale', receivedAt: minute(20), processedAt: minute(20, 30) },
    // Finished in the last hour but received before it: its finish counts, its arrival does not.
    { lead: 'm8', status: 'completed', outcome: 'enriched', receivedAt: minute(70), processedAt: minute(10) },
  ]);
  const stats = await getStats(api.url);

  assert.deepEqual(stats.outcomes_24h, { enriched: 4, no_match: 1, closed: 1, unchanged: 1 });

  const series = stats.per_minute_1h;
  assert.equal(series.length, 60);
  const current = Date.parse(start);
  const last = Date.parse(series.at(-1)!.minute);
  assert.ok(last === current || last === current + 60_000, 'ends with the current minute');
  series.forEach((entry, i) =>
    assert.equal(Date.parse(entry.minute), last - (59 - i) * 60_000, entry.minute),
  );
  const expected = new Map<number, { received: number; completed: number; failed: number }>([
    [50, { received: 2, completed: 0, failed: 0 }],
    [48, { received: 0, completed: 1, failed: 0 }],
    [30, { received: 2, completed: 0, failed: 0 }],
    [20, { received: 1, completed: 0, failed: 1 }],
    [10, { received: 1, completed: 1, failed: 0 }],
    [3, { received: 1, completed: 1, failed: 1 }],
  ]);
  for (const entry of series) {
    const ago = (current - Date.parse(entry.minute)) / 60_000;
    const want = expected.get(ago) ?? { received: 0, completed: 0, failed: 0 };
    assert.deepEqual(
      { received: entry.received, completed: entry.completed, failed: entry.failed },
      want,
      `${ago} minutes ago (${entry.minute})`,
    );
  }
  assert.equal(
    series.reduce((sum, entry) => sum + entry.received, 0),
    7,
  );
});

test('backlog: due, waiting for a retry, and the age of the oldest due event', async (t) => {
  const db = await freshDatabase(t);
  const api = await startService(t, { role: 'api', db });
  await place(db, [
    // Due now: waiting for a worker (one whose worker's lease ran out).
    {
      lead: 'due-1',
      status: 'received',
      receivedAt: "now() - interval '10 minutes'",
      dueAt: "now() - interval '10 minutes'",
    },
    { lead: 'due-2', status: 'received', receivedAt: "now() - interval '1 minute'", dueAt: 'now()' },
    {
      lead: 'due-3',
      status: 'processing',
      receivedAt: "now() - interval '4 minutes'",
      dueAt: "now() - interval '5 seconds'",
      claimedBy: 'dead-worker',
    },
    // Waiting for a retry (older than every due one: it must not decide the age).
    {
      lead: 'retry-1',
      status: 'processing',
      receivedAt: "now() - interval '2 hours'",
      dueAt: "now() + interval '5 minutes'",
    },
    {
      lead: 'retry-2',
      status: 'received',
      receivedAt: "now() - interval '30 minutes'",
      dueAt: "now() + interval '20 seconds'",
    },
    // Running: claimed, its lease ahead.
    {
      lead: 'running',
      status: 'processing',
      receivedAt: "now() - interval '3 hours'",
      dueAt: "now() + interval '30 seconds'",
      claimedBy: 'live-worker',
    },
    // Finished: never backlog, whatever their due time.
    {
      lead: 'done',
      status: 'completed',
      receivedAt: "now() - interval '5 hours'",
      dueAt: "now() - interval '5 hours'",
    },
    {
      lead: 'gone',
      status: 'failed',
      receivedAt: "now() - interval '6 hours'",
      dueAt: "now() + interval '1 hour'",
    },
  ]);
  const stats = await getStats(api.url);
  assert.equal(stats.backlog.due, 3);
  assert.equal(stats.backlog.waiting_retry, 2);
  assert.ok(
    Math.abs(stats.backlog.oldest_due_age_s - 600) <= 2,
    `oldest due is 10 minutes old: ${stats.backlog.oldest_due_age_s}`,
  );

  // Nothing due: the age is 0.
  await db.pool.query(
    `UPDATE webhook_events SET status = 'completed', outcome = 'enriched' WHERE lead_id LIKE 'due-%'`,
  );
  assert.deepEqual((await getStats(api.url)).backlog, { due: 0, waiting_retry: 2, oldest_due_age_s: 0 });
});

test('provider health comes from the worker process, through the database, to an api process', async (t) => {
  const db = await freshDatabase(t);
  const sims = await startSimulators(t);
  const started = Date.now();
  // The api process: stores webhooks and answers stats, runs no workers and calls no provider.
  const api = await startService(t, { role: 'api', db });
  // The worker: another OS process running the real enrichment workflow against the simulators.
  const worker = await spawnService(
    t,
    {
      DB_URL: db.url,
      WEBHOOK_SECRET: SECRET,
      ADMIN_TOKEN,
      ...sims.env,
      C2S_VERIFY_LEAD: 'true',
      RETRY_BASE_DELAY_MS: '50',
      NOTE_UNKNOWN_WAIT_SECONDS: '1',
    },
    ['src/main.ts', '--role=worker'],
  );
  const samples = sims.population.sampleLeads();
  const sample = samples.find((lead) => lead.scenario === 'phone_only')!;
  const post = async (leadId: string) => {
    const answer = await api.post({
      id: leadId,
      hook_action: 'on_create_lead',
      attributes: { ...sample.attributes, updated_at: '2026-11-20T10:15:00.000-03:00' },
    });
    assert.ok(answer.status >= 200 && answer.status < 300, JSON.stringify(answer.body));
  };

  // Two leads C2S answers 404 for (a permanent failure), then two it knows.
  sims.c2s.faults.failNext('get_lead', { kind: 'status', status: 404 }, 2);
  await post('gone-1');
  await post('gone-2');
  await settled(db);
  for (const leadId of ['known-1', 'known-2']) {
    sims.c2s.putLead(leadId, sample.attributes);
    await post(leadId);
  }
  const states = await settled(db);
  assert.deepEqual(
    states.map((state) => [state.lead_id, state.status, state.outcome ?? state.error_code]),
    [
      ['gone-1', 'failed', 'c2s_not_found'],
      ['gone-2', 'failed', 'c2s_not_found'],
      ['known-1', 'completed', 'enriched'],
      ['known-2', 'completed', 'enriched'],
    ],
  );
  const c2sCalls = sims.c2s.calls('get_lead') + sims.c2s.calls('create_message');
  assert.equal(sims.c2s.notes().length, 2);

  // Reports come every 5 s: the api process sees every call the worker made.
  const healthy = await until(
    'the worker to report its calls',
    async () => {
      const stats = await getStats(api.url);
      return stats.providers.c2s.calls_1h === c2sCalls ? stats : undefined;
    },
    15_000,
    200,
  );
  const { c2s, diretrix, workapi } = healthy.providers;
  assert.equal(c2s.errors_1h, 2);
  assert.equal(c2s.last_error_code, 'c2s_not_found');
  assert.ok(c2s.last_error_at !== null);
  const errorAt = Date.parse(c2s.last_error_at);
  assert.ok(errorAt >= started - 1000 && errorAt <= Date.now() + 1000, c2s.last_error_at);
  assert.equal(c2s.breaker, 'closed');
  for (const [name, provider] of Object.entries({ diretrix, workapi })) {
    assert.ok(provider.calls_1h > 0, `${name} was called`);
    assert.deepEqual(
      [provider.errors_1h, provider.last_error_code, provider.last_error_at, provider.breaker],
      [0, null, null, 'closed'],
      name,
    );
  }
  assert.deepEqual(healthy.reconcile, { last_run_at: null, last_cursor: null, last_found: null });

  // The rows name the worker process, the only one that calls providers.
  const workerProcess = `${hostname()}:${worker.child.pid}`;
  const { rows: reporters } = await db.pool.query<{ provider: string; process: string }>(
    'SELECT provider, process FROM provider_health ORDER BY provider',
  );
  assert.ok(reporters.length >= 3, JSON.stringify(reporters));
  assert.deepEqual(new Set(reporters.map((row) => row.process)), new Set([workerProcess]));
  assert.ok(['c2s', 'diretrix', 'workapi'].every((name) => reporters.some((row) => row.provider === name)));

  // C2S goes down (503 on every read): five transient failures in a row open the breaker.
  sims.c2s.faults.set('get_lead', { errorRate: 1, errorFault: { kind: 'status', status: 503 } });
  for (const leadId of ['down-1', 'down-2', 'down-3']) {
    sims.c2s.putLead(leadId, sample.attributes);
    await post(leadId);
  }
  const open = await until(
    'the open breaker to be reported',
    async () => {
      const stats = await getStats(api.url);
      return stats.providers.c2s.breaker === 'open' ? stats : undefined;
    },
    15_000,
    200,
  );
  assert.equal(open.providers.c2s.last_error_code, 'c2s_server_error');
  assert.ok(open.providers.c2s.errors_1h >= 2 + 5, `errors: ${open.providers.c2s.errors_1h}`);
  assert.equal(open.providers.diretrix.breaker, 'closed');
  assert.equal(open.providers.workapi.breaker, 'closed');

  // The worker stops (its last report still says open) ...
  assert.equal(await worker.stop(), 0);
  assert.equal((await getStats(api.url)).providers.c2s.breaker, 'open');
  const { rows: last } = await db.pool.query<{ breaker: string; process: string }>(
    `SELECT breaker, process FROM provider_health WHERE provider = 'c2s'`,
  );
  assert.deepEqual(last, [{ breaker: 'open', process: workerProcess }]);
  // ... and once its report is over a minute old, it no longer decides the breaker.
  await db.pool.query(
    `UPDATE provider_health SET updated_at = now() - interval '61 seconds' WHERE process = $1`,
    [workerProcess],
  );
  const stale = await getStats(api.url);
  assert.equal(stale.providers.c2s.breaker, 'closed');
  // Its last error is still what was last seen.
  assert.equal(stale.providers.c2s.last_error_code, 'c2s_server_error');
  // A fresh report from another process that says open decides again.
  await db.pool.query(
    `INSERT INTO provider_health (provider, process, breaker, updated_at) VALUES ('c2s', 'other-host:1', 'open', now())`,
  );
  assert.equal((await getStats(api.url)).providers.c2s.breaker, 'open');
});

test('stats wants the admin token', async (t) => {
  const api = await startService(t, { role: 'api' });
  for (const authorization of [undefined, 'Bearer wrong-token-wrong-token-wrong', `Basic ${ADMIN_TOKEN}`]) {
    const response = await fetch(`${api.url}${ADMIN}/stats`, {
      headers: authorization === undefined ? {} : { authorization },
    });
    assert.equal(response.status, 401, authorization);
    assert.equal(((await response.json()) as { error: string }).error, 'unauthorized');
  }
  const empty = await getStats(api.url);
  assert.deepEqual(empty.events_by_status, {});
  assert.deepEqual(empty.reconcile, { last_run_at: null, last_cursor: null, last_found: null });
  for (const name of ['c2s', 'diretrix', 'workapi'] as const)
    assert.deepEqual(empty.providers[name], {
      breaker: 'closed',
      last_error_code: null,
      last_error_at: null,
      calls_1h: 0,
      errors_1h: 0,
    });
});
