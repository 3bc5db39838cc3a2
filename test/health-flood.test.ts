// Health and metrics never starve the work: floods of /ready and /metrics during a pipeline run,
// with the real service (role `all`) on a small pool and a short lease, so that a lease renewal
// held up behind health queries would show as an event run twice.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import pg from 'pg';
import { startC2sSimulator, type C2sSimulator } from '../src/simulators/c2s.ts';
import { defer } from './helpers/cleanup.ts';
import { leadEvent, startService, type TestService } from './helpers/service.ts';
import { noteWorkflow, settled } from './helpers/workflow.ts';

const LEADS = 300;
const CLIENTS = 40;
/** A bound on any flood, however fast the service answers. */
const MAX_REQUESTS = 40_000;

async function startRig(t: TestContext): Promise<{ service: TestService; c2s: C2sSimulator }> {
  const c2s = await startC2sSimulator({ token: 'c2s-token' });
  defer(t, () => c2s.close());
  c2s.faults.set('*', { latencyMs: 5 });
  const service = await startService(t, {
    role: 'all',
    env: {
      C2S_BASE_URL: c2s.url,
      C2S_TOKEN: 'c2s-token',
      C2S_RATE_PER_MINUTE: '0',
      DB_POOL_MAX: '3',
      WORKER_LEASE_SECONDS: '2',
      RETRY_BASE_DELAY_MS: '50',
    },
    workflow: noteWorkflow({ composeDelayMs: 120 }),
  });
  // The floods below only ever go to this loopback address.
  assert.match(service.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  return { service, c2s };
}

interface FloodResult {
  readonly sent: number;
  readonly errors: number;
  /** Answers by route and status, e.g. `/ready 200`. */
  readonly answers: Map<string, number>;
}

/** `CLIENTS` clients, half on /ready and half on /metrics, each asking again once answered. */
async function flood(baseUrl: string, ms: number): Promise<FloodResult> {
  const deadline = Date.now() + ms;
  const answers = new Map<string, number>();
  let sent = 0;
  let errors = 0;
  const client = async (n: number) => {
    const path = n % 2 === 0 ? '/ready' : '/metrics';
    while (Date.now() < deadline && sent < MAX_REQUESTS) {
      sent++;
      try {
        const response = await fetch(`${baseUrl}${path}`, { signal: AbortSignal.timeout(10_000) });
        await response.arrayBuffer();
        const key = `${path} ${response.status}`;
        answers.set(key, (answers.get(key) ?? 0) + 1);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(n)));
  return { sent, errors, answers };
}

const describe = (result: FloodResult) =>
  `${result.sent} requests, ${result.errors} errors, ${JSON.stringify(Object.fromEntries(result.answers))}`;

const events = Array.from({ length: LEADS }, (_, n) =>
  leadEvent(`lead-${String(n).padStart(3, '0')}`, '2026-11-20T10:15:00Z'),
);

/**
 * Delivers the events in batches as C2S would, again after a refusal (a 503); returns how many
 * deliveries were refused.
 */
async function postAll(service: TestService): Promise<number> {
  let refused = 0;
  for (let i = 0; i < events.length; i += 25) {
    for (let attempt = 1; ; attempt++) {
      const answer = await service.post(events.slice(i, i + 25));
      if (answer.status === 200) break;
      assert.equal(answer.status, 503);
      assert.ok(attempt < 100, 'a delivery was refused for 20 s');
      refused++;
      await sleep(200);
    }
  }
  return refused;
}

/** Every event completed in one attempt, each step ran once, each lead got exactly one note. */
async function assertEachEventRanOnce(service: TestService, c2s: C2sSimulator): Promise<void> {
  const states = await settled(service.db, 60_000);
  assert.equal(states.length, LEADS);
  const notOnce = states.filter((s) => s.status !== 'completed' || s.attempts !== 1);
  assert.deepEqual(
    notOnce.slice(0, 3),
    [],
    `${notOnce.length} events did not complete in exactly one attempt`,
  );
  const { rows: steps } = await service.db.pool.query<{ step: string; attempts: number; n: number }>(
    `SELECT step, attempts, count(*)::int AS n FROM event_steps GROUP BY step, attempts ORDER BY step, attempts`,
  );
  assert.deepEqual(
    steps.map((s) => [s.step, s.attempts, s.n]),
    [
      ['compose_note', 1, LEADS],
      ['post_note', 1, LEADS],
    ],
    'each step of each event ran once',
  );
  for (const event of events) assert.equal(c2s.notes(event.id).length, 1, `one note on ${event.id}`);
  assert.equal(c2s.notes().length, LEADS);
}

/** Counts the statements every pg client of this process sends while `during` runs. */
async function countStatements<T>(during: () => Promise<T>): Promise<{ result: T; statements: number }> {
  const prototype = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = prototype.query;
  let statements = 0;
  prototype.query = function (this: unknown, ...args: unknown[]) {
    statements++;
    return original.apply(this, args);
  };
  try {
    return { result: await during(), statements };
  } finally {
    prototype.query = original;
  }
}

test('a flood of /ready and /metrics during a pipeline run: every event runs once, /ready stays 200, and the flood costs a few statements a second', async (t) => {
  const { service, c2s } = await startRig(t);

  const during = flood(service.url, 5000);
  assert.equal(await postAll(service), 0, 'no delivery was refused');
  const result = await during;
  t.diagnostic(`flood during the run: ${describe(result)}`);
  assert.equal(result.errors, 0, 'every request was answered');
  assert.deepEqual(
    [...result.answers.keys()].sort(),
    ['/metrics 200', '/ready 200'],
    'every answer was a 200',
  );
  await assertEachEventRanOnce(service, c2s);

  // With nothing to do, what a flood costs the database: readiness at most once a second and
  // the state gauges once per few seconds (plus the worker's own poll, once a second).
  const { result: idle, statements } = await countStatements(() => flood(service.url, 3000));
  t.diagnostic(`flood while idle: ${describe(idle)}; ${statements} statements`);
  assert.ok(idle.sent > 100, 'the flood did flood');
  assert.ok(statements <= 12, `${statements} statements for a 3-second flood of ${idle.sent} requests`);
});

test('while readiness cannot read the database, a flood of probes still leaves the workers their pool', async (t) => {
  const { service, c2s } = await startRig(t);
  const admin = new pg.Client({ connectionString: service.db.url });
  await admin.connect();
  defer(t, () => admin.end());

  const during = flood(service.url, 8000);
  const refused = await postAll(service);
  // While the workers run those events, readiness's statement waits on this lock for 5 s, longer
  // than a lease and than the pool's connect timeout: probes piling up on the workers' pool would
  // hold every connection, and the workers' statements (lease renewals, checkpoints) would wait,
  // time out, and runs be repeated.
  await admin.query('BEGIN');
  await admin.query('LOCK TABLE schema_migrations IN ACCESS EXCLUSIVE MODE');
  await sleep(5000); // the lock held this long (past a lease) is the condition under test
  await admin.query('COMMIT');
  const result = await during;
  t.diagnostic(`flood: ${describe(result)}`);
  await assertEachEventRanOnce(service, c2s);
  assert.equal(refused, 0, 'the webhook never had to refuse a delivery for want of a connection');
  assert.equal(result.errors, 0, 'every request was answered');
  for (const key of result.answers.keys()) {
    assert.ok(['/ready 200', '/ready 503', '/metrics 200'].includes(key), `unexpected answer: ${key}`);
  }
  assert.ok((result.answers.get('/ready 200') ?? 0) > 0, 'ready before and after the lock');
});
