// The state gauges count only what is bounded and indexed: unfinished events and unsent notes,
// never the finished history, which grows forever.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMetrics } from '../src/metrics.ts';
import { registerStateGauges, STATE_GAUGES_SQL } from '../src/workflow/gauges.ts';
import { freshDatabase } from './helpers/database.ts';

const FINISHED = 50_000;

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

test('over 50,000 finished events and sent notes, the gauges read the partial indexes and count only the unfinished', async (t) => {
  const db = await freshDatabase(t);
  await db.pool.query(
    `INSERT INTO webhook_events (lead_id, updated_at, payload_raw, status, outcome, processed_at, attempts)
     SELECT 'done-' || n, timestamptz '2026-01-01Z' + n * interval '1 second', '{"id":"x"}',
            (ARRAY['completed', 'completed', 'failed', 'stale', 'superseded'])[n % 5 + 1],
            CASE WHEN n % 5 < 2 THEN 'enriched' END, now(), 1
     FROM generate_series(1, $1) n`,
    [FINISHED],
  );
  await db.pool.query(
    `INSERT INTO notes (ref, lead_id, state, sent_at)
     SELECT 'enr-' || lpad(to_hex(n), 16, '0'), 'done-' || n, 'sent', now() FROM generate_series(1, $1) n`,
    [FINISHED],
  );
  // Unfinished: two due, one running (claimed, lease ahead), one waiting for a retry; one note of
  // each unsent state.
  await db.pool.query(
    `INSERT INTO webhook_events (lead_id, updated_at, payload_raw, status, received_at, due_at, claimed_by)
     VALUES ('open-1', now(), '{}', 'received', now() - interval '90 seconds', now(), NULL),
            ('open-2', now(), '{}', 'received', now() - interval '10 seconds', now(), NULL),
            ('open-3', now(), '{}', 'processing', now(), now() + interval '15 seconds', 'worker-1'),
            ('open-4', now(), '{}', 'processing', now(), now() + interval '1 minute', NULL)`,
  );
  await db.pool.query(
    `INSERT INTO notes (ref, lead_id, state) VALUES ('enr-p', 'open-3', 'pending'), ('enr-u', 'open-4', 'unknown')`,
  );
  await db.pool.query('ANALYZE webhook_events, notes');

  const { rows } = await db.pool.query<{ 'QUERY PLAN': [{ Plan: PlanNode; 'Execution Time': number }] }>(
    `EXPLAIN (ANALYZE, FORMAT JSON) ${STATE_GAUGES_SQL}`,
  );
  const [{ Plan: plan, 'Execution Time': ms }] = rows[0]!['QUERY PLAN'];
  const all = nodes(plan);
  t.diagnostic(
    `plan: ${all.map((n) => [n['Node Type'], n['Relation Name'], n['Index Name']].filter(Boolean).join(' ')).join(' / ')}; ${ms} ms`,
  );
  const seqScans = all.filter((n) => n['Node Type'] === 'Seq Scan').map((n) => n['Relation Name']);
  assert.deepEqual(seqScans, [], 'no sequential scan');
  const indexes = all.flatMap((n) => n['Index Name'] ?? []).join(', ');
  assert.ok(indexes.includes('webhook_events_due_idx'), `events read through the queue index: ${indexes}`);
  assert.ok(indexes.includes('notes_state_idx'), `notes read through their unsent index: ${indexes}`);
  assert.ok(ms < 50, `the gauges' query took ${ms} ms`);

  const metrics = createMetrics();
  registerStateGauges(metrics, db.pool);
  const text = await metrics.registry.metrics();
  for (const line of [
    'webhook_events_by_status{status="received"} 2',
    'webhook_events_by_status{status="processing"} 2',
    'queue_events_by_state{state="due"} 2',
    'queue_events_by_state{state="running"} 1',
    'queue_events_by_state{state="waiting_retry"} 1',
    'notes_by_state{state="pending"} 1',
    'notes_by_state{state="unknown"} 1',
  ]) {
    assert.ok(text.includes(line), `metrics has: ${line}`);
  }
  for (const finished of ['completed', 'failed', 'stale', 'superseded']) {
    assert.ok(!text.includes(`status="${finished}"`), `no gauge of ${finished} events`);
  }
  assert.ok(!text.includes('notes_by_state{state="sent"}'), 'no gauge of sent notes');
  const oldest = Number(/^workflow_oldest_waiting_seconds (\S+)$/m.exec(text)?.[1]);
  assert.ok(oldest >= 90 && oldest < 120, `oldest waiting: ${oldest} s`);
});

test('scrapes within the maximum age share one reading of the database', async (t) => {
  const db = await freshDatabase(t);
  let reads = 0;
  const counting = new Proxy(db.pool, {
    get(target, key, receiver) {
      if (key === 'query') {
        return (...args: Parameters<typeof target.query>) => {
          reads++;
          return (target.query as (...a: unknown[]) => unknown)(...args);
        };
      }
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  const metrics = createMetrics();
  registerStateGauges(metrics, counting, 60_000);
  await Promise.all(Array.from({ length: 20 }, () => metrics.registry.metrics()));
  await db.pool.query(
    `INSERT INTO webhook_events (lead_id, updated_at, payload_raw) VALUES ('l', now(), '{}')`,
  );
  const text = await metrics.registry.metrics();
  assert.equal(reads, 1, 'twenty-one scrapes, one read');
  assert.ok(text.includes('webhook_events_by_status{status="received"} 0'), 'the shared reading');
});
