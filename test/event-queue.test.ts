import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../src/log/logger.ts';
import { renewLeases, startAttempts, type Lease } from '../src/queue/claims.ts';
import { createWaker, listenForWakeups } from '../src/queue/wakeups.ts';
import type { Step } from '../src/workflow/runner.ts';
import { defer } from './helpers/cleanup.ts';
import { freshDatabase, type TestDatabase } from './helpers/database.ts';
import { leadEvent, startService } from './helpers/service.ts';
import { until } from './helpers/wait.ts';
import { settled } from './helpers/workflow.ts';

const workerA: Lease = { workerId: 'worker-a', seconds: 30 };
const workerB: Lease = { workerId: 'worker-b', seconds: 30 };

/** Starts attempts as a worker would; the ids of the events taken. */
async function claimEvents(db: TestDatabase['pool'], lease: Lease, limit: number): Promise<string[]> {
  return (await startAttempts(db, lease, limit, 60)).map((attempt) =>
    attempt.kind === 'run' ? attempt.event.id : attempt.eventId,
  );
}

async function leadsOf(db: TestDatabase, ids: readonly string[]): Promise<string[]> {
  const { rows } = await db.pool.query<{ lead_id: string }>(
    `SELECT lead_id FROM webhook_events WHERE id = ANY($1::uuid[]) ORDER BY lead_id`,
    [ids],
  );
  return rows.map((row) => row.lead_id);
}

test('a stored event is queued: taken once, one per lead, and again only when its lease runs out', async (t) => {
  const db = await freshDatabase(t);
  const api = await startService(t, { db, role: 'api' });
  await api.post([
    leadEvent('lead-1', '2026-11-20T10:00:00Z'),
    leadEvent('lead-2', '2026-11-20T10:00:00Z'),
    leadEvent('lead-2', '2026-11-20T10:05:00Z'),
  ]);

  const first = await claimEvents(db.pool, workerA, 10);
  assert.deepEqual(await leadsOf(db, first), ['lead-1', 'lead-2'], 'one event per lead');
  assert.deepEqual(await claimEvents(db.pool, workerB, 10), [], "lead-2's other event waits for the lead");

  // worker-a dies: its leases run out, and worker-b takes exactly those events.
  await db.pool.query(
    `UPDATE webhook_events SET due_at = now() - interval '1 second' WHERE claimed_by = 'worker-a'`,
  );
  const retaken = await claimEvents(db.pool, workerB, 10);
  assert.deepEqual(retaken.toSorted(), first.toSorted());
  const { rows } = await db.pool.query(
    `SELECT DISTINCT claimed_by FROM webhook_events WHERE claimed_by IS NOT NULL`,
  );
  assert.deepEqual(rows, [{ claimed_by: 'worker-b' }]);
});

test('a renewed lease keeps the event; a retry is not due before its time', async (t) => {
  const db = await freshDatabase(t);
  const api = await startService(t, { db, role: 'api' });
  await api.post([leadEvent('lead-r', '2026-11-20T10:00:00Z'), leadEvent('lead-w', '2026-11-20T10:00:00Z')]);
  await db.pool.query(
    `UPDATE webhook_events SET status = 'processing', due_at = now() + interval '1 hour'
     WHERE lead_id = 'lead-w'`,
  );
  const taken = await claimEvents(db.pool, { ...workerA, seconds: 2 }, 10);
  assert.deepEqual(await leadsOf(db, taken), ['lead-r'], 'the event waiting for its retry is not taken');

  // Time passing is what is tested: 2.4 s in all, past the 2 s lease had it not been renewed.
  await sleep(1200);
  assert.deepEqual([...(await renewLeases(db.pool, { ...workerA, seconds: 2 }, taken)).renewed], taken);
  await sleep(1200);
  assert.deepEqual(await claimEvents(db.pool, workerB, 10), [], 'renewed, so still held');
  // Renewal only touches the renewing worker's own events.
  await renewLeases(db.pool, workerB, taken);
  const { rows } = await db.pool.query(`SELECT claimed_by FROM webhook_events WHERE id = $1`, [taken[0]]);
  assert.equal(rows[0].claimed_by, 'worker-a');
});

