import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { ProviderRateLimitedError } from '../src/errors.ts';
import { createMetrics } from '../src/metrics.ts';
import { createC2sClient, type C2sClient, type ListingPage } from '../src/providers/c2s/client.ts';
import { createProviders } from '../src/providers/setup.ts';
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

test('one listing call: 50 leads a page at most, the filter in whole seconds, an explicit sort', async (t) => {
  const sim = await startC2sSimulator({ token: 'c2s-token' });
  defer(t, () => sim.close());
  const { c2s, agent } = client(sim.url);
  defer(t, () => agent.close());
  const seeded = sim.seedLeads({
    count: 60,
    from: new Date('2026-11-20T10:00:00Z'),
    until: new Date('2026-11-20T11:00:00Z'),
  });
  // Milliseconds in the filter would answer 403: the client sends whole seconds.
  const since = new Date('2026-11-20T09:59:30.123Z');
  const first = await c2s.listLeads({ page: 1, perPage: 200, updatedSince: since, sort: 'updated_at' });
  assert.equal(first.leads.length, 50, 'perpage is capped at 50 (C2S answers 403 above)');
  assert.equal(first.total, 60);
  assert.deepEqual(
    first.leads.slice(0, 2).map((lead) => [lead.id, lead.attributes.updated_at, lead.internalId]),
    [
      [seeded[0]!.id, seeded[0]!.updatedAt, 40_000_000],
      [seeded[1]!.id, seeded[1]!.updatedAt, 40_000_001],
    ],
  );
  const second = await c2s.listLeads({ page: 2, perPage: 50, updatedSince: since, sort: 'updated_at' });
  assert.equal(second.leads.length, 10, 'a short page is the last');
  const newest = await c2s.listLeads({ page: 1, perPage: 1, updatedSince: since, sort: '-updated_at' });
  assert.equal(newest.leads[0]!.id, seeded.at(-1)!.id);
});

/** A C2S client as the service builds it (setup.ts): the listing paced and penalised as configured. */
function listingClient(baseUrl: string, listing: { listRatePerMinute: number; listPenaltyMs?: number }) {
  const metrics = createMetrics();
  const nowhere = 'http://127.0.0.1:9';
  const providers = createProviders(
    {
      c2s: { baseUrl, token: 'c2s-token', timeoutMs: 2000, ratePerMinute: 0, ...listing },
      diretrix: { baseUrl: nowhere, user: 'u', pass: 'p', timeoutMs: 1000, ratePerMinute: 0 },
      workApi: { baseUrl: nowhere, token: 'w', timeoutMs: 1000, ratePerMinute: 0 },
    },
    metrics,
  );
  return { c2s: providers.c2s, metrics, close: () => providers.close() };
}

/** Lists a whole window: every lead listed, in order, and the listing's last totals. */
async function listWindow(
  c2s: C2sClient,
  window: { since: Date; until: Date },
  afterPage?: (page: number) => void,
) {
  const leads: Array<{ id: string; updatedAt: string }> = [];
  let last: ListingPage | undefined;
  let pages = 0;
  for await (const page of c2s.listLeadsUpdated(window)) {
    leads.push(...page.leads.map(({ lead, updatedAt }) => ({ id: lead.id, updatedAt })));
    last = page;
    afterPage?.(++pages);
  }
  return { leads, calls: last?.calls ?? 0, rateLimited: last?.rateLimited ?? 0 };
}

test('a window is listed whole, each lead once, and the listing stops at the first lead past its end', async (t) => {
  const sim = await startC2sSimulator({ token: 'c2s-token', listLimitPerWindow: 0 });
  defer(t, () => sim.close());
  const { c2s, close } = listingClient(sim.url, { listRatePerMinute: 0 });
  defer(t, close);
  // 300 leads a minute apart; the window runs from just after lead 30 to lead 250 exactly.
  const seeded = sim.seedLeads({
    count: 300,
    from: new Date('2026-11-20T10:00:00Z'),
    until: new Date('2026-11-20T15:00:00Z'),
  });
  const since = new Date(Date.parse(seeded[30]!.updatedAt) + 500);
  const until = new Date(Date.parse(seeded[250]!.updatedAt));
  const listed = await listWindow(c2s, { since, until });
  assert.deepEqual(listed.leads, seeded.slice(31, 251));
  // Each page after the first starts at the cursor's second, so reads its last lead again:
  // 220 leads in 5 calls, and none of the 49 leads after the window's end paged through.
  assert.equal(listed.calls, 5);
  assert.equal(sim.calls('list_leads'), 5);
});

