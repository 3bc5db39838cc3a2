// Inbound protection of the webhook: client allow-list, trusted proxies, per-client rate limit,
// request timeouts, refusal metrics and what request log lines may show.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { WEBHOOK_PATH } from '../src/webhooks/routes.ts';
import { eventRows, leadEvent, SECRET, startService, type TestService } from './helpers/service.ts';

async function refusedCount(service: TestService, reason: string): Promise<number> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`webhook_requests_refused_total{reason="${reason}"}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

/** A webhook POST with extra headers (X-Forwarded-For). */
async function postFrom(service: TestService, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${service.url}${WEBHOOK_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-webhook-token': SECRET, ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

test('a client outside WEBHOOK_ALLOWED_IPS gets 403, nothing is stored, and it is counted', async (t) => {
  const service = await startService(t, { env: { WEBHOOK_ALLOWED_IPS: '203.0.113.0/24, 2001:db8::/32' } });
  const answer = await service.post(leadEvent('lead-far', '2026-11-20T10:15:00Z'));
  assert.equal(answer.status, 403);
  assert.deepEqual(answer.body, {
    error: 'forbidden',
    message: 'this client address may not call the webhook',
  });
  // Refused before authentication: even without a token the answer is the same 403.
  assert.equal(
    (await service.post(leadEvent('lead-far', '2026-11-20T10:15:00Z'), { token: null })).status,
    403,
  );
  assert.deepEqual(await eventRows(service.db), []);
  const { rows } = await service.db.pool.query('SELECT count(*)::int AS n FROM rejected_webhooks');
  assert.equal(rows[0].n, 0);
  assert.equal(await refusedCount(service, 'forbidden'), 2);
  assert.equal(await refusedCount(service, 'unauthorized'), 0);
  // Only the webhook is protected.
  assert.equal((await fetch(`${service.url}/health`)).status, 200);
  assert.equal((await fetch(`${service.url}/metrics`)).status, 200);
});

test('a listed client is served', async (t) => {
  const service = await startService(t, { env: { WEBHOOK_ALLOWED_IPS: '10.0.0.0/8,127.0.0.0/8' } });
  const answer = await service.post(leadEvent('lead-near', '2026-11-20T10:15:00Z'));
  assert.equal(answer.status, 200);
  assert.equal((await eventRows(service.db)).length, 1);
});

test('X-Forwarded-For from a peer that is not a trusted proxy is ignored', async (t) => {
  const service = await startService(t, { env: { WEBHOOK_ALLOWED_IPS: '203.0.113.5' } });
  const forged = await postFrom(service, leadEvent('lead-forged', '2026-11-20T10:15:00Z'), {
    'x-forwarded-for': '203.0.113.5',
  });
  assert.equal(forged.status, 403);
  assert.deepEqual(await eventRows(service.db), []);
});

test('X-Forwarded-For from a trusted proxy names the client', async (t) => {
  const service = await startService(t, {
    env: { WEBHOOK_ALLOWED_IPS: '203.0.113.5', TRUSTED_PROXIES: '127.0.0.1/32' },
  });
  const viaProxy = await postFrom(service, leadEvent('lead-proxied', '2026-11-20T10:15:00Z'), {
    'x-forwarded-for': '203.0.113.5',
  });
  assert.equal(viaProxy.status, 200);
  // The proxy itself, or another client behind it, is not on the list.
  const other = await postFrom(service, leadEvent('lead-other', '2026-11-20T10:15:00Z'), {
    'x-forwarded-for': '198.51.100.9',
  });
  assert.equal(other.status, 403);
  const direct = await service.post(leadEvent('lead-direct', '2026-11-20T10:15:00Z'));
  assert.equal(direct.status, 403);
  assert.deepEqual(
    (await eventRows(service.db)).map((row) => row.lead_id),
    ['lead-proxied'],
  );
});

test('over WEBHOOK_RATE_LIMIT_PER_MINUTE a client gets 429 with Retry-After; earlier events were stored', async (t) => {
  const service = await startService(t, { env: { WEBHOOK_RATE_LIMIT_PER_MINUTE: '3' } });
  for (const lead of ['lead-r1', 'lead-r2', 'lead-r3']) {
    assert.equal((await service.post(leadEvent(lead, '2026-11-20T10:15:00Z'))).status, 200, lead);
  }
  const over = await service.post(leadEvent('lead-r4', '2026-11-20T10:15:00Z'));
  assert.equal(over.status, 429);
  assert.equal(over.body.error, 'rate_limited');
  assert.match(over.body.message, /^over 3 requests a minute from this client; retry in /);
  const retryAfter = Number(over.headers.get('retry-after'));
  assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After ${over.headers.get('retry-after')}`);
  assert.deepEqual(
    (await eventRows(service.db)).map((row) => row.lead_id),
    ['lead-r1', 'lead-r2', 'lead-r3'],
  );
  assert.equal(await refusedCount(service, 'rate_limited'), 1);
  // Health and metrics are not limited.
  for (let i = 0; i < 5; i++) assert.equal((await fetch(`${service.url}/health`)).status, 200);
});

