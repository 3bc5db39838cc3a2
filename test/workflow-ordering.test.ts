import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import type { Step } from '../src/workflow/runner.ts';
import { freshDatabase } from './helpers/database.ts';
import { leadEvent, startService } from './helpers/service.ts';
import { until } from './helpers/wait.ts';
import { settled } from './helpers/workflow.ts';

interface Run {
  readonly leadId: string;
  readonly updatedAt: string;
  readonly start: number;
  end: number;
}

/** A step that takes `ms` and records when each event ran. */
function recordingStep(runs: Run[], ms: number): Step {
  return {
    name: 'work',
    async run({ event }) {
      const run: Run = {
        leadId: event.leadId,
        updatedAt: event.updatedAt.toISOString(),
        start: Date.now(),
        end: 0,
      };
      runs.push(run);
      await sleep(ms); // a step that takes time, so that runs could overlap: what is tested
      run.end = Date.now();
      return {};
    },
  };
}

test('out of order delivery: the older event arriving last is stale and never runs', async (t) => {
  const runs: Run[] = [];
  const service = await startService(t, {
    role: 'all',
    workflow: () => [recordingStep(runs, 0)],
  });
  await service.post(leadEvent('lead-o', '2026-11-20T12:00:00Z'));
  await settled(service.db);
  const late = await service.post(leadEvent('lead-o', '2026-11-20T11:00:00Z'));
  assert.equal(late.body.results[0].outcome, 'stale');
  assert.deepEqual(
    (await settled(service.db)).map((s) => s.status),
    ['stale', 'completed'],
  );
  assert.deepEqual(
    runs.map((r) => r.updatedAt),
    ['2026-11-20T12:00:00.000Z'],
  );
});

test('a queued event overtaken by a newer one of its lead is superseded, not run', async (t) => {
  const db = await freshDatabase(t);
  // Stored and queued while no worker runs...
  const api = await startService(t, { db, role: 'api' });
  await api.post(leadEvent('lead-q', '2026-11-20T10:00:00Z'));
  await api.post(leadEvent('lead-q', '2026-11-20T10:05:00Z'));
  await api.post(leadEvent('lead-other', '2026-11-20T10:00:00Z'));
  // ...then a worker comes up on the same database.
  const runs: Run[] = [];
  await startService(t, {
    db,
    role: 'worker',
    workflow: () => [recordingStep(runs, 0)],
  });
  const states = await settled(db);
  assert.deepEqual(
    states.map((s) => [s.lead_id, s.status]),
    [
      ['lead-other', 'completed'],
      ['lead-q', 'superseded'],
      ['lead-q', 'completed'],
    ],
  );
  assert.deepEqual(runs.map((r) => `${r.leadId}@${r.updatedAt}`).sort(), [
    'lead-other@2026-11-20T10:00:00.000Z',
    'lead-q@2026-11-20T10:05:00.000Z',
  ]);
});

test('events of one lead run one at a time, other leads in parallel', async (t) => {
  const runs: Run[] = [];
  const service = await startService(t, {
    role: 'all',
    workflow: () => [recordingStep(runs, 400)],
  });
  await service.post(leadEvent('lead-s', '2026-11-20T10:00:00Z'));
  // While the first runs, a newer event of the same lead and an event of another lead arrive.
  await until('the first event to start running', () => runs.length > 0, 5000, 20);
  await service.post([
    leadEvent('lead-s', '2026-11-20T10:01:00Z'),
    leadEvent('lead-p', '2026-11-20T10:00:00Z'),
  ]);
  await settled(service.db);
  const [first, second] = runs.filter((r) => r.leadId === 'lead-s');
  const other = runs.find((r) => r.leadId === 'lead-p')!;
  assert.ok(first && second, 'both events of lead-s ran');
  assert.ok(second.start >= first.end, 'the second event of a lead starts after the first ends');
  assert.ok(other.start < first.end, 'another lead does not wait');
});
