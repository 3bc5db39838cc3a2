import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { ProviderRateLimitedError } from '../src/errors.ts';
import { createMetrics } from '../src/metrics.ts';
import { createC2sClient } from '../src/providers/c2s/client.ts';
import { createProviderGuard } from '../src/providers/guard.ts';
import { createHttpAgent } from '../src/providers/http.ts';
import { startC2sSimulator } from '../src/simulators/c2s.ts';
import { defer } from './helpers/cleanup.ts';

function client(
  baseUrl: string,
  options: { gatewayUrl?: string; token?: string; breakerFailures?: number } = {},
) {
  const metrics = createMetrics();
  const agent = createHttpAgent({ connectMs: 1000, responseMs: 2000 });
  return {
    metrics,
    agent,
    c2s: createC2sClient({
      baseUrl,
      token: options.token ?? 'c2s-token',
      gatewayUrl: options.gatewayUrl,
      dispatcher: agent,
      timeoutMs: 2000,
      guard: createProviderGuard(
        'c2s',
        { ratePerMinute: 0, breakerFailures: options.breakerFailures ?? 5 },
        metrics,
      ),
      listGuard: createProviderGuard('c2s', { ratePerMinute: 0 }, metrics),
      gatewayGuard: createProviderGuard('c2s_gateway', { ratePerMinute: 0 }, metrics),
    }),
  };
}

test('listing pages through leads with the exact filters C2S accepts', async (t) => {
  const sim = await startC2sSimulator({ token: 'c2s-token' });
  defer(t, () => sim.close());
  const { c2s, agent } = client(sim.url);
  defer(t, () => agent.close());
  for (let n = 0; n < 60; n++) await c2s.postNote(`lead-${n}`, `nota ${n}`);
  const since = new Date('2026-11-20T10:15:30.123Z');
  const first = await c2s.listLeads({ page: 1, perPage: 200, updatedSince: since });
  assert.equal(first.leads.length, 50, 'perpage is capped at 50 (C2S answers 403 above)');
  assert.equal(first.total, 60);
  const second = await c2s.listLeads({ page: 2, perPage: 50, updatedSince: since });
  assert.equal(second.leads.length, 10, 'a short page is the last');
});

test('subscribing replaces the hook URL per action; a wrong action is refused', async (t) => {
  const sim = await startC2sSimulator({ token: 'c2s-token' });
  defer(t, () => sim.close());
  const { c2s, agent } = client(sim.url);
  defer(t, () => agent.close());
  await c2s.subscribe('https://a.example.com/hook?token=x', 'on_create_lead');
  await c2s.subscribe('https://b.example.com/hook?token=y', 'on_create_lead');
  await c2s.subscribe('https://b.example.com/hook?token=y', 'on_close_lead');
  await c2s.unsubscribe('https://b.example.com/hook?token=y', 'on_close_lead');
  assert.deepEqual(sim.subscriptions(), { on_create_lead: 'https://b.example.com/hook?token=y' });
  await assert.rejects(c2s.subscribe('https://b.example.com/', 'on_delete_lead' as 'on_close_lead'), {
    code: 'rejected',
    provider: 'c2s',
    qualifiedCode: 'c2s_rejected',
  });
});

test('a bad token is a permanent error; a lead that is not JSON is a clear one', async (t) => {
  const sim = await startC2sSimulator({ token: 'c2s-token' });
  defer(t, () => sim.close());
  const bad = client(sim.url, { token: 'wrong' });
  defer(t, () => bad.agent.close());
  await assert.rejects(bad.c2s.postNote('lead-1', 'x'), {
    qualifiedCode: 'c2s_unauthorized',
    retryable: false,
  });
  const good = client(sim.url);
  defer(t, () => good.agent.close());
  sim.faults.failNext('get_lead', { kind: 'malformed_body' });
  await assert.rejects(good.c2s.getLead('lead-1'), { qualifiedCode: 'c2s_malformed_body', retryable: false });
});

test('notes go through the gateway only when C2S cannot be reached', async (t) => {
  const received: Array<{ url: string; body: string }> = [];
  const gateway = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ url: req.url ?? '', body });
      res.writeHead(201).end('{}');
    });
  });
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
  defer(t, () => new Promise((resolve) => gateway.close(resolve)));
  const address = gateway.address();
  const gatewayUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  // C2S down (nothing listens): the note goes to the gateway.
  const down = client('http://127.0.0.1:9', { gatewayUrl });
  defer(t, () => down.agent.close());
  await down.c2s.postNote('lead-g', 'nota via gateway');
  assert.deepEqual(received, [
    { url: '/leads/lead-g/messages', body: JSON.stringify({ message: 'nota via gateway' }) },
  ]);

  // C2S down long enough to open its breaker: the gateway, with a breaker of its own, still takes notes.
  const broken = client('http://127.0.0.1:9', { gatewayUrl, breakerFailures: 1 });
  defer(t, () => broken.agent.close());
  await broken.c2s.postNote('lead-b1', 'nota 1'); // unreachable: C2S's breaker opens
  await broken.c2s.postNote('lead-b2', 'nota 2'); // circuit open: straight to the gateway
  assert.deepEqual(
    received.slice(1).map((note) => note.url),
    ['/leads/lead-b1/messages', '/leads/lead-b2/messages'],
  );
  const metrics = await broken.metrics.registry.metrics();
  assert.match(
    metrics,
    /provider_calls_total\{provider="c2s",operation="post_note",result="circuit_open"\} 1/,
  );
  received.length = 1;

  // C2S reached but the outcome is unknown: never a second copy through the gateway.
  const sim = await startC2sSimulator({ token: 'c2s-token' });
  defer(t, () => sim.close());
  sim.faults.failNext('create_message', { kind: 'drop_after_processing' });
  const up = client(sim.url, { gatewayUrl });
  defer(t, () => up.agent.close());
  await assert.rejects(up.c2s.postNote('lead-u', 'nota'), {
    qualifiedCode: 'c2s_outcome_unknown',
    outcomeUnknown: true,
  });
  assert.equal(received.length, 1);
});

test('the simulator is steered and inspected over HTTP, as demos and operators do', async (t) => {
  const sim = await startC2sSimulator({ token: 'c2s-token' });
  defer(t, () => sim.close());
  const { c2s, agent } = client(sim.url);
  defer(t, () => agent.close());
  const control = await fetch(`${sim.url}/_sim/faults`, {
    method: 'POST',
    body: JSON.stringify({
      route: 'create_message',
      fault: { kind: 'status', status: 429, retryAfterSeconds: 7 },
    }),
  });
  assert.equal(control.status, 200);
  await assert.rejects(c2s.postNote('lead-s', 'first'), (error: unknown) => {
    assert.ok(error instanceof ProviderRateLimitedError);
    assert.equal(error.qualifiedCode, 'c2s_rate_limited');
    assert.equal(error.retryAfterMs, 7000);
    return true;
  });
  await c2s.postNote('lead-s', 'second');
  const listed = (await (await fetch(`${sim.url}/_sim/notes?lead_id=lead-s`)).json()) as {
    notes: Array<{ body: string }>;
  };
  assert.deepEqual(
    listed.notes.map((note) => note.body),
    ['second'],
  );
});
