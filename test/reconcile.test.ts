// Reconciliation of missed webhooks, end to end: real PostgreSQL, the real simulators, the real
// command line (a child process) and the service's schedule (in process).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { contactsOf } from '../src/enrichment/contacts-step.ts';
import { RECONCILE_LOCK } from '../src/reconcile/runs-repository.ts';
import { startC2sSimulator, type C2sSimulator, type SimulatedLead } from '../src/simulators/c2s.ts';
import type { SyntheticPerson } from '../src/simulators/population.ts';
import { leadAttributes } from '../src/webhooks/envelope.ts';
import { parseInstant } from '../src/webhooks/instant.ts';
import { defer } from './helpers/cleanup.ts';
import { freshDatabase, type TestDatabase } from './helpers/database.ts';
import { startEnrichment, startSimulators } from './helpers/enrichment.ts';
import { freePort, runCommandIn } from './helpers/process.ts';
import { ADMIN_TOKEN, FAKE_PROVIDERS, startService, type TestService } from './helpers/service.ts';
import { until } from './helpers/wait.ts';

/** C2S's listing limit (10 calls a minute, 65 s of 429 past it) scaled down a minute to a second. */
const FAST_LIMIT = { listLimitPerWindow: 10, listWindowMs: 1000, listPenaltyMs: 1500 };
/** The client's pace scaled the same way: the service's 9 a minute becomes 9 a second. */
const FAST_PACE = { C2S_LIST_RATE_PER_MINUTE: '540', C2S_LIST_PENALTY_SECONDS: '2' };
/** The service's default pace, for the figures of a real run. */
const REAL_CALLS_PER_MINUTE = 9;

/** `c2s-enricher <args>` as a child process in a scratch directory, its output on pipes. */
const cli = runCommandIn;

const lastLine = (text: string) => text.trimEnd().split('\n').at(-1) ?? '';

/** A lead's customer as C2S forms carry it: a real (synthetic) person's name, phone and e-mail. */
function customerOf(person: SyntheticPerson) {
  return {
    description: 'Apartamento 2 quartos - Pinheiros',
    customer: { name: person.name, phone: `55${person.phones[0]!.number}`, email: person.emails[0] },
  };
}

/** The webhook C2S would have sent for a lead (envelope A). */
function webhookOf(lead: SimulatedLead, person: SyntheticPerson) {
  return {
    id: lead.id,
    hook_action: 'on_update_lead',
    attributes: { ...customerOf(person), updated_at: lead.updatedAt },
  };
}

