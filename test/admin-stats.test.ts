// The admin `stats`: event counts from sealed hour counts plus the live hours, the last day's
// outcomes and per-minute series from the tallies the processes report, the backlog, and provider
// health as the worker processes report it to the database, asked of a process that runs no
// workers. Each answer over HTTP is checked against the rows themselves.
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { SEAL_AFTER_MINUTES, sealHours } from '../src/admin/hour-counts.ts';
import { reprocessEvent } from '../src/admin/requeue.ts';
import { readStats } from '../src/admin/stats.ts';
import { createTallyReporter } from '../src/admin/tallies.ts';
import { createMetrics } from '../src/metrics.ts';
import { startEnrichment, startSimulators } from './helpers/enrichment.ts';
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
  reconcile: Record<string, unknown>;
}

/** `stats.reconcile` before any reconciliation ran (test/reconcile.test.ts covers runs). */
const NO_RECONCILIATION = {
  last_run_at: null,
  last_cursor: null,
  last_found: null,
  last_window_from: null,
  last_listed: null,
  last_known: null,
  consecutive_failures: 0,
  last_error: null,
  last_error_at: null,
};

async function getStats(baseUrl: string): Promise<Stats> {
  const response = await fetch(`${baseUrl}${ADMIN}/stats`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as Stats;
}

async function adminPost(baseUrl: string, path: string, body: unknown) {
  const response = await fetch(`${baseUrl}${ADMIN}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
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

/**
 * The start of the current UTC hour, read once and written as a literal: every hour a test names
 * is counted back from it, so an hour boundary passing during the test renumbers nothing.
 */
async function currentHour(db: TestDatabase): Promise<string> {
  const { rows } = await db.pool.query<{ hour: string }>(
    `SELECT to_char(date_trunc('hour', now(), 'UTC') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS hour`,
  );
  return rows[0]!.hour;
}

/** SQL for a time `ago` whole UTC hours before `base`, plus minutes and seconds. */
const hourAt = (base: string, ago: number, minute = 0, second = 0) =>
  `'${base}'::timestamptz - interval '${ago} hours' + interval '${minute} minutes' + interval '${second} seconds'`;

/** The sealed hours, as hours before `base`, and their counts. */
async function sealedHours(db: TestDatabase, base: string): Promise<Map<number, Record<string, number>>> {
  const { rows } = await db.pool.query<{ ago: number; counts: Record<string, number> }>(
    `SELECT (extract(epoch FROM $1::timestamptz - hour) / 3600)::float8 AS ago, counts
     FROM event_hour_counts ORDER BY hour`,
    [base],
  );
  return new Map(rows.map((row) => [row.ago, row.counts]));
}

const sortedKeys = (map: Map<number, unknown>) => [...map.keys()].sort((a, b) => a - b);

/** Counts of one UTC hour (`ago` hours before `base`), straight from the rows. */
async function countedInHour(db: TestDatabase, base: string, ago: number): Promise<Record<string, number>> {
  const { rows } = await db.pool.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM webhook_events
     WHERE received_at >= $1::timestamptz - $2 * interval '1 hour'
       AND received_at < $1::timestamptz - ($2 - 1) * interval '1 hour'
     GROUP BY status`,
    [base, ago],
  );
  return Object.fromEntries(rows.map((row) => [row.status, row.n]));
}

/** Sealed hours that do not start on a whole UTC hour (none should). */
async function misalignedHours(db: TestDatabase): Promise<string[]> {
  const { rows } = await db.pool.query<{ hour: string }>(
    `SELECT hour::text AS hour FROM event_hour_counts
     WHERE hour <> date_trunc('hour', hour, 'UTC') OR extract(minute FROM hour AT TIME ZONE 'UTC') <> 0`,
  );
  return rows.map((row) => row.hour);
}

/**
 * Waits, if need be, so that the next `seconds` do not cross the moment the last hour becomes
 * sealable (SEAL_AFTER_MINUTES past the hour): which hours may be sealed stays put while the test
 * runs. Answers the current UTC hour, as `currentHour`, and how many hours before it the newest
 * sealable hour is: 1 once the last hour ended more than SEAL_AFTER_MINUTES ago, else 2.
 */
async function steadySealing(db: TestDatabase, seconds = 20): Promise<{ base: string; newest: number }> {
  const read = async () =>
    (
      await db.pool.query<{ left: number; into: number }>(
        `SELECT extract(epoch FROM date_trunc('hour', now() - $1 * interval '1 minute', 'UTC')
                                   + interval '1 hour' + $1 * interval '1 minute' - now())::float8 AS left,
                extract(epoch FROM now() - date_trunc('hour', now(), 'UTC'))::float8 AS into`,
        [SEAL_AFTER_MINUTES],
      )
    ).rows[0]!;
  let clock = await read();
  if (clock.left < seconds) {
    await sleep(clock.left * 1000 + 250);
    clock = await read();
  }
  const base = await currentHour(db);
  // Should the hour turn from here on, hours stay numbered from `base`, and the hour before it
  // (1) is still the newest sealable one until SEAL_AFTER_MINUTES past the next: not in time.
  return { base, newest: clock.into >= SEAL_AFTER_MINUTES * 60 ? 1 : 2 };
}

const FINISHED: ReadonlyArray<PlacedEvent['status']> = ['completed', 'failed', 'stale', 'superseded'];

test('events_by_status matches a count of the table across sealed and live hours, through a requeue and a new seal', async (t) => {
  const db = await freshDatabase(t);
  const { base, newest } = await steadySealing(db);
  // Two days of events at chosen hours (gaps between them: empty hours are sealed too), several
  // statuses an hour, one right at the start of its hour and one in its last millisecond.
  const HOURS = [47, 45, 40, 36, 30, 26, 25, 24, 20, 12, 7, 3, 2];
  const events: PlacedEvent[] = [];
  for (const ago of HOURS) {
    const kinds = [...FINISHED.slice(0, 1 + (ago % 4)), 'completed' as const];
    kinds.forEach((status, i) =>
      events.push({
        lead: `h${ago}-${i}`,
        status,
        receivedAt:
          i === 0
            ? hourAt(base, ago)
            : i === kinds.length - 1
              ? hourAt(base, ago, 59, 59.999)
              : hourAt(base, ago, 17),
      }),
    );
  }
  // 30 hours ago one event is still being processed, 12 hours ago one waits for a retry: their
  // hours must stay live.
  events.push({ lead: 'h30-running', status: 'processing', receivedAt: hourAt(base, 30, 20) });
  events.push({
    lead: 'h12-retry',
    status: 'received',
    receivedAt: hourAt(base, 12, 40),
    dueAt: "now() + interval '1 hour'",
  });
  // Finished, but recent: 75 minutes ago is in an hour that ended over 10 minutes ago; 9 minutes
  // ago is in one that did not.
  events.push({ lead: 'recent-75', status: 'completed', receivedAt: "now() - interval '75 minutes'" });
  events.push({ lead: 'recent-9', status: 'failed', receivedAt: "now() - interval '9 minutes'" });
  // Stamped in the next hour (a host whose clock runs ahead): never sealed, still counted.
  events.push({ lead: 'ahead', status: 'completed', receivedAt: hourAt(base, -1, 5) });
  await place(db, events);
  const [toRequeue] = await place(db, [
    { lead: 'h26-requeue', status: 'failed', receivedAt: hourAt(base, 26, 5), errorCode: 'c2s_server_error' },
  ]);
  // Two more failures a replay will pick out, in two other hours.
  await place(db, [
    { lead: 'h40-replay', status: 'failed', receivedAt: hourAt(base, 40, 30), errorCode: 'workapi_timeout' },
    { lead: 'h3-replay', status: 'failed', receivedAt: hourAt(base, 3, 45), errorCode: 'workapi_timeout' },
  ]);

  // Every hour from the first event's (47 hours ago) to the last one that ended over 10 minutes
  // ago, but the two holding unfinished events.
  const sealable = Array.from({ length: 47 - newest + 1 }, (_, i) => newest + i).filter(
    (ago) => ago !== 30 && ago !== 12,
  );
  assert.equal(await sealHours(db.pool), sealable.length);
  const sealed = await sealedHours(db, base);
  assert.deepEqual(sortedKeys(sealed), sealable);
  assert.deepEqual(await misalignedHours(db), []);
  for (const ago of sealable)
    assert.deepEqual(sealed.get(ago), await countedInHour(db, base, ago), `hour -${ago}`);
  assert.deepEqual(sealed.get(46), {}, 'an empty hour is sealed empty');
  // 47 hours ago: one event at :00:00.000, three at :17, one at :59:59.999, all of them in it.
  assert.deepEqual(sealed.get(47), { completed: 2, failed: 1, stale: 1, superseded: 1 });
  const { rows: recent } = await db.pool.query<{ sealed: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM event_hour_counts WHERE hour = date_trunc('hour', e.received_at, 'UTC')) AS sealed
     FROM webhook_events e WHERE lead_id = 'recent-9'`,
  );
  assert.deepEqual(recent, [{ sealed: false }], 'the hour of 9 minutes ago is not sealed');
  // A second run has nothing left to do and changes nothing.
  const before = await db.pool.query('SELECT hour, counts, sealed_at FROM event_hour_counts ORDER BY hour');
  assert.equal(await sealHours(db.pool), 0);
  const after = await db.pool.query('SELECT hour, counts, sealed_at FROM event_hour_counts ORDER BY hour');
  assert.deepEqual(after.rows, before.rows);

  const api = await startService(t, { role: 'api', db });
  const initial = await getStats(api.url);
  assert.deepEqual(initial.events_by_status, await countedByStatus(db));
  assert.equal(initial.events_by_status.processing, 1);
  assert.equal(initial.events_by_status.received, 1);

  // The sealed hours are read from their counts, not counted again: a row slipped into a sealed
  // hour behind the service's back does not show, while one in a live hour does.
  const [slipped] = await place(db, [
    { lead: 'slipped', status: 'completed', receivedAt: hourAt(base, 36, 2) },
  ]);
  assert.deepEqual((await getStats(api.url)).events_by_status, initial.events_by_status);
  await db.pool.query('DELETE FROM webhook_events WHERE id = $1', [slipped]);
  await place(db, [{ lead: 'live-1', status: 'stale', receivedAt: hourAt(base, 30, 1) }]);
  const withLive = await getStats(api.url);
  assert.equal(withLive.events_by_status.stale, initial.events_by_status.stale! + 1);
  assert.deepEqual(withLive.events_by_status, await countedByStatus(db));

  // Requeue the failed event of a sealed hour: exactly its hour is unsealed and the counts follow.
  const requeued = await adminPost(api.url, `/events/${toRequeue}/reprocess`, { from: 'failed_step' });
  assert.equal(requeued.status, 202, JSON.stringify(requeued.body));
  assert.deepEqual(
    sortedKeys(await sealedHours(db, base)),
    sealable.filter((ago) => ago !== 26),
  );
  const afterRequeue = await getStats(api.url);
  assert.deepEqual(afterRequeue.events_by_status, await countedByStatus(db));
  assert.equal(afterRequeue.events_by_status.failed, withLive.events_by_status.failed! - 1);
  assert.equal(afterRequeue.events_by_status.received, withLive.events_by_status.received! + 1);

  // A replay unseals the hours of the events it queues, and only those.
  const replayed = await adminPost(api.url, '/replay', { filter: { error_code: 'workapi_timeout' } });
  assert.deepEqual(replayed, { status: 200, body: { matched: 2, scheduled: 2, dry_run: false } });
  assert.deepEqual(
    sortedKeys(await sealedHours(db, base)),
    sealable.filter((ago) => ![3, 26, 40].includes(ago)),
  );
  const afterReplay = await getStats(api.url);
  assert.deepEqual(afterReplay.events_by_status, await countedByStatus(db));
  assert.equal(afterReplay.events_by_status.received, afterRequeue.events_by_status.received + 2);

  // While they are unfinished their hours stay live.
  assert.equal(await sealHours(db.pool), 0);
  assert.deepEqual(
    sortedKeys(await sealedHours(db, base)),
    sealable.filter((ago) => ![3, 26, 40].includes(ago)),
  );

  // Once they (and the two old unfinished ones) finished, their hours are sealed again.
  await db.pool.query(
    `UPDATE webhook_events SET status = 'completed', outcome = 'enriched', processed_at = now(), error_code = NULL
     WHERE status IN ('received', 'processing')`,
  );
  assert.equal(await sealHours(db.pool), 5);
  const resealed = await sealedHours(db, base);
  assert.deepEqual(
    sortedKeys(resealed),
    [...sealable, 12, 30].sort((a, b) => a - b),
  );
  for (const ago of [3, 12, 26, 30, 40])
    assert.deepEqual(resealed.get(ago), await countedInHour(db, base, ago), `hour -${ago}`);
  const final = await getStats(api.url);
  assert.deepEqual(final.events_by_status, await countedByStatus(db));
  assert.equal(final.events_by_status.processing, undefined);
  assert.equal(final.events_by_status.received, undefined);
  assert.equal(await sealHours(db.pool), 0);
});

test('hours are UTC hours even when the database runs in a time zone offset by half an hour', async (t) => {
  const db = await freshDatabase(t);
  // Every session of this database (the service's pools and ours) now runs in India's time,
  // UTC+5:30: its local hours start at half past the UTC hour.
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  try {
    await admin.query(`ALTER DATABASE ${db.name} SET timezone TO 'Asia/Kolkata'`);
  } finally {
    await admin.end();
  }
  const { rows: zone } = await db.pool.query<{ zone: string }>(`SELECT current_setting('TimeZone') AS zone`);
  assert.equal(zone[0]!.zone, 'Asia/Kolkata');
  const { base, newest } = await steadySealing(db);
  // Four events an hour, on both sides of the half hour, their statuses rotating from hour to
  // hour: hours cut at half past would count other events together.
  const statuses = ['completed', 'failed', 'stale', 'superseded'] as const;
  const events: PlacedEvent[] = [];
  for (let ago = 8; ago >= 2; ago--) {
    [5, 25, 35, 55].forEach((minute, i) =>
      events.push({
        lead: `h${ago}-${minute}`,
        status: statuses[(ago + i * ((ago % 3) + 1)) % statuses.length]!,
        receivedAt: hourAt(base, ago, minute),
      }),
    );
  }
  events.push({ lead: 'boundary-before', status: 'failed', receivedAt: hourAt(base, 5, 29, 59.999) });
  events.push({ lead: 'boundary-after', status: 'stale', receivedAt: hourAt(base, 5, 30) });
  events.push({ lead: 'now', status: 'received', receivedAt: 'now()' });
  events.push({ lead: 'ahead', status: 'completed', receivedAt: hourAt(base, -1, 5) });
  // Still running, at 50 past: its UTC hour stays live.
  events.push({ lead: 'h6-running', status: 'processing', receivedAt: hourAt(base, 6, 50) });
  await place(db, events);
  const [toRequeue] = await place(db, [
    { lead: 'requeue-me', status: 'failed', receivedAt: hourAt(base, 4, 40) },
  ]);

  const sealable = Array.from({ length: 8 - newest + 1 }, (_, i) => newest + i).filter((ago) => ago !== 6);
  assert.equal(await sealHours(db.pool), sealable.length);
  assert.deepEqual(await misalignedHours(db), [], 'every sealed hour starts at :00 UTC');
  const sealed = await sealedHours(db, base);
  assert.deepEqual(sortedKeys(sealed), sealable);
  for (const [ago, counts] of sealed)
    assert.deepEqual(counts, await countedInHour(db, base, ago), `hour -${ago}`);

  // Read and requeued as the service does, through sessions in that time zone.
  assert.deepEqual((await readStats(db.pool)).events_by_status, await countedByStatus(db));
  assert.equal(await reprocessEvent(db.pool, toRequeue!, 'failed_step'), 'queued');
  assert.deepEqual(
    sortedKeys(await sealedHours(db, base)),
    sealable.filter((ago) => ago !== 4),
    'exactly its hour unsealed',
  );
  const stats = await readStats(db.pool);
  assert.deepEqual(stats.events_by_status, await countedByStatus(db));

  // Minutes are whole UTC minutes too: a tally placed two minutes ago shows in its minute.
  await db.pool.query(
    `INSERT INTO event_tallies (minute, kind, n) VALUES (date_trunc('minute', now(), 'UTC') - interval '2 minutes', 'received', 5)`,
  );
  const { rows: placed } = await db.pool.query<{ minute: string }>(
    `SELECT to_char(minute AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS minute FROM event_tallies`,
  );
  const series = (await readStats(db.pool)).per_minute_1h;
  assert.equal(series.length, 60);
  assert.ok(
    series.every((entry) => /:00Z$/.test(entry.minute)),
    JSON.stringify(series.map((e) => e.minute)),
  );
  assert.deepEqual(
    series.filter((entry) => entry.received > 0),
    [{ minute: placed[0]!.minute, received: 5, completed: 0, failed: 0 }],
  );
});

/** A tally row as a test places it: the minute as SQL (relative to now()), its kind and count. */
async function placeTallies(
  db: TestDatabase,
  tallies: ReadonlyArray<readonly [minute: string, kind: string, n: number]>,
): Promise<void> {
  for (const [minute, kind, n] of tallies)
    await db.pool.query(`INSERT INTO event_tallies (minute, kind, n) VALUES (${minute}, $1, $2)`, [kind, n]);
}

test('outcomes_24h sums the completed tallies of the last day by outcome; per_minute_1h is the last hour, minute by minute', async (t) => {
  const db = await freshDatabase(t);
  const api = await startService(t, { role: 'api', db });
  // Every row is placed relative to one minute, read once: the current one.
  const { rows } = await db.pool.query<{ start: string }>(
    `SELECT to_char(date_trunc('minute', now()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS start`,
  );
  const start = rows[0]!.start;
  const current = Date.parse(start);
  const minute = (ago: number) => `'${start}'::timestamptz - interval '${ago} minutes'`;
  const placed: Array<[ago: number, kind: string, n: number]> = [
    // The last hour: in the series (and in the outcomes).
    [0, 'received', 3],
    [0, 'completed:enriched', 1],
    [3, 'received', 2],
    [3, 'completed:enriched', 2],
    [3, 'completed:unchanged', 1],
    [3, 'failed', 1],
    [20, 'failed', 2],
    [37, 'completed:closed', 4],
    [37, 'completed:no_match', 1],
    // The oldest minute of the hour: in the series unless the minute turns during the test.
    [59, 'received', 6],
    [59, 'failed', 1],
    // Before the hour: only in the outcomes.
    [60, 'received', 50],
    [60, 'completed:enriched', 9],
    [90, 'completed:enriched', 10],
    [90, 'failed', 3],
    [23 * 60, 'completed:closed', 2],
    [24 * 60 - 2, 'completed:no_match', 5],
    // Over a day old: in neither.
    [24 * 60 + 1, 'completed:no_match', 100],
    [24 * 60 + 1, 'completed:enriched', 100],
    [3 * 24 * 60, 'completed:closed', 7],
    [3 * 24 * 60, 'received', 70],
  ];
  await placeTallies(
    db,
    placed.map(([ago, kind, n]) => [minute(ago), kind, n] as const),
  );
  const stats = await getStats(api.url);

  assert.deepEqual(stats.outcomes_24h, {
    enriched: 1 + 2 + 9 + 10,
    unchanged: 1,
    closed: 4 + 2,
    no_match: 1 + 5,
  });

  const series = stats.per_minute_1h;
  assert.equal(series.length, 60);
  const last = Date.parse(series.at(-1)!.minute);
  assert.ok(last === current || last === current + 60_000, 'ends with the current minute');
  series.forEach((entry, i) =>
    assert.equal(Date.parse(entry.minute), last - (59 - i) * 60_000, entry.minute),
  );
  // Each minute of the series holds exactly the tallies placed in it.
  for (const entry of series) {
    const ago = (current - Date.parse(entry.minute)) / 60_000;
    const inMinute = placed.filter((row) => row[0] === ago);
    const sum = (match: (kind: string) => boolean) =>
      inMinute.filter(([, kind]) => match(kind)).reduce((total, [, , n]) => total + n, 0);
    assert.deepEqual(
      { received: entry.received, completed: entry.completed, failed: entry.failed },
      {
        received: sum((kind) => kind === 'received'),
        completed: sum((kind) => kind.startsWith('completed:')),
        failed: sum((kind) => kind === 'failed'),
      },
      `${ago} minutes ago (${entry.minute})`,
    );
  }
  if (last === current) {
    const oldest = series[0]!;
    assert.deepEqual([oldest.received, oldest.completed, oldest.failed], [6, 0, 1], 'the oldest minute');
  }
  assert.equal(
    series.reduce((total, entry) => total + entry.completed, 0),
    1 + 3 + 5,
  );
});

test('a tally report adds what the counters grew by since the last one, across processes, and a failed one is sent again', async (t) => {
  const db = await freshDatabase(t);
  const totals = async () => {
    const { rows } = await db.pool.query<{ kind: string; n: number }>(
      'SELECT kind, sum(n)::int AS n FROM event_tallies GROUP BY kind ORDER BY kind',
    );
    return Object.fromEntries(rows.map((row) => [row.kind, row.n]));
  };
  const one = createMetrics();
  const two = createMetrics();
  let down = false;
  const flaky = {
    query: (...args: unknown[]) =>
      down
        ? Promise.reject(new Error('connection refused'))
        : (db.pool.query as (...a: unknown[]) => Promise<unknown>)(...args),
  } as unknown as pg.Pool;
  const reportOne = createTallyReporter(flaky, one);
  const reportTwo = createTallyReporter(db.pool, two);

  // Nothing counted yet: nothing written.
  await reportOne();
  assert.deepEqual(await totals(), {});

  one.webhookEvents.inc({ outcome: 'accepted', reason: '' }, 3);
  one.webhookEvents.inc({ outcome: 'stale', reason: '' }, 1);
  one.webhookEvents.inc({ outcome: 'duplicate', reason: '' }, 5);
  one.webhookEvents.inc({ outcome: 'rejected', reason: 'invalid_payload' }, 2);
  one.workflowEvents.inc({ result: 'completed_enriched' }, 2);
  one.workflowEvents.inc({ result: 'completed_no_match' });
  one.workflowEvents.inc({ result: 'failed' });
  one.workflowEvents.inc({ result: 'superseded' }, 4);
  await reportOne();
  const first = { received: 4, 'completed:enriched': 2, 'completed:no_match': 1, failed: 1 };
  assert.deepEqual(await totals(), first, 'stored events (accepted, stale) and ended runs; not duplicates');

  // No growth, no change.
  await reportOne();
  assert.deepEqual(await totals(), first);

  // Another process adds its own to the same minute.
  two.webhookEvents.inc({ outcome: 'accepted', reason: '' }, 2);
  two.workflowEvents.inc({ result: 'completed_enriched' });
  await reportTwo();
  const second = { ...first, received: 6, 'completed:enriched': 3 };
  assert.deepEqual(await totals(), second);

  // A report that fails is sent again, whole, with the next one.
  one.workflowEvents.inc({ result: 'failed' }, 2);
  one.webhookEvents.inc({ outcome: 'accepted', reason: '' });
  down = true;
  await assert.rejects(reportOne(), /connection refused/);
  assert.deepEqual(await totals(), second);
  one.workflowEvents.inc({ result: 'completed_closed' });
  down = false;
  await reportOne();
  assert.deepEqual(await totals(), { ...second, received: 7, failed: 3, 'completed:closed': 1 });
  const { rows } = await db.pool.query<{ late: boolean }>(
    `SELECT bool_or(minute <> date_trunc('minute', minute) OR minute > now()) AS late FROM event_tallies`,
  );
  assert.deepEqual(rows, [{ late: false }], 'each row is a whole minute, not in the future');
});

test('the running service reports what it stored and how its runs ended; stats shows it', async (t) => {
  const rig = await startEnrichment(t);
  const { db } = rig.service;
  const { rows: began } = await db.pool.query<{ minute: string }>(
    `SELECT to_char(date_trunc('minute', now()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS minute`,
  );
  const startMinute = Date.parse(began[0]!.minute);
  // Two leads C2S no longer knows (404 on every call: the run fails), five that complete.
  const GONE = ['gone-1', 'gone-2'];
  for (const leadId of GONE) rig.c2s.removeLead(leadId);
  const posted = [
    ...GONE.map((leadId) => rig.lead('phone_only', { leadId }).event),
    rig.lead('phone_only', { leadId: 'fine-1' }).event,
    rig.lead('email_only', { leadId: 'fine-2' }).event,
    rig.lead('no_match', { leadId: 'nobody-1' }).event,
    rig.lead('same_person', { leadId: 'closing-1', action: 'on_close_lead' }).event,
  ];
  const answer = await rig.service.post(posted);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.equal(answer.body.processed, posted.length);
  await settled(db);
  // A stale update (stored, never run) and a duplicate (not stored).
  const older = rig.lead('phone_only', { leadId: 'fine-1', updatedAt: '2026-11-19T10:15:00.000-03:00' });
  const again = await rig.service.post([older.event, posted[2]]);
  assert.deepEqual([again.body.stale, again.body.duplicates], [1, 1], JSON.stringify(again.body));
  const states = await settled(db);
  assert.deepEqual(
    states.map((state) => [state.lead_id, state.status, state.outcome ?? state.error_code]),
    [
      ['closing-1', 'completed', 'closed'],
      ['fine-1', 'stale', null],
      ['fine-1', 'completed', 'enriched'],
      ['fine-2', 'completed', 'enriched'],
      ['gone-1', 'failed', 'c2s_not_found'],
      ['gone-2', 'failed', 'c2s_not_found'],
      ['nobody-1', 'completed', 'no_match'],
    ],
  );
  // The truth, from the rows: what was stored, and how each run ended.
  const stored = states.length;
  const { rows: completedRows } = await db.pool.query<{ outcome: string; n: number }>(
    `SELECT outcome, count(*)::int AS n FROM webhook_events WHERE status = 'completed' GROUP BY outcome`,
  );
  const outcomes = Object.fromEntries(completedRows.map((row) => [row.outcome, row.n]));
  const completed = Object.values(outcomes).reduce((sum, n) => sum + n, 0);
  const failed = states.filter((state) => state.status === 'failed').length;
  assert.deepEqual(outcomes, { closed: 1, enriched: 2, no_match: 1 });

  // Reports come every 5 s.
  const sums = (stats: Stats) =>
    stats.per_minute_1h.reduce(
      (total, entry) => ({
        received: total.received + entry.received,
        completed: total.completed + entry.completed,
        failed: total.failed + entry.failed,
      }),
      { received: 0, completed: 0, failed: 0 },
    );
  const reported = await until(
    'the service to report its tallies',
    async () => {
      const stats = await getStats(rig.service.url);
      const total = sums(stats);
      return total.received >= stored && total.completed >= completed && total.failed >= failed
        ? stats
        : undefined;
    },
    15_000,
    250,
  );
  assert.deepEqual(sums(reported), { received: stored, completed, failed });
  assert.deepEqual(reported.outcomes_24h, outcomes);
  // All of it in the minutes since the test began.
  for (const entry of reported.per_minute_1h)
    if (entry.received + entry.completed + entry.failed > 0)
      assert.ok(Date.parse(entry.minute) >= startMinute, `${entry.minute} is not before ${began[0]!.minute}`);

  // One more lead, and the service stops at once (before its next report, as a rule): stopping
  // sends a last report, so the tallies still equal the rows, however far that lead got; nothing
  // is counted twice, nothing is left out.
  const late = await rig.service.post(rig.lead('phone_only', { leadId: 'late-1' }).event);
  assert.equal(late.body.processed, 1, JSON.stringify(late.body));
  await rig.service.stop();
  const { rows: tallies } = await db.pool.query<{ kind: string; n: number }>(
    'SELECT kind, sum(n)::int AS n FROM event_tallies GROUP BY kind',
  );
  const { rows: truth } = await db.pool.query<{ kind: string; n: number }>(
    `SELECT 'received' AS kind, count(*)::int AS n FROM webhook_events
     UNION ALL
     SELECT CASE WHEN status = 'completed' THEN 'completed:' || outcome ELSE status END, count(*)::int
     FROM webhook_events WHERE status IN ('completed', 'failed') GROUP BY 1`,
  );
  assert.equal(truth.find((row) => row.kind === 'received')!.n, stored + 1);
  assert.deepEqual(
    Object.fromEntries(tallies.map((row) => [row.kind, row.n])),
    Object.fromEntries(truth.map((row) => [row.kind, row.n])),
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
  assert.deepEqual(healthy.reconcile, NO_RECONCILIATION);

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
  assert.deepEqual(empty.reconcile, NO_RECONCILIATION);
  for (const name of ['c2s', 'diretrix', 'workapi'] as const)
    assert.deepEqual(empty.providers[name], {
      breaker: 'closed',
      last_error_code: null,
      last_error_at: null,
      calls_1h: 0,
      errors_1h: 0,
    });
});
