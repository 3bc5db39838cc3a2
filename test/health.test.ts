import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leadEvent, startService } from './helpers/service.ts';

test('health is ok and ready once migrations are applied', async (t) => {
  const service = await startService(t);
  const health = await fetch(`${service.url}/health`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: 'ok' });
  const ready = await fetch(`${service.url}/ready`);
  assert.equal(ready.status, 200);
});

test('ready is 503 while a shipped migration is not applied', async (t) => {
  const service = await startService(t);
  await service.db.pool.query(`DELETE FROM schema_migrations WHERE name = '0001_webhook_events'`);
  const ready = await fetch(`${service.url}/ready`);
  assert.equal(ready.status, 503);
  assert.deepEqual(await ready.json(), { status: 'unavailable', reason: 'migrations_pending' });
});

test('metrics count requests by route and status, events by outcome, and time requests', async (t) => {
  const service = await startService(t);
  await service.post(leadEvent('lead-1', '2026-11-20T10:15:00Z'));
  await service.post(leadEvent('lead-1', '2026-11-20T10:15:00Z'));
  await service.post(leadEvent('lead-1', '2026-11-20T09:15:00Z'));
  await service.post([{ lead_id: 'lead-2' }, leadEvent('lead-3', '2026-11-20T10:15:00Z')]);
  const response = await fetch(`${service.url}/metrics`);
  assert.match(response.headers.get('content-type') ?? '', /text\/plain/);
  const text = await response.text();
  const expected = [
    'http_requests_total{route="/api/v1/webhooks/c2s",method="POST",status="200"} 4',
    'webhook_events_total{outcome="accepted",reason=""} 2',
    'webhook_events_total{outcome="duplicate",reason=""} 1',
    'webhook_events_total{outcome="stale",reason=""} 1',
    'webhook_events_total{outcome="rejected",reason="missing_updated_at"} 1',
    'http_request_duration_seconds_count{route="/api/v1/webhooks/c2s",method="POST",status="200"} 4',
    // State read from the database at scrape time: only unfinished events (two wait) and notes
    // not yet sent; the stale event is counted by webhook_events_total above, not by a gauge.
    'webhook_events_by_status{status="received"} 2',
    'webhook_events_by_status{status="processing"} 0',
    'queue_events_by_state{state="due"} 2',
    'queue_events_by_state{state="running"} 0',
    'queue_events_by_state{state="waiting_retry"} 0',
    'notes_by_state{state="pending"} 0',
    'notes_by_state{state="unknown"} 0',
  ];
  for (const line of expected) assert.ok(text.includes(line), `metrics has: ${line}`);
  assert.ok(!text.includes('webhook_events_by_status{status="stale"}'), 'finished events are not gauged');
  assert.match(text, /^workflow_oldest_waiting_seconds \d/m);
});

test('unknown routes get a JSON 404 and requests carry an id', async (t) => {
  const service = await startService(t);
  const response = await fetch(`${service.url}/nope?token=abc`, { headers: { 'x-request-id': 'req-123' } });
  assert.equal(response.status, 404);
  assert.equal(response.headers.get('x-request-id'), 'req-123');
  const body = (await response.json()) as { error: string; message: string };
  assert.equal(body.error, 'not_found');
  assert.ok(!body.message.includes('abc'));
});