async function eventCounts(db: TestDatabase) {
  const { rows } = await db.pool.query<{ source: string; hook_action: string; n: number }>(
    `SELECT source, hook_action, count(*)::int AS n FROM webhook_events GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  return rows;
}

/** Waits until no event is left unfinished, and answers how many there are. */
async function allFinished(db: TestDatabase, expected: number, timeoutMs = 60_000): Promise<void> {
  await until(
    `${expected} events to finish`,
    async () => {
      const { rows } = await db.pool.query<{ total: number; open: number }>(
        `SELECT count(*)::int AS total,
                count(*) FILTER (WHERE status IN ('received', 'processing'))::int AS open
         FROM webhook_events`,
      );
      return rows[0]!.total === expected && rows[0]!.open === 0;
    },
    timeoutMs,
    100,
  );
}

/** Notes per lead in the simulated C2S, for the leads given. */
function notesPerLead(c2s: C2sSimulator, leads: readonly SimulatedLead[]): Map<number, number> {
  const histogram = new Map<number, number>();
  for (const lead of leads) {
    const count = c2s.notes(lead.id).length;
    histogram.set(count, (histogram.get(count) ?? 0) + 1);
  }
  return histogram;
}

test('500 leads, 100 delivered by webhook: every missed lead gets one note, known ones no second', async (t) => {
  const rig = await startEnrichment(
    t,
    { NOTE_ON_NO_MATCH: 'true' },
    { c2s: FAST_LIMIT, populationSize: 500 },
  );
  const { c2s, service, population } = rig;
  const people = population.people;
  const now = Date.now();
  const leads = c2s.seedLeads({
    count: 500,
    from: new Date(now - 2 * 3_600_000),
    until: new Date(now - 60_000),
    attributes: (n) => customerOf(people[n]!),
  });
  // Every fifth lead's webhook arrived (and was processed); the other 400 were lost.
  const delivered = leads.filter((_, n) => n % 5 === 0);
  const answer = await service.post(delivered.map((lead) => webhookOf(lead, people[leads.indexOf(lead)]!)));
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.equal(answer.body.processed, 100);
  await allFinished(service.db, 100);
  assert.equal(c2s.notes().length, 100);

  const env = { DB_URL: service.db.url, ...rig.env, ...FAST_PACE };
  const callsBefore = c2s.calls('list_leads');
  const since = new Date(now - 3 * 3_600_000).toISOString();
  const first = await cli(t, ['reconcile', '--since', since], env);
  const calls = c2s.calls('list_leads') - callsBefore;
  assert.equal(first.code, 0, first.stderr);
  assert.equal(lastLine(first.stdout), 'reconcile: listed 500, new 400, known 100');
  assert.match(first.stderr, /^reconciling: \d+ \d+\/s listed \(page 1: \d+ new, \d+ known\)$/m);
  assert.match(first.stderr, /^reconciling: 500 \d+\/s listed \(page \d+: 400 new, 100 known\)$/m);
  assert.equal(c2s.listingRateLimited(), 0, 'paced under the listing limit: C2S never answered 429');

  // The 400 are events like any webhook's, marked as reconciliation's, and the workflow runs them.
  assert.deepEqual(
    (await eventCounts(service.db)).map((row) => [row.source, row.hook_action, row.n]),
    [
      ['reconcile', 'on_update_lead', 400],
      ['webhook', 'on_update_lead', 100],
    ],
  );
  await allFinished(service.db, 500);
  assert.deepEqual([...notesPerLead(c2s, leads)], [[1, 500]], 'one note on every lead, none twice');
  const { rows: reconciled } = await service.db.pool.query<{ lead_id: string }>(
    `SELECT lead_id FROM webhook_events WHERE source = 'reconcile'`,
  );
  const deliveredIds = new Set(delivered.map((lead) => lead.id));
  assert.ok(
    reconciled.every((row) => !deliveredIds.has(row.lead_id)),
    'no event for a delivered lead',
  );

  // Nothing left to find.
  const second = await cli(t, ['reconcile', '--since', since], env);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(lastLine(second.stdout), 'reconcile: listed 500, new 0, known 500');
  assert.equal(c2s.notes().length, 500);
  assert.equal(c2s.listingRateLimited(), 0);

  const realSeconds = ((calls - 1) * 60) / REAL_CALLS_PER_MINUTE;
  console.log(
    `reconcile figures: 500 leads (100 known) listed in ${calls} listing calls, ${first.elapsedMs} ms ` +
      `at the test's pace (9 calls/s against a limit of 10/s), ${c2s.listingRateLimited()} 429s; ` +
      `at the default pace (9 calls/min against C2S's ~10/min) the same ${calls} calls take ` +
      `${Math.round(realSeconds)} s; the second run: ${second.elapsedMs} ms`,
  );
});

