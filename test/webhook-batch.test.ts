import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventRows, leadEvent, startService } from './helpers/service.ts';

test('a mixed batch stores the valid events and reports each one in order', async (t) => {
  const service = await startService(t);
  const answer = await service.post([
    leadEvent('lead-1', '2026-11-20T10:15:00.000-03:00'),
    { id: 'lead-2', attributes: {} },
    leadEvent('lead-3', 'not a date'),
    'a string is not an event',
    { attributes: { updated_at: '2026-11-20T10:15:00Z' } },
    leadEvent('lead-1', '2026-11-20T10:15:00.000-03:00'),
  ]);
  assert.equal(answer.status, 200);
  assert.equal(answer.body.status, 'received');
  assert.equal(answer.body.received, 6);
  assert.equal(answer.body.processed, 1);
  assert.equal(answer.body.duplicates, 1);
  assert.equal(answer.body.rejected, 4);
  assert.deepEqual(
    answer.body.results.map((r: { index: number; outcome: string; reason?: string }) => [
      r.index,
      r.outcome,
      r.reason,
    ]),
    [
      [0, 'accepted', undefined],
      [1, 'rejected', 'missing_updated_at'],
      [2, 'rejected', 'invalid_updated_at'],
      [3, 'rejected', 'not_an_object'],
      [4, 'rejected', 'missing_lead_id'],
      [5, 'duplicate', undefined],
    ],
  );
  assert.equal(answer.body.results[5].event_id, answer.body.results[0].event_id);
  assert.equal((await eventRows(service.db)).length, 1);

  // Nothing that arrived is dropped silently: the invalid events are kept for inspection.
  const { rows } = await service.db.pool.query(
    'SELECT event_index, reason, lead_id, payload_excerpt FROM rejected_webhooks ORDER BY event_index',
  );
  assert.deepEqual(
    rows.map((row) => [row.event_index, row.reason, row.lead_id]),
    [
      [1, 'missing_updated_at', 'lead-2'],
      [2, 'invalid_updated_at', 'lead-3'],
      [3, 'not_an_object', null],
      [4, 'missing_lead_id', null],
    ],
  );
  assert.match(rows[1].payload_excerpt, /not a date/);
});

test('a request with no valid event is refused with 400 and says why per event', async (t) => {
  const service = await startService(t);
  const single = await service.post({ lead_id: 'lead-x' });
  assert.equal(single.status, 400);
  assert.equal(single.body.error, 'invalid_events');
  assert.equal(single.body.results[0].reason, 'missing_updated_at');

  const batch = await service.post([
    { lead_id: 'lead-y', updated_at: 'yesterday' },
    { updated_at: '2026-11-20T10:15:00Z' },
  ]);
  assert.equal(batch.status, 400);
  assert.equal(batch.body.rejected, 2);
  assert.deepEqual(
    batch.body.results.map((r: { reason: string }) => r.reason),
    ['invalid_updated_at', 'missing_lead_id'],
  );
  assert.equal((await eventRows(service.db)).length, 0);
});

test('an empty batch is refused and a batch over the event limit gets 413', async (t) => {
  const service = await startService(t, { env: { WEBHOOK_MAX_EVENTS: '3' } });
  const empty = await service.post([]);
  assert.equal(empty.status, 400);
  assert.equal(empty.body.error, 'empty_batch');
  const many = await service.post([1, 2, 3, 4].map((n) => leadEvent(`lead-${n}`, '2026-11-20T10:15:00Z')));
  assert.equal(many.status, 413);
  assert.equal(many.body.error, 'too_many_events');
  assert.equal((await eventRows(service.db)).length, 0);
});

test('an event older than the newest stored one of its lead is stored as stale', async (t) => {
  const service = await startService(t);
  await service.post(leadEvent('lead-s', '2026-11-20T12:00:00Z'));
  const older = await service.post(leadEvent('lead-s', '2026-11-20T11:00:00Z'));
  assert.equal(older.status, 200);
  assert.equal(older.body.results[0].outcome, 'stale');
  assert.equal(older.body.stale, 1);
  assert.equal(older.body.processed, 0);
  const newer = await service.post(leadEvent('lead-s', '2026-11-20T13:00:00Z'));
  assert.equal(newer.body.results[0].outcome, 'accepted');
  const rows = await eventRows(service.db, 'lead-s');
  assert.deepEqual(
    rows.map((row) => [row.updated_at.toISOString(), row.status]),
    [
      ['2026-11-20T11:00:00.000Z', 'stale'],
      ['2026-11-20T12:00:00.000Z', 'received'],
      ['2026-11-20T13:00:00.000Z', 'received'],
    ],
  );
});

test('within one batch the older event of a lead is stale', async (t) => {
  const service = await startService(t);
  const answer = await service.post([
    leadEvent('lead-b', '2026-11-20T13:00:00Z'),
    leadEvent('lead-b', '2026-11-20T12:00:00Z'),
  ]);
  assert.deepEqual(
    answer.body.results.map((r: { outcome: string }) => r.outcome),
    ['accepted', 'stale'],
  );
});

test('rejected input kept for inspection is bounded in rows', async (t) => {
  const service = await startService(t, { env: { REJECTED_EVENTS_KEEP: '5' } });
  for (let round = 0; round < 3; round++) {
    await service.post([1, 2, 3].map((n) => ({ lead_id: `bad-${round}-${n}` })));
  }
  const { rows } = await service.db.pool.query('SELECT lead_id FROM rejected_webhooks ORDER BY id');
  assert.deepEqual(
    rows.map((row) => row.lead_id),
    ['bad-1-2', 'bad-1-3', 'bad-2-1', 'bad-2-2', 'bad-2-3'],
  );
});
