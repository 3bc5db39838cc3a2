import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defer } from './helpers/cleanup.ts';
import { createLogger } from '../src/log/logger.ts';
import { enqueueEvents, startQueue } from '../src/queue/queue.ts';
import type { Step } from '../src/workflow/runner.ts';
import { sweepOrphanedEvents } from '../src/workflow/sweep.ts';
import { freshDatabase } from './helpers/database.ts';
import { leadEvent, startService } from './helpers/service.ts';
import { settled } from './helpers/workflow.ts';

test('an event whose job was lost is scheduled again, once, and runs once', async (t) => {
  const db = await freshDatabase(t);
  const api = await startService(t, { db, role: 'api' });
  await api.post(['lead-1', 'lead-2', 'lead-3', 'lead-4'].map((id) => leadEvent(id, '2026-11-20T10:00:00Z')));
  // Jobs lost (an operator's cleanup, a restore...): every job gone. lead-4 waits for a retry.
  await db.pool.query(`DELETE FROM pgboss.job`);
  await db.pool.query(
    `UPDATE webhook_events SET status = 'processing', next_attempt_at = now() + interval '1 hour' WHERE lead_id = 'lead-4'`,
  );

  const boss = await startQueue(
    db.url,
    { heartbeatSeconds: 10, superviseIntervalSeconds: 10 },
    createLogger('silent'),
  );
  defer(t, () => boss.stop({ graceful: false, close: true }));
  const schedule = (client: Parameters<typeof enqueueEvents>[1], jobs: Parameters<typeof enqueueEvents>[2]) =>
    enqueueEvents(boss, client, jobs);

  // Two sweepers at once (two instances): together they schedule each orphan once.
  const swept = await Promise.all([
    sweepOrphanedEvents(db.pool, schedule, 0),
    sweepOrphanedEvents(db.pool, schedule, 0),
  ]);
  assert.equal(swept[0] + swept[1], 3);
  assert.equal(await sweepOrphanedEvents(db.pool, schedule, 0), 0, 'a second sweep finds nothing');
  const { rows } = await db.pool.query(`SELECT data->>'eventId' AS id FROM pgboss.job`);
  assert.equal(rows.length, 3);
  assert.equal(new Set(rows.map((row) => row.id)).size, 3);

  const runs: string[] = [];
  const counting: Step = {
    name: 'work',
    async run({ event }) {
      runs.push(event.leadId);
      return {};
    },
  };
  await startService(t, { db, role: 'worker', env: { C2S_TOKEN: 'x' }, workflow: () => [counting] });
  await settled(db, 30_000, 'lead-3');
  await settled(db, 30_000, 'lead-1');
  await settled(db, 30_000, 'lead-2');
  assert.deepEqual(runs.sort(), ['lead-1', 'lead-2', 'lead-3']);
});

test('a recent event is not swept: its job may still be committing', async (t) => {
  const db = await freshDatabase(t);
  const api = await startService(t, { db, role: 'api' });
  await api.post(leadEvent('lead-new', '2026-11-20T10:00:00Z'));
  await db.pool.query(`DELETE FROM pgboss.job`);
  let scheduled = 0;
  const count = await sweepOrphanedEvents(
    db.pool,
    async (_client, jobs) => void (scheduled += jobs.length),
    60_000,
  );
  assert.deepEqual([count, scheduled], [0, 0]);
});