test('a dry run stores nothing and prints what it would store; the payload stored reads as a webhook', async (t) => {
  const sims = await startSimulators(t, { c2s: { listLimitPerWindow: 0 } });
  const service = await startService(t, { role: 'api', env: sims.env });
  const people = sims.population.people;
  const now = Date.now();
  const leads = sims.c2s.seedLeads({
    count: 30,
    from: new Date(now - 3_600_000),
    until: new Date(now - 60_000),
    attributes: (n) => customerOf(people[n]!),
  });
  const delivered = leads.slice(0, 10);
  assert.equal((await service.post(delivered.map((lead, n) => webhookOf(lead, people[n]!)))).status, 200);
  const env = { DB_URL: service.db.url, ...sims.env };
  // An offset and milliseconds in --since: C2S refuses such a filter with 403, the client sends whole seconds UTC.
  const since = `${new Date(now - 2 * 3_600_000 - 3 * 3_600_000).toISOString().slice(0, 23)}-03:00`;

  const dry = await cli(t, ['reconcile', '--since', since, '--dry-run'], env);
  assert.equal(dry.code, 0, dry.stderr);
  const lines = dry.stdout.trimEnd().split('\n');
  assert.equal(lines.at(-1), 'reconcile: listed 30, new 20, known 10 (dry run)');
  assert.deepEqual(
    lines.slice(0, -1),
    leads.slice(10).map((lead) => `would store ${lead.id} ${parseInstant(lead.updatedAt)}`),
  );
  assert.deepEqual(
    (await eventCounts(service.db)).map((row) => [row.source, row.n]),
    [['webhook', 10]],
  );

  const real = await cli(t, ['reconcile', '--since', since], env);
  assert.equal(lastLine(real.stdout), 'reconcile: listed 30, new 20, known 10', real.stderr);
  const { rows } = await service.db.pool.query<{ lead_id: string; payload_raw: unknown; request_id: string }>(
    `SELECT lead_id, payload_raw, request_id FROM webhook_events WHERE source = 'reconcile' ORDER BY updated_at`,
  );
  assert.deepEqual(
    rows.map((row) => row.lead_id),
    leads.slice(10).map((lead) => lead.id),
  );
  // Shaped as a webhook delivery (envelope C): the workflow finds the lead's contacts as in any.
  const payload = rows[0]!.payload_raw as { hook_action: string; data: Record<string, unknown> };
  assert.equal(payload.hook_action, 'on_update_lead');
  assert.deepEqual(Object.keys(payload.data).sort(), ['attributes', 'id', 'internal_id', 'type']);
  const contacts = contactsOf(rows[0]!.lead_id, leadAttributes(payload));
  assert.equal(contacts.phone, people[10]!.phones[0]!.number);
  assert.equal(contacts.email, people[10]!.emails[0]);
  assert.match(rows[0]!.request_id, /^reconcile-cli-/);
});