test("a renewal does not wait for a run's fenced write: that lease is held, and renewed next time", async (t) => {
  const db = await freshDatabase(t);
  const api = await startService(t, { db, role: 'api' });
  await api.post([
    leadEvent('lead-busy', '2026-11-20T10:00:00Z'),
    leadEvent('lead-free', '2026-11-20T10:00:00Z'),
  ]);
  const taken = await claimEvents(db.pool, workerA, 10);
  const [busy, free] = await Promise.all(
    ['lead-busy', 'lead-free'].map(async (lead) => {
      const { rows } = await db.pool.query<{ id: string }>(
        `SELECT id FROM webhook_events WHERE lead_id = $1`,
        [lead],
      );
      return rows[0]!.id;
    }),
  );
  assert.deepEqual(taken.toSorted(), [busy, free].toSorted());
  const dueAt = async (id: string) =>
    (await db.pool.query<{ due: Date }>(`SELECT due_at AS due FROM webhook_events WHERE id = $1`, [id]))
      .rows[0]!.due;
  const before = await dueAt(busy!);

  // A run's people write holds its event row FOR SHARE (its fence) for the length of its statement.
  const writer = await db.pool.connect();
  defer(t, () => writer.release());
  await writer.query('BEGIN');
  await writer.query(`SELECT 1 FROM webhook_events WHERE id = $1 FOR SHARE`, [busy]);
  const renewal = await Promise.race([
    renewLeases(db.pool, workerA, taken),
    sleep(5000).then(() => 'waited' as const),
  ]);
  assert.notEqual(renewal, 'waited', 'the renewal waited for the lock');
  if (renewal === 'waited') return;
  assert.deepEqual([...renewal.renewed], [free]);
  assert.deepEqual([...renewal.lost], [], 'the busy event is still held: its run must not stop');
  assert.deepEqual(await dueAt(busy!), before, 'not extended while busy');
  await writer.query('COMMIT');

  const next = await renewLeases(db.pool, workerA, taken);
  assert.deepEqual([...next.renewed].toSorted(), [busy, free].toSorted());
  assert.ok((await dueAt(busy!)) > before, 'extended once free');
  // A worker renewing events that are not its own learns they are lost.
  assert.deepEqual([...(await renewLeases(db.pool, workerB, taken)).lost].toSorted(), taken.toSorted());
});

test('workers claiming at once never take one event twice, nor two events of one lead', async (t) => {
  const db = await freshDatabase(t);
  const api = await startService(t, { db, role: 'api' });
  // 20 leads with 5 events each.
  await api.post(
    Array.from({ length: 100 }, (_, n) =>
      leadEvent(`lead-${n % 20}`, new Date(Date.UTC(2026, 10, 20, 10, Math.floor(n / 20))).toISOString()),
    ),
  );
  const workers = Array.from({ length: 6 }, (_, n): Lease => ({ workerId: `w${n}`, seconds: 30 }));
  const claims = await Promise.all(
    workers.flatMap((lease) => [1, 2, 3].map(() => claimEvents(db.pool, lease, 4))),
  );
  const ids = claims.flat();
  assert.equal(new Set(ids).size, ids.length, 'no event taken twice');
  const leads = await leadsOf(db, ids);
  assert.equal(new Set(leads).size, leads.length, 'no lead taken twice');
  assert.equal(leads.length, 20, 'every lead has one event running');
});

test('a wake-up from ingest reaches a listening worker', async (t) => {
  const db = await freshDatabase(t);
  let woken = 0;
  const listener = listenForWakeups(db.url, () => woken++, createLogger('silent'));
  defer(t, () => listener.close());
  // The listener reports once on connecting (whatever it missed); wait for that.
  await until('the listener to connect', () => woken > 0, 2000, 20);
  const before = woken;
  const wake = createWaker(db.pool);
  await Promise.all([wake(), wake(), wake()]);
  await until('the NOTIFY to arrive', () => woken > before, 2000, 20);
  // Give a second, unshared NOTIFY the time to arrive too, were there one: its absence is tested.
  await sleep(200);
  assert.ok(woken - before <= 2, `concurrent wake-ups are shared (got ${woken - before})`);
});

test('the events of a worker that died run elsewhere once their lease runs out', async (t) => {
  const db = await freshDatabase(t);
  const api = await startService(t, { db, role: 'api' });
  await api.post([
    leadEvent('lead-d1', '2026-11-20T10:00:00Z'),
    leadEvent('lead-d2', '2026-11-20T10:00:00Z'),
  ]);
  // A worker took them and vanished (its lease ends in 2 s).
  assert.equal((await claimEvents(db.pool, { workerId: 'gone', seconds: 2 }, 10)).length, 2);

  const runs: string[] = [];
  const counting: Step = {
    name: 'work',
    async run({ event }) {
      runs.push(event.leadId);
      return {};
    },
  };
  const started = Date.now();
  await startService(t, { db, role: 'worker', workflow: () => [counting] });
  const done = await settled(db, 30_000);
  assert.deepEqual(
    done.map((event) => event.status),
    ['completed', 'completed'],
  );
  assert.deepEqual(runs.toSorted(), ['lead-d1', 'lead-d2']);
  assert.ok(Date.now() - started >= 1500, 'not before the lease ran out');
  const { rows } = await db.pool.query(
    `SELECT count(*)::int AS n FROM webhook_events WHERE claimed_by IS NOT NULL`,
  );
  assert.equal(rows[0].n, 0, 'finished events are let go');
});
