import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventRows, leadEvent, SECRET, startService } from './helpers/service.ts';

test('a request without a token is refused with 401 and stores nothing', async (t) => {
  const service = await startService(t);
  const answer = await service.post(leadEvent('lead-a', '2026-11-20T10:15:00.000-03:00'), { token: null });
  assert.equal(answer.status, 401);
  assert.deepEqual(answer.body, { error: 'unauthorized' });
  assert.equal((await eventRows(service.db)).length, 0);
});

test('a wrong token is refused, in the header or the query string', async (t) => {
  const service = await startService(t);
  for (const via of ['header', 'query'] as const) {
    const answer = await service.post(leadEvent('lead-a', '2026-11-20T10:15:00.000-03:00'), {
      token: 'wrong',
      via,
    });
    assert.equal(answer.status, 401, via);
  }
  const almost = await service.post(leadEvent('lead-a', '2026-11-20T10:15:00.000-03:00'), {
    token: `${SECRET}x`,
  });
  assert.equal(almost.status, 401);
  assert.equal((await eventRows(service.db)).length, 0);
});

test('the token is accepted in the query string, as C2S sends it', async (t) => {
  const service = await startService(t);
  const answer = await service.post(leadEvent('lead-q', '2026-11-20T10:15:00.000-03:00'), { via: 'query' });
  assert.equal(answer.status, 200);
  assert.equal((await eventRows(service.db, 'lead-q')).length, 1);
});

test('during a rotation every configured secret is accepted', async (t) => {
  const service = await startService(t, {
    env: { WEBHOOK_SECRET: 'old-secret-aaaaaaaa, new-secret-bbbbbbbb' },
  });
  const old = await service.post(leadEvent('lead-r', '2026-11-20T10:15:00Z'), {
    token: 'old-secret-aaaaaaaa',
  });
  const current = await service.post(leadEvent('lead-r', '2026-11-20T10:16:00Z'), {
    token: 'new-secret-bbbbbbbb',
    via: 'query',
  });
  const wrong = await service.post(leadEvent('lead-r', '2026-11-20T10:17:00Z'), {
    token: 'old-secret-aaaaaaaa,new-secret-bbbbbbbb',
  });
  assert.deepEqual([old.status, current.status, wrong.status], [200, 200, 401]);
  assert.equal((await eventRows(service.db, 'lead-r')).length, 2);
});

test('refused requests are counted in metrics and the secret never reaches the log', async (t) => {
  const service = await startService(t);
  await service.post({}, { token: 'wrong-guess-123' });
  await service.post({}, { token: null });
  await service.post(leadEvent('lead-m', '2026-11-20T10:15:00Z'), { via: 'query' });
  const metrics = await (await fetch(`${service.url}/metrics`)).text();
  assert.match(metrics, /webhook_requests_refused_total\{reason="unauthorized"\} 2/);
  const logs = service.logs.join('');
  assert.ok(logs.includes('"url":"/api/v1/webhooks/c2s"'), 'the request is logged by its path alone');
  assert.ok(!logs.includes('token='), 'no query string is logged');
  assert.ok(!logs.includes(SECRET), 'the secret is not logged');
  assert.ok(!logs.includes('wrong-guess-123'), 'a presented token is not logged');
});