test('a 429 that comes anyway is honoured: the run waits it out and completes', async (t) => {
  const sims = await startSimulators(t, { c2s: FAST_LIMIT });
  const db = await freshDatabase(t);
  sims.c2s.seedLeads({
    count: 120,
    from: new Date(Date.now() - 3_600_000),
    until: new Date(Date.now() - 60_000),
  });
  sims.c2s.faults.failNext('list_leads', { kind: 'status', status: 429, retryAfterSeconds: 1 });
  const run = await cli(t, ['reconcile', '--since', '2h'], { DB_URL: db.url, ...sims.env, ...FAST_PACE });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(lastLine(run.stdout), 'reconcile: listed 120, new 120, known 0');
  assert.equal(sims.c2s.listingRateLimited(), 1);
  assert.ok(run.elapsedMs >= 1000, `waited the Retry-After: ${run.elapsedMs} ms`);
  const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM webhook_events`);
  assert.equal(rows[0]!.n, 120);
});

test('the command refuses bad windows (64), and fails (1) without C2S, in demo mode, or beside another run', async (t) => {
  // Usage errors are refused before anything is opened: the database URL goes nowhere.
  const nowhere = { DB_URL: 'postgres://postgres@127.0.0.1:9/none', ...FAKE_PROVIDERS };
  const usage: Array<[string[], RegExp]> = [
    [[], /--since <RFC 3339 date-time> is required/],
    [['--since', '2026-13-01T00:00:00Z'], /--since must be an RFC 3339 date-time/],
    [['--since', '2026-11-20T10:00:00'], /--since must be an RFC 3339 date-time/],
    [['--since', 'yesterday'], /--since must be an RFC 3339 date-time/],
    [
      ['--since', '2026-11-20T10:00:00Z', '--until', '2026-11-20T09:00:00Z'],
      /--since must be before --until/,
    ],
    [['--since', '2999-01-01T00:00:00Z'], /--since must be before --until \(or now\)/],
    [['--since', '2h', '--page', '2'], /unknown option '--page'/],
  ];
  for (const [args, message] of usage) {
    const run = await cli(t, ['reconcile', ...args], nowhere);
    assert.equal(run.code, 64, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message);
    assert.equal(run.stdout, '');
  }

  const db = await freshDatabase(t);
  const down = await cli(t, ['reconcile', '--since', '2h'], { DB_URL: db.url, ...FAKE_PROVIDERS });
  assert.equal(down.code, 1);
  assert.equal(
    down.stderr,
    'c2s-enricher reconcile: C2S cannot be reached or refused the listing ' +
      '(c2s could not be reached (ECONNREFUSED)); nothing was listed\n',
  );

  const demo = await cli(t, ['reconcile', '--since', '2h'], { DB_URL: db.url });
  assert.equal(demo.code, 1);
  assert.match(demo.stderr, /no C2S credentials are configured \(demo mode\)/);

  // Another reconciliation (the service's, or another operator's) holds the lock.
  const sims = await startSimulators(t, { c2s: { listLimitPerWindow: 0 } });
  const holder = new pg.Client({ connectionString: db.url });
  await holder.connect();
  defer(t, () => holder.end());
  await holder.query('SELECT pg_advisory_lock($1)', [RECONCILE_LOCK]);
  const busy = await cli(t, ['reconcile', '--since', '2h'], { DB_URL: db.url, ...sims.env });
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /another reconciliation is running/);
  assert.equal(sims.c2s.calls('list_leads'), 0, 'it listed nothing');
});

// --- The service's schedule --------------------------------------------------------------------

interface RunRow {
  readonly id: string;
  readonly status: string;
  readonly started_at: Date;
  readonly finished_at: Date | null;
  readonly window_from: Date;
  readonly window_until: Date;
  readonly listed: number;
  readonly new: number;
  readonly known: number;
  readonly error: string | null;
}

async function runRows(db: TestDatabase): Promise<RunRow[]> {
  const { rows } = await db.pool.query<RunRow>(`SELECT * FROM reconcile_runs ORDER BY started_at, id`);
  return rows;
}

/** A metric's value summed over its series matching `labels` (`result="failed"`), 0 when absent. */
async function metric(service: TestService, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name} `) && !line.startsWith(`${name}{`)) continue;
    if (labels !== '' && !line.includes(labels)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

async function stats(service: TestService) {
  const response = await fetch(`${service.url}/api/v1/admin/stats`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  assert.equal(response.status, 200);
  return ((await response.json()) as { reconcile: Record<string, unknown> }).reconcile;
}

test('scheduled: two processes on one database reconcile one at a time, each window from the last', async (t) => {
  const db = await freshDatabase(t);
  const sims = await startSimulators(t, { c2s: { listLimitPerWindow: 0 } });
  const people = sims.population.people;
  const leads = sims.c2s.seedLeads({
    count: 150,
    from: new Date(Date.now() - 2 * 3_600_000),
    until: new Date(Date.now() - 60_000),
    attributes: (n) => customerOf(people[n]!),
  });
  // Each listing call takes 100 ms: a run (4 calls) lasts long enough for the other to try.
  sims.c2s.faults.set('list_leads', { latencyMs: 100 });
  const env = {
    ...sims.env,
    RECONCILE_INTERVAL_MINUTES: '15',
    RECONCILE_LOOKBACK_HOURS: '3',
    C2S_LIST_RATE_PER_MINUTE: '600',
  };
  const timing = { firstRunMs: 50, intervalMs: 150 };
  const started = Date.now();
  const a = await startService(t, { db, role: 'api', env, reconcileTiming: timing });
  const b = await startService(t, { db, role: 'api', env, reconcileTiming: timing });
  await until(
    'five succeeded runs',
    async () => (await runRows(db)).filter((row) => row.status === 'succeeded').length >= 5,
    30_000,
    100,
  );
  const skipped =
    (await metric(a, 'reconcile_runs_total', 'result="skipped"')) +
    (await metric(b, 'reconcile_runs_total', 'result="skipped"'));
  const newCounted =
    (await metric(a, 'reconcile_leads_total', 'kind="new"')) +
    (await metric(b, 'reconcile_leads_total', 'kind="new"'));
  await a.stop();
  await b.stop();

  // A run the stops cut short is recorded as such; every other one succeeded.
  const all = await runRows(db);
  const last = all.at(-1)!;
  if (last.status === 'failed') assert.equal(last.error, 'stopped: the service stopped during the run');
  const rows = all.filter((row) => row.status === 'succeeded');
  assert.ok(rows.length >= all.length - 1, JSON.stringify(all));
  for (let n = 1; n < all.length; n++) {
    assert.ok(
      all[n - 1]!.finished_at! <= all[n]!.started_at,
      `run ${all[n]!.id} started before run ${all[n - 1]!.id} finished`,
    );
  }
  for (let n = 1; n < rows.length; n++) {
    // Each window starts where the last succeeded one ended, less the 10-minute overlap.
    assert.equal(rows[n]!.window_from.getTime(), rows[n - 1]!.window_until.getTime() - 10 * 60_000);
  }
  assert.ok(skipped > 0, 'the other process found the lock taken and skipped its turn');
  const firstWindow = rows[0]!.window_until.getTime() - rows[0]!.window_from.getTime();
  assert.equal(firstWindow, 3 * 3_600_000, 'the first run looks back RECONCILE_LOOKBACK_HOURS');
  assert.ok(rows[0]!.started_at.getTime() >= started - 1000);
  // The first run stores every lead; the later ones find again those of their 10-minute overlap.
  const inWindow = (row: RunRow) =>
    leads.filter((lead) => {
      const at = Date.parse(lead.updatedAt);
      return at >= row.window_from.getTime() && at <= row.window_until.getTime();
    }).length;
  assert.deepEqual(
    rows.map((row) => [row.listed, row.new, row.known]),
    rows.map((row, n) => (n === 0 ? [150, 150, 0] : [inWindow(row), 0, inWindow(row)])),
  );
  assert.ok(inWindow(rows[1]!) > 0, 'the overlap holds leads: known ones are found again');
  assert.equal(newCounted, 150);
  const { rows: events } = await db.pool.query<{ n: number; leads: number }>(
    `SELECT count(*)::int AS n, count(DISTINCT lead_id)::int AS leads FROM webhook_events WHERE source = 'reconcile'`,
  );
  assert.deepEqual(events[0], { n: 150, leads: 150 });

  // One info line per run with its window and counts, and nothing about the people on the leads.
  const logs = [...a.logs, ...b.logs];
  const done = logs.map((line) => JSON.parse(line)).filter((line) => line.msg === 'reconciliation done');
  assert.equal(done.length, rows.length);
  assert.deepEqual(
    { level: done[0].level, listed: done[0].listed, new: done[0].new, known: done[0].known },
    { level: 'info', listed: 150, new: 150, known: 0 },
  );
  assert.equal(done[0].window.from, rows[0]!.window_from.toISOString());
  const text = logs.join('\n');
  for (const person of people.slice(0, 150)) {
    assert.ok(
      !text.includes(person.emails[0]!) && !text.includes(person.phones[0]!.number),
      'no contact is logged',
    );
    assert.ok(!text.includes(person.name), 'no name is logged');
  }
  assert.equal(leads.length, 150);
});

test('scheduled: the stats, the metrics and the command line show the last run', async (t) => {
  const db = await freshDatabase(t);
  const sims = await startSimulators(t, { c2s: { listLimitPerWindow: 0 } });
  sims.c2s.seedLeads({
    count: 12,
    from: new Date(Date.now() - 3_600_000),
    until: new Date(Date.now() - 60_000),
  });
  const env = { ...sims.env, RECONCILE_INTERVAL_MINUTES: '15' };
  const before = Date.now();
  const service = await startService(t, { db, role: 'api', env, reconcileTiming: { firstRunMs: 50 } });
  const [run] = await until('the first run', async () => {
    const rows = (await runRows(db)).filter((row) => row.status === 'succeeded');
    return rows.length > 0 ? rows : undefined;
  });
  const reconcile = await stats(service);
  const { last_run_at: lastRunAt, ...rest } = reconcile;
  assert.deepEqual(rest, {
    last_cursor: run!.window_until.toISOString(),
    last_found: 12,
    last_window_from: run!.window_from.toISOString(),
    last_listed: 12,
    last_known: 0,
    consecutive_failures: 0,
    last_error: null,
    last_error_at: null,
  });
  assert.ok(Math.abs(Date.parse(lastRunAt as string) - run!.finished_at!.getTime()) <= 1, String(lastRunAt));
  assert.ok(run!.window_until.getTime() >= before - 1000);
  const lastSuccess = await until(
    'the gauges to read the run',
    async () => {
      const value = await metric(service, 'reconcile_last_success_timestamp_seconds');
      return value > 0 ? value : undefined;
    },
    10_000,
    200,
  );
  assert.ok(Math.abs(lastSuccess - run!.finished_at!.getTime() / 1000) < 1);
  assert.equal(await metric(service, 'reconcile_consecutive_failures'), 0);
  assert.equal(await metric(service, 'reconcile_runs_total', 'result="succeeded"'), 1);
  assert.equal(await metric(service, 'reconcile_leads_total', 'kind="listed"'), 12);

  const cliStats = await cli(t, ['stats'], { DB_URL: db.url, ...FAKE_PROVIDERS });
  assert.equal(cliStats.code, 0, cliStats.stderr);
  assert.match(
    cliStats.stdout,
    /^reconcile {2}last run \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z, window \S+Z to \S+Z: listed 12, new 12, known 0$/m,
  );
});

test('a run a crash cut short is redone: the next window starts from the last succeeded run', async (t) => {
  const db = await freshDatabase(t);
  const sims = await startSimulators(t, { c2s: { listLimitPerWindow: 0 } });
  const now = Date.now();
  const coveredUntil = new Date(now - 3 * 3_600_000);
  // The last run that succeeded ended three hours ago; the one after it was cut by a crash two
  // hours ago, after listing part of its window (as a killed process leaves its row: running).
  await db.pool.query(
    `INSERT INTO reconcile_runs (status, started_at, finished_at, window_from, window_until, listed, new, known, process)
     VALUES ('succeeded', $1, $1, $2, $1, 5, 0, 5, 'gone:1'),
            ('running', $3, NULL, $4, $3, 0, 0, 0, 'gone:2')`,
    [
      coveredUntil,
      new Date(coveredUntil.getTime() - 3_600_000),
      new Date(now - 2 * 3_600_000),
      new Date(coveredUntil.getTime() - 10 * 60_000),
    ],
  );
  // Leads updated in the crashed run's window (and since): none of them was stored.
  const missed = sims.c2s.seedLeads({
    count: 40,
    from: new Date(coveredUntil.getTime() - 5 * 60_000),
    until: new Date(now - 60_000),
  });
  const env = { ...sims.env, RECONCILE_INTERVAL_MINUTES: '15' };
  const service = await startService(t, { db, role: 'api', env, reconcileTiming: { firstRunMs: 50 } });
  const rows = await until('the run after the crash', async () => {
    const all = await runRows(db);
    return all.length === 3 && all[2]!.status === 'succeeded' ? all : undefined;
  });
  assert.equal(rows[1]!.status, 'failed');
  assert.equal(rows[1]!.error, 'interrupted: the process stopped before the run finished');
  assert.equal(rows[1]!.finished_at, null);
  assert.equal(rows[2]!.window_from.getTime(), coveredUntil.getTime() - 10 * 60_000);
  assert.deepEqual([rows[2]!.listed, rows[2]!.new], [40, 40]);
  const { rows: stored } = await db.pool.query<{ lead_id: string }>(
    `SELECT lead_id FROM webhook_events WHERE source = 'reconcile' ORDER BY updated_at`,
  );
  assert.deepEqual(
    stored.map((row) => row.lead_id),
    missed.map((lead) => lead.id),
  );
  assert.ok(service.logs.some((line) => line.includes('reconciliation runs interrupted by a stop or crash')));
  // The crash counted as a failure until the run after it succeeded.
  assert.equal((await stats(service)).consecutive_failures, 0);
});

const C2S_HOST = '127.0.0.2';

test('C2S unreachable: the run is recorded failed, the failure gauge rises, the next interval retries', async (t) => {
  const db = await freshDatabase(t);
  const sims = await startSimulators(t, { c2s: { listLimitPerWindow: 0 } });
  // On 127.0.0.2, where no other test listens: a port of 127.0.0.1 found free a moment ago was
  // once taken meanwhile by another test file's server, which answered instead of refusing.
  const port = await freePort(C2S_HOST);
  const env = {
    ...sims.env,
    C2S_BASE_URL: `http://${C2S_HOST}:${port}`,
    C2S_LIST_RATE_PER_MINUTE: '600',
    RECONCILE_INTERVAL_MINUTES: '15',
    RECONCILE_LOOKBACK_HOURS: '2',
  };
  const service = await startService(t, {
    db,
    role: 'api',
    env,
    reconcileTiming: { firstRunMs: 50, intervalMs: 700 },
  });
  const failed = await until('two failed runs', async () => {
    const rows = (await runRows(db)).filter((row) => row.status === 'failed');
    return rows.length >= 2 ? rows : undefined;
  });
  for (const row of failed) {
    assert.equal(row.error, `c2s_unreachable: c2s could not be reached (ECONNREFUSED)`);
    assert.ok(row.finished_at !== null);
  }
  const failures = await metric(service, 'reconcile_consecutive_failures');
  assert.ok(failures >= 2, `the gauge counts the failures: ${failures}`);
  assert.ok((await metric(service, 'reconcile_runs_total', 'result="failed"')) >= 2);
  assert.equal(await metric(service, 'reconcile_last_success_timestamp_seconds'), 0);
  const failing = await stats(service);
  assert.equal(failing.last_run_at, null);
  assert.ok((failing.consecutive_failures as number) >= 2);
  assert.equal(failing.last_error, 'c2s_unreachable: c2s could not be reached (ECONNREFUSED)');
  const warnings = service.logs.map((line) => JSON.parse(line)).filter((line) => line.level === 'warn');
  assert.ok(
    warnings.some(
      (line) =>
        line.msg ===
          'reconciliation failed: C2S cannot be reached or refuses the listing; the window is tried again at the next interval' &&
        line.err.code === 'c2s_unreachable',
    ),
    JSON.stringify(warnings),
  );

  // C2S comes back (on the address the service calls), with leads updated meanwhile.
  const c2s = await startC2sSimulator({ token: 'c2s-token', host: C2S_HOST, port, listLimitPerWindow: 0 });
  defer(t, () => c2s.close());
  const leads = c2s.seedLeads({
    count: 7,
    from: new Date(Date.now() - 3_600_000),
    until: new Date(Date.now() - 60_000),
  });

  // The next interval retries, over the whole first window (no run had succeeded).
  const recovered = await until('a run to succeed', async () => {
    const rows = (await runRows(db)).filter((row) => row.status === 'succeeded');
    return rows[0];
  });
  assert.equal(recovered.window_until.getTime() - recovered.window_from.getTime(), 2 * 3_600_000);
  assert.equal(recovered.new, 7);
  const { rows } = await db.pool.query<{ lead_id: string }>(
    `SELECT lead_id FROM webhook_events ORDER BY updated_at`,
  );
  assert.deepEqual(
    rows.map((row) => row.lead_id),
    leads.map((lead) => lead.id),
  );
  assert.equal((await stats(service)).consecutive_failures, 0);
  await until(
    'the gauge to fall back to 0',
    async () => (await metric(service, 'reconcile_consecutive_failures')) === 0,
    10_000,
    200,
  );
});