test('over a page of leads updated within one second is stepped through by page, each lead once', async (t) => {
  const sim = await startC2sSimulator({ token: 'c2s-token', listLimitPerWindow: 0 });
  defer(t, () => sim.close());
  const { c2s, close } = listingClient(sim.url, { listRatePerMinute: 0 });
  defer(t, close);
  const at = new Date('2026-11-20T10:00:00Z');
  const burst = sim.seedLeads({ count: 130, from: at, until: new Date(at.getTime() + 900), idPrefix: 'b1' });
  const later = sim.seedLeads({
    count: 20,
    from: new Date(at.getTime() + 5000),
    until: new Date(at.getTime() + 25_000),
    idPrefix: 'b2',
  });
  const listed = await listWindow(c2s, {
    since: new Date(at.getTime() - 1000),
    until: new Date(at.getTime() + 60_000),
  });
  assert.deepEqual(
    listed.leads.map((lead) => lead.id).sort(),
    [...burst, ...later].map((lead) => lead.id).sort(),
  );
  assert.equal(new Set(listed.leads.map((lead) => lead.id)).size, 150);
});

test('leads updated while the window is being listed shift the list, yet no lead is skipped', async (t) => {
  const sim = await startC2sSimulator({ token: 'c2s-token', listLimitPerWindow: 0 });
  defer(t, () => sim.close());
  const { c2s, close } = listingClient(sim.url, { listRatePerMinute: 0 });
  defer(t, close);
  const start = new Date(Date.now() - 3_600_000);
  const seeded = sim.seedLeads({ count: 200, from: start, until: new Date(Date.now() - 60_000) });
  const window = { since: new Date(start.getTime() - 1000), until: new Date(Date.now() + 3_600_000) };
  // After every page, the two oldest leads not updated yet are updated now: they leave the
  // front of the list (already read) for its end, and every lead behind them moves forward.
  const touch = () => {
    for (const lead of seeded.splice(0, 2)) sim.putLead(lead.id, { updated_at: new Date().toISOString() });
  };
  const all = seeded.map((lead) => lead.id);

  const listed = await listWindow(c2s, window, touch);
  const seen = new Set(listed.leads.map((lead) => lead.id));
  assert.deepEqual(
    all.filter((id) => !seen.has(id)),
    [],
    'every lead is listed, in its old version or its new one',
  );

  // The same updates under plain page-number paging (what C2S's API suggests) lose leads: the
  // scenario is one that bites.
  const naiveSim = await startC2sSimulator({ token: 'c2s-token', listLimitPerWindow: 0 });
  defer(t, () => naiveSim.close());
  const naiveSeeded = naiveSim.seedLeads({ count: 200, from: start, until: new Date(Date.now() - 60_000) });
  const { c2s: naive, close: closeNaive } = listingClient(naiveSim.url, { listRatePerMinute: 0 });
  defer(t, closeNaive);
  const naiveSeen = new Set<string>();
  for (let page = 1; ; page++) {
    const { leads } = await naive.listLeads({
      page,
      perPage: 50,
      updatedSince: window.since,
      sort: 'updated_at',
    });
    for (const lead of leads) naiveSeen.add(lead.id);
    for (const lead of naiveSeeded.splice(0, 2))
      naiveSim.putLead(lead.id, { updated_at: new Date().toISOString() });
    if (leads.length < 50) break;
  }
  assert.ok(naiveSeen.size < 200, `page numbers alone listed ${naiveSeen.size} of 200 leads`);
});