test('the rate limit is checked before the secret, so it also slows down guessing it', async (t) => {
  const service = await startService(t, { env: { WEBHOOK_RATE_LIMIT_PER_MINUTE: '2' } });
  for (const guess of ['guess-1', 'guess-2']) {
    assert.equal(
      (await service.post(leadEvent('lead-g', '2026-11-20T10:15:00Z'), { token: guess })).status,
      401,
    );
  }
  const third = await service.post(leadEvent('lead-g', '2026-11-20T10:15:00Z'), { token: 'guess-3' });
  assert.equal(third.status, 429);
  // Even the right secret waits for the window now.
  assert.equal((await service.post(leadEvent('lead-g', '2026-11-20T10:15:00Z'))).status, 429);
  assert.deepEqual(await eventRows(service.db), []);
  assert.equal(await refusedCount(service, 'unauthorized'), 2);
  assert.equal(await refusedCount(service, 'rate_limited'), 2);
});

test('behind a trusted proxy each client has its own rate budget; 0 turns the limit off', async (t) => {
  const limited = await startService(t, {
    env: { WEBHOOK_RATE_LIMIT_PER_MINUTE: '1', TRUSTED_PROXIES: '127.0.0.1' },
  });
  const from = (ip: string, lead: string) =>
    postFrom(limited, leadEvent(lead, '2026-11-20T10:15:00Z'), { 'x-forwarded-for': ip });
  assert.equal((await from('203.0.113.1', 'lead-a1')).status, 200);
  assert.equal((await from('203.0.113.2', 'lead-b1')).status, 200);
  assert.equal((await from('203.0.113.1', 'lead-a2')).status, 429);

  const unlimited = await startService(t, { env: { WEBHOOK_RATE_LIMIT_PER_MINUTE: '0' } });
  for (let i = 0; i < 20; i++) {
    assert.equal((await unlimited.post(leadEvent(`lead-u${i}`, '2026-11-20T10:15:00Z'))).status, 200);
  }
});

test('413 and 415 refusals are counted by reason in webhook_requests_refused_total', async (t) => {
  const service = await startService(t, { env: { WEBHOOK_BODY_LIMIT: '2048', WEBHOOK_MAX_EVENTS: '2' } });
  const big = await service.post(
    leadEvent('lead-big', '2026-11-20T10:15:00Z', { description: 'x'.repeat(4000) }),
  );
  assert.equal(big.status, 413);
  assert.equal(big.body.error, 'payload_too_large');
  const many = await service.post(
    ['a', 'b', 'c'].map((id) => leadEvent(`lead-${id}`, '2026-11-20T10:15:00Z')),
  );
  assert.equal(many.status, 413);
  assert.equal(many.body.error, 'too_many_events');
  for (const contentType of ['text/plain', null]) {
    const answer = await service.post(leadEvent('lead-ct', '2026-11-20T10:15:00Z'), { contentType });
    assert.equal(answer.status, 415);
    assert.equal(answer.body.error, 'unsupported_media_type');
  }
  assert.equal(await refusedCount(service, 'payload_too_large'), 1);
  assert.equal(await refusedCount(service, 'too_many_events'), 1);
  assert.equal(await refusedCount(service, 'unsupported_media_type'), 2);
  assert.deepEqual(await eventRows(service.db), []);
});

