import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventRows, startService } from './helpers/service.ts';

test('each C2S envelope shape is stored with its lead id, instant and action', async (t) => {
  const service = await startService(t);
  const answer = await service.post([
    {
      id: 'lead-A',
      hook_action: 'on_create_lead',
      attributes: { updated_at: '2026-11-20T10:15:00.000-03:00' },
    },
    {
      hook_action: 'on_update_lead',
      lead: { id: 'lead-B', internal_id: 41877213, attributes: { updated_at: '2026-11-20T10:15:00-03:00' } },
    },
    {
      hook_action: 'on_close_lead',
      data: { type: 'lead', id: 'lead-C', attributes: { updated_at: '2026-11-20T13:15:00Z' } },
    },
    { lead_id: 'lead-F', updated_at: '2026-11-20T13:15:00.000Z', hook_action: 'lead.updated' },
    { id: 'lead-L', hook_action: 'lead.created', attributes: { updated_at: '2026-11-20T13:15:00Z' } },
  ]);
  assert.equal(answer.status, 200);
  assert.equal(answer.body.processed, 5);
  const rows = await eventRows(service.db);
  assert.deepEqual(
    rows.map((row) => [row.lead_id, row.updated_at.toISOString(), row.hook_action, row.status]),
    [
      ['lead-A', '2026-11-20T13:15:00.000Z', 'on_create_lead', 'received'],
      ['lead-B', '2026-11-20T13:15:00.000Z', 'on_update_lead', 'received'],
      ['lead-C', '2026-11-20T13:15:00.000Z', 'on_close_lead', 'received'],
      ['lead-F', '2026-11-20T13:15:00.000Z', 'on_update_lead', 'received'],
      ['lead-L', '2026-11-20T13:15:00.000Z', 'on_create_lead', 'received'],
    ],
  );
  // The raw event is kept as it came.
  const b = rows.find((row) => row.lead_id === 'lead-B');
  assert.deepEqual((b?.payload_raw as { lead: { internal_id: number } }).lead.internal_id, 41877213);
});

test('the same instant written with two offsets is one event', async (t) => {
  const service = await startService(t);
  const first = await service.post({ lead_id: 'lead-o', updated_at: '2026-11-20T10:15:00.000-03:00' });
  const second = await service.post({ lead_id: 'lead-o', updated_at: '2026-11-20T13:15:00Z' });
  const third = await service.post({ lead_id: 'lead-o', updated_at: '2026-11-20T14:15:00+01:00' });
  assert.equal(first.body.results[0].outcome, 'accepted');
  assert.equal(second.body.duplicates, 1);
  assert.equal(third.body.duplicates, 1);
  assert.equal(second.body.results[0].event_id, first.body.results[0].event_id);
  assert.equal((await eventRows(service.db, 'lead-o')).length, 1);
});

test('microseconds tell two events apart', async (t) => {
  const service = await startService(t);
  await service.post({ lead_id: 'lead-us', updated_at: '2026-11-20T13:15:00.000001Z' });
  await service.post({ lead_id: 'lead-us', updated_at: '2026-11-20T13:15:00.000002Z' });
  assert.equal((await eventRows(service.db, 'lead-us')).length, 2);
});
