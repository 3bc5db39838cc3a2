import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventRows, leadEvent, startService } from './helpers/service.ts';
import { until } from './helpers/wait.ts';

test('a body over the limit is refused with 413 and stores nothing', async (t) => {
  const service = await startService(t, { env: { WEBHOOK_BODY_LIMIT: '2048' } });
  const answer = await service.post(
    leadEvent('lead-big', '2026-11-20T10:15:00Z', { description: 'x'.repeat(4000) }),
  );
  assert.equal(answer.status, 413);
  assert.equal(answer.body.error, 'payload_too_large');
  const small = await service.post(leadEvent('lead-small', '2026-11-20T10:15:00Z'));
  assert.equal(small.status, 200);
  assert.deepEqual(
    (await eventRows(service.db)).map((row) => row.lead_id),
    ['lead-small'],
  );
});

test('the default body limit is 1 MiB', async (t) => {
  const service = await startService(t);
  const under = await service.post(
    leadEvent('lead-900k', '2026-11-20T10:15:00Z', { description: 'x'.repeat(900_000) }),
  );
  const over = await service.post(
    leadEvent('lead-1100k', '2026-11-20T10:15:00Z', { description: 'x'.repeat(1_100_000) }),
  );
  assert.deepEqual([under.status, over.status], [200, 413]);
});

test('a body that is not JSON by content type gets 415', async (t) => {
  const service = await startService(t);
  for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', null]) {
    const answer = await service.post(leadEvent('lead-ct', '2026-11-20T10:15:00Z'), { contentType });
    assert.equal(answer.status, 415, String(contentType));
    assert.equal(answer.body.error, 'unsupported_media_type');
  }
  const withCharset = await service.post(leadEvent('lead-ct', '2026-11-20T10:15:00Z'), {
    contentType: 'application/json; charset=utf-8',
  });
  assert.equal(withCharset.status, 200);
});

test('malformed JSON gets 400 without echoing the body, and is kept for inspection', async (t) => {
  const service = await startService(t);
  const raw = '{"id": "lead-bad", "attributes": {"customer": {"email": "ana.lima@example.com"}';
  const answer = await service.post(undefined, { raw });
  assert.equal(answer.status, 400);
  assert.equal(answer.body.error, 'malformed_json');
  assert.ok(!JSON.stringify(answer.body).includes('ana.lima'));
  const { rows } = await service.db.pool.query('SELECT reason, payload_excerpt FROM rejected_webhooks');
  assert.deepEqual(rows, [{ reason: 'malformed_json', payload_excerpt: raw }]);
  assert.ok(!service.logs.join('').includes('ana.lima@example.com'));
  const empty = await service.post(undefined, { raw: '' });
  assert.equal(empty.status, 400);
});

test('a backlog over its limit gets 503 with Retry-After until it drains', async (t) => {
  const service = await startService(t, { env: { INGEST_MAX_BACKLOG: '2' } });
  assert.equal((await service.post(leadEvent('lead-1', '2026-11-20T10:15:00Z'))).status, 200);
  assert.equal((await service.post(leadEvent('lead-2', '2026-11-20T10:15:00Z'))).status, 200);
  const full = await service.post(leadEvent('lead-3', '2026-11-20T10:15:00Z'));
  assert.equal(full.status, 503);
  assert.equal(full.body.error, 'backlog_full');
  assert.ok(Number(full.headers.get('retry-after')) > 0);
  assert.equal((await eventRows(service.db, 'lead-3')).length, 0);

  // Once the backlog is worked off, events are taken again (the count refreshes within a second;
  // a request finding it older than that starts the recount). Until then, only backlog_full.
  await service.db.pool.query(`UPDATE webhook_events SET status = 'completed'`);
  await until(
    'the webhook to take events again after the backlog drained',
    async () => {
      const answer = await service.post(leadEvent('lead-4', '2026-11-20T10:15:00Z'));
      if (answer.status === 200) return true;
      assert.equal(answer.body.error, 'backlog_full');
      return false;
    },
    5000,
    100,
  );
  assert.equal((await eventRows(service.db, 'lead-4')).length, 1);
});