/**
 * Sends the headers of a webhook POST promising `length` bytes, then `chunks` bytes one by one
 * every `everyMs` (0 chunks: it stalls). Resolves with what the server answered, if anything,
 * and how long after the headers the connection was closed.
 */
function slowClient(
  url: string,
  options: { chunks: number; everyMs: number; length: number },
): Promise<{ answer: string; closedAfterMs: number }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let answer = '';
    let start = 0;
    let timer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error('the server kept the slow connection open'));
    }, 10_000);
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(guard);
      clearInterval(timer);
      resolve({ answer, closedAfterMs: performance.now() - start });
    });
    socket.on('connect', () => {
      socket.write(
        `POST ${WEBHOOK_PATH} HTTP/1.1\r\nHost: ${hostname}\r\ncontent-type: application/json\r\n` +
          `x-webhook-token: ${SECRET}\r\ncontent-length: ${options.length}\r\n\r\n{`,
      );
      start = performance.now();
      let sent = 0;
      if (options.chunks > 0) {
        timer = setInterval(() => {
          if (sent++ < options.chunks && !socket.destroyed) socket.write(' ');
        }, options.everyMs);
      }
    });
  });
}

test('a client that stalls its body, or trickles it, is cut off within HTTP_REQUEST_TIMEOUT_MS', async (t) => {
  const service = await startService(t, { env: { HTTP_REQUEST_TIMEOUT_MS: '600' } });

  const stalled = await slowClient(service.url, { chunks: 0, everyMs: 0, length: 1000 });
  assert.ok(stalled.closedAfterMs < 2500, `stalled connection closed after ${stalled.closedAfterMs} ms`);
  assert.ok(stalled.answer === '' || stalled.answer.startsWith('HTTP/1.1 408'), stalled.answer);

  // One byte every 100 ms: never idle long enough for the socket timeout, so the request
  // deadline is what ends it, with a 408.
  const trickling = await slowClient(service.url, { chunks: 1000, everyMs: 100, length: 1000 });
  assert.ok(
    trickling.closedAfterMs < 2500,
    `trickling connection closed after ${trickling.closedAfterMs} ms`,
  );
  assert.match(trickling.answer, /^HTTP\/1\.1 408 /);

  assert.deepEqual(await eventRows(service.db), []);
  // The service still answers normally.
  assert.equal((await service.post(leadEvent('lead-after', '2026-11-20T10:15:00Z'))).status, 200);
});

test('request log lines carry the path only: a token in any spelling never reaches the log', async (t) => {
  const service = await startService(t);
  const event = leadEvent('lead-log', '2026-11-20T10:15:00Z');
  const secret = encodeURIComponent(SECRET);
  for (const query of [
    `?token=${secret}`,
    `?%74oken=${secret}`,
    `?TOKEN=${secret}`,
    `?x=1&token=${secret}`,
    `?x=1&%54OKEN=${secret}`,
  ]) {
    await fetch(`${service.url}${WEBHOOK_PATH}${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(event),
    });
  }
  const notFound = await fetch(`${service.url}/nope/path?token=${secret}`);
  assert.equal(notFound.status, 404);
  assert.deepEqual(await notFound.json(), { error: 'not_found', message: 'no route GET /nope/path' });

  const requestLines = service.logs
    .map((line) => JSON.parse(line) as { msg: string; url?: string; status?: number })
    .filter((line) => line.msg === 'request');
  assert.deepEqual(
    requestLines.map((line) => [line.url, line.status]),
    [
      [WEBHOOK_PATH, 200], // `?token=` is the secret's documented spelling
      [WEBHOOK_PATH, 200], // `?%74oken=` decodes to it
      [WEBHOOK_PATH, 401],
      [WEBHOOK_PATH, 200],
      [WEBHOOK_PATH, 401],
      ['/nope/path', 404],
    ],
  );
  const logs = service.logs.join('\n');
  for (const leaked of [SECRET, secret, 'oken='])
    assert.ok(!logs.includes(leaked), `the log shows ${leaked}`);
});
