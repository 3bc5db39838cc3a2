// workflow_event_latency_seconds: from an event entering the queue to its completion (for an
// enriched lead: webhook to note), counted from an operator's requeue for a requeued event.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adminRequest } from './helpers/service.ts';
import { startEnrichment } from './helpers/enrichment.ts';
import { settled } from './helpers/workflow.ts';
import { until } from './helpers/wait.ts';

async function latency(url: string): Promise<{ count: number; sum: number; enriched: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const total = (suffix: string) =>
    [...text.matchAll(new RegExp(`^workflow_event_latency_seconds_${suffix}\\{[^}]*\\} (\\S+)$`, 'gm'))]
      .map((m) => Number(m[1]))
      .reduce((a, b) => a + b, 0);
  const enriched = /^workflow_event_latency_seconds_count\{outcome="enriched"\} (\d+)$/m.exec(text);
  return { count: total('count'), sum: total('sum'), enriched: Number(enriched?.[1] ?? 0) };
}

test('an enriched event observes its webhook-to-note time; a requeued one counts from the requeue', async (t) => {
  const rig = await startEnrichment(t);
  rig.workApi.faults.set('cpf', { latencyMs: 300 });
  const { event } = rig.lead('cpf_in_description');
  await rig.service.post(event);
  const [done] = await settled(rig.service.db);
  assert.equal(done!.outcome, 'enriched');
  const first = await latency(rig.service.url);
  assert.equal(first.enriched, 1);
  assert.ok(first.sum >= 0.3 && first.sum < 30, `webhook to note took ${first.sum} s`);

  // Received an hour ago, requeued now: the second run's latency is seconds, not an hour.
  await rig.service.db.pool.query(`UPDATE webhook_events SET received_at = now() - interval '1 hour'`);
  const requeued = await adminRequest(rig.service.url, 'POST', `/events/${done!.id}/reprocess`, {
    from: 'start',
  });
  assert.equal(requeued.status, 202);
  const second = await until('the requeued run to complete', async () => {
    const reading = await latency(rig.service.url);
    return reading.count === 2 && reading;
  });
  assert.ok(second.sum - first.sum < 60, `the requeued run took ${second.sum - first.sum} s`);
});