test('paced to the listing limit: a long window never meets a 429', async (t) => {
  // The real limit scaled down: 10 calls in any second (C2S: in any minute), 429 past it.
  const sim = await startC2sSimulator({
    token: 'c2s-token',
    listLimitPerWindow: 10,
    listWindowMs: 1000,
    listPenaltyMs: 1100,
  });
  defer(t, () => sim.close());
  const seeded = sim.seedLeads({
    count: 600,
    from: new Date('2026-11-20T10:00:00Z'),
    until: new Date('2026-11-20T20:00:00Z'),
  });
  const window = { since: new Date('2026-11-20T09:00:00Z'), until: new Date('2026-11-20T21:00:00Z') };

  // 540 a minute is 9 a second: the service's default pace (9 a minute) scaled the same way.
  const paced = listingClient(sim.url, { listRatePerMinute: 540 });
  defer(t, paced.close);
  const started = performance.now();
  const listed = await listWindow(paced.c2s, window);
  const elapsed = performance.now() - started;
  assert.equal(listed.leads.length, 600);
  assert.deepEqual([listed.rateLimited, sim.listingRateLimited()], [0, 0]);
  assert.equal(listed.calls, 13);
  assert.ok(elapsed >= 12 * (60_000 / 540) - 5, `calls were spaced: ${elapsed} ms`);
  assert.deepEqual(listed.leads, seeded);

  // The same listing unpaced runs into the limit: the pacing is what kept it clear.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const unpaced = listingClient(sim.url, { listRatePerMinute: 0, listPenaltyMs: 1200 });
  defer(t, unpaced.close);
  const rushed = await listWindow(unpaced.c2s, window);
  assert.equal(rushed.leads.length, 600, 'and still lists everything, waiting the 429s out');
  assert.ok(sim.listingRateLimited() > 0 && rushed.rateLimited === sim.listingRateLimited());
});

test('a 429 that comes anyway is waited out: its Retry-After, or the configured penalty', async (t) => {
  const sim = await startC2sSimulator({ token: 'c2s-token', listLimitPerWindow: 0 });
  defer(t, () => sim.close());
  const seeded = sim.seedLeads({
    count: 70,
    from: new Date('2026-11-20T10:00:00Z'),
    until: new Date('2026-11-20T11:00:00Z'),
  });
  const window = { since: new Date('2026-11-20T09:00:00Z'), until: new Date('2026-11-20T12:00:00Z') };
  const { c2s, metrics, close } = listingClient(sim.url, { listRatePerMinute: 0, listPenaltyMs: 60_000 });
  defer(t, close);
  sim.faults.failNext('list_leads', { kind: 'status', status: 429, retryAfterSeconds: 1 });
  let started = performance.now();
  const told = await listWindow(c2s, window);
  assert.ok(performance.now() - started >= 1000, 'waited the Retry-After, not the 60 s penalty');
  assert.deepEqual(told.leads, seeded);
  assert.deepEqual([told.rateLimited, told.calls, sim.listingRateLimited()], [1, 3, 1]);
  assert.match(
    await metrics.registry.metrics(),
    /provider_calls_total\{provider="c2s",operation="list_leads",result="c2s_rate_limited"\} 1/,
  );

  // A C2S that says no Retry-After: the penalty is waited (here 700 ms, C2S's is 65 s).
  const silent = await startC2sSimulator({
    token: 'c2s-token',
    listLimitPerWindow: 1,
    listWindowMs: 10_000,
    listPenaltyMs: 600,
    listRetryAfter: false,
  });
  defer(t, () => silent.close());
  silent.seedLeads({
    count: 70,
    from: new Date('2026-11-20T10:00:00Z'),
    until: new Date('2026-11-20T11:00:00Z'),
  });
  const penalised = listingClient(silent.url, { listRatePerMinute: 0, listPenaltyMs: 700 });
  defer(t, penalised.close);
  started = performance.now();
  const waited = await listWindow(penalised.c2s, window);
  assert.ok(performance.now() - started >= 700);
  assert.equal(waited.leads.length, 70);
  assert.deepEqual([waited.rateLimited, silent.listingRateLimited()], [1, 1]);
});

test('a listing C2S keeps refusing with 429 gives up; one that cannot reach C2S fails at once', async (t) => {
  const sim = await startC2sSimulator({ token: 'c2s-token', listLimitPerWindow: 0 });
  defer(t, () => sim.close());
  sim.seedLeads({
    count: 5,
    from: new Date('2026-11-20T10:00:00Z'),
    until: new Date('2026-11-20T11:00:00Z'),
  });
  const window = { since: new Date('2026-11-20T09:00:00Z'), until: new Date('2026-11-20T12:00:00Z') };
  const { c2s, close } = listingClient(sim.url, { listRatePerMinute: 0 });
  defer(t, close);
  sim.faults.failNext('list_leads', { kind: 'status', status: 429, retryAfterSeconds: 0 }, 4);
  await assert.rejects(listWindow(c2s, window), { qualifiedCode: 'c2s_rate_limited' });
  assert.equal(sim.calls('list_leads'), 4, 'three 429s in a row were waited out, the fourth ends it');

  const down = listingClient('http://127.0.0.1:9', { listRatePerMinute: 0 });
  defer(t, down.close);
  await assert.rejects(listWindow(down.c2s, window), { qualifiedCode: 'c2s_unreachable' });
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
