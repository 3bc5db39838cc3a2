// Nothing hangs: every provider call has a total deadline (headers and body together) and a cap on
// the size of the answer it reads. Real simulators, real clients, real sockets.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import {
  type ProviderError,
  ProviderOutcomeUnknownError,
  ProviderResponseTooLargeError,
  ProviderTimeoutError,
  ProviderUnavailableError,
  type ProviderName,
} from '../src/errors.ts';
import { createMetrics } from '../src/metrics.ts';
import { createC2sClient } from '../src/providers/c2s/client.ts';
import { createDiretrixClient } from '../src/providers/diretrix/client.ts';
import { createProviderGuard } from '../src/providers/guard.ts';
import { createHttpAgent } from '../src/providers/http.ts';
import { createWorkApiClient } from '../src/providers/workapi/client.ts';
import { startC2sSimulator } from '../src/simulators/c2s.ts';
import { startDiretrixSimulator } from '../src/simulators/diretrix.ts';
import { createPopulation } from '../src/simulators/population.ts';
import { startWorkApiSimulator } from '../src/simulators/workapi.ts';
import { defer } from './helpers/cleanup.ts';
import { startEnrichment } from './helpers/enrichment.ts';
import { eventStates, settled } from './helpers/workflow.ts';

const DEADLINE_MS = 800;
/** Timers, scheduling and a busy CI machine: generous, but far below "forever". */
const LATE_MARGIN_MS = 2_000;
const EARLY_MARGIN_MS = 100;
const FIFTY_MB = 50 * 1000 * 1000;
/** Memory a call may add while a 50 MB answer comes in: well under the 50 MB it would buffer. */
const MEMORY_BUDGET = 20 * 1024 * 1024;

const population = createPopulation({ seed: 11, size: 30 });
const person = population.people[0]!;
const phone = person.phones[0]!.number;

function agentFor(t: TestContext) {
  // The agent's own per-phase timeouts are far beyond the call's deadline: only the deadline acts.
  const agent = createHttpAgent({ connectMs: 1_000, responseMs: 60_000 });
  defer(t, () => agent.destroy());
  return agent;
}

const guard = (name: ProviderName) => createProviderGuard(name, { ratePerMinute: 0 }, createMetrics());

async function workApi(t: TestContext, options: { timeoutMs?: number; maxResponseBytes?: number } = {}) {
  const sim = await startWorkApiSimulator({ token: 'work-token', population });
  defer(t, () => sim.close());
  const client = createWorkApiClient({
    baseUrl: sim.url,
    token: 'work-token',
    dispatcher: agentFor(t),
    timeoutMs: options.timeoutMs ?? DEADLINE_MS,
    maxResponseBytes: options.maxResponseBytes,
    guard: guard('workapi'),
  });
  return { sim, client };
}

async function diretrix(t: TestContext) {
  const sim = await startDiretrixSimulator({ user: 'dx-user', pass: 'dx-pass', population });
  defer(t, () => sim.close());
  const client = createDiretrixClient({
    baseUrl: sim.url,
    user: 'dx-user',
    pass: 'dx-pass',
    dispatcher: agentFor(t),
    timeoutMs: DEADLINE_MS,
    guard: guard('diretrix'),
  });
  return { sim, client };
}

async function c2s(t: TestContext) {
  const sim = await startC2sSimulator({ token: 'c2s-token' });
  defer(t, () => sim.close());
  const client = createC2sClient({
    baseUrl: sim.url,
    token: 'c2s-token',
    dispatcher: agentFor(t),
    timeoutMs: DEADLINE_MS,
    guard: guard('c2s'),
    listGuard: guard('c2s'),
    gatewayGuard: guard('c2s_gateway'),
  });
  return { sim, client };
}

/** Runs `call`, sampling memory meanwhile: its error, how long it took, the peak growth. */
async function measure(call: () => Promise<unknown>) {
  const before = process.memoryUsage();
  let peakRss = before.rss;
  let peakBuffers = before.arrayBuffers;
  const sampler = setInterval(() => {
    const now = process.memoryUsage();
    peakRss = Math.max(peakRss, now.rss);
    peakBuffers = Math.max(peakBuffers, now.arrayBuffers);
  }, 5);
  const started = performance.now();
  let error: unknown;
  try {
    await call();
  } catch (caught) {
    error = caught;
  } finally {
    clearInterval(sampler);
  }
  const elapsed = performance.now() - started;
  const after = process.memoryUsage();
  peakRss = Math.max(peakRss, after.rss);
  peakBuffers = Math.max(peakBuffers, after.arrayBuffers);
  return {
    error,
    elapsed,
    rssGrowth: peakRss - before.rss,
    buffersGrowth: peakBuffers - before.arrayBuffers,
  };
}

function assertError(
  error: unknown,
  expected: {
    class: abstract new (...args: never[]) => ProviderError;
    /** Whether the call may have landed (a POST sent before it failed). */
    outcomeUnknown: boolean;
    code: string;
  },
  secrets: readonly string[] = [],
) {
  assert.ok(error instanceof expected.class, `expected ${expected.class.name}, got ${String(error)}`);
  const { qualifiedCode, outcomeUnknown, retryable, message } = error;
  assert.equal(qualifiedCode, expected.code);
  assert.equal(outcomeUnknown, expected.outcomeUnknown);
  assert.equal(retryable, true);
  assert.doesNotMatch(message, /https?:\/\/|127\.0\.0\.1/, 'the message carries no URL');
  for (const secret of secrets) assert.ok(!message.includes(secret), `the message carries no ${secret}`);
}

// --- A provider that trickles its body ----------------------------------------------------------

test('a GET whose body trickles forever fails as retryable at its total deadline', async (t) => {
  const { sim, client } = await workApi(t);
  sim.faults.failNext('cpf', { kind: 'trickle', intervalMs: 50 });
  const { error, elapsed, rssGrowth } = await measure(() => client.fetchDossier(person.cpf));
  assertError(error, { class: ProviderTimeoutError, outcomeUnknown: false, code: 'workapi_timeout' }, [
    'work-token',
    person.cpf,
  ]);
  assert.match((error as Error).message, /timed out after 800 ms/);
  assert.ok(elapsed >= DEADLINE_MS - EARLY_MARGIN_MS, `gave up after ${elapsed} ms, before its deadline`);
  assert.ok(elapsed < DEADLINE_MS + LATE_MARGIN_MS, `gave up after ${elapsed} ms`);
  assert.ok(rssGrowth < MEMORY_BUDGET, `rss grew by ${rssGrowth} bytes`);
  // The next call goes through: the abandoned connection did not poison the pool.
  assert.equal((await client.fetchDossier(person.cpf))?.DadosBasicos !== undefined, true);
});

test('a trickle slower than the per-chunk timeouts but done within the deadline succeeds', async (t) => {
  const { sim, client } = await workApi(t, { timeoutMs: 3_000 });
  sim.faults.failNext('cpf', { kind: 'trickle', intervalMs: 40, chunks: 5 });
  const dossier = await client.fetchDossier(person.cpf);
  assert.equal((dossier?.DadosBasicos as { cpf?: string } | undefined)?.cpf, person.cpf);
});

test('a POST whose answer trickles forever is an unknown outcome at its deadline (it may have landed)', async (t) => {
  const { sim, client } = await c2s(t);
  sim.faults.failNext('create_message', { kind: 'trickle', intervalMs: 50 });
  const { error, elapsed } = await measure(() => client.postNote('lead-t', 'nota'));
  assertError(
    error,
    { class: ProviderOutcomeUnknownError, outcomeUnknown: true, code: 'c2s_outcome_unknown' },
    ['c2s-token', 'lead-t'],
  );
  assert.ok(elapsed >= DEADLINE_MS - EARLY_MARGIN_MS, `gave up after ${elapsed} ms, before its deadline`);
  assert.ok(elapsed < DEADLINE_MS + LATE_MARGIN_MS, `gave up after ${elapsed} ms`);
  assert.equal(sim.notes('lead-t').length, 1, 'the simulator took the note before trickling its answer');
});

test("the caller's own abort still surfaces as before, not as a timeout", async (t) => {
  const { sim, client } = await workApi(t, { timeoutMs: 10_000 });
  sim.faults.failNext('cpf', { kind: 'trickle', intervalMs: 50 });
  const stop = new AbortController();
  setTimeout(() => stop.abort(), 200);
  const { error, elapsed } = await measure(() => client.fetchDossier(person.cpf, stop.signal));
  assertError(error, { class: ProviderUnavailableError, outcomeUnknown: false, code: 'workapi_unavailable' });
  assert.equal((error as Error & { cause?: Error }).cause?.name, 'AbortError');
  assert.ok(elapsed < 2_000, `stopped after ${elapsed} ms`);
});

// --- A provider that answers 50 MB --------------------------------------------------------------

test('a GET answering 50 MB (chunked) fails as too large at the cap, with memory bounded', async (t) => {
  const { sim, client } = await diretrix(t);
  sim.faults.failNext('phone', { kind: 'huge_body', bytes: FIFTY_MB });
  const { error, elapsed, rssGrowth, buffersGrowth } = await measure(() => client.findByPhone(phone));
  assertError(
    error,
    { class: ProviderResponseTooLargeError, outcomeUnknown: false, code: 'diretrix_response_too_large' },
    ['dx-pass', phone],
  );
  assert.match((error as Error).message, /over 2097152 bytes/);
  assert.ok(elapsed < DEADLINE_MS + LATE_MARGIN_MS, `gave up after ${elapsed} ms`);
  assert.ok(rssGrowth < MEMORY_BUDGET, `rss grew by ${rssGrowth} bytes`);
  assert.ok(buffersGrowth < MEMORY_BUDGET, `array buffers grew by ${buffersGrowth} bytes`);
  assert.deepEqual(await client.findByPhone(phone), [{ cpf: person.cpf, name: person.name }]);
});

test('a GET declaring 50 MB is refused on its Content-Length, before reading it', async (t) => {
  const { sim, client } = await workApi(t);
  sim.faults.failNext('cpf', { kind: 'huge_body', bytes: FIFTY_MB, declareLength: true });
  const { error, elapsed, rssGrowth } = await measure(() => client.fetchDossier(person.cpf));
  assertError(
    error,
    { class: ProviderResponseTooLargeError, outcomeUnknown: false, code: 'workapi_response_too_large' },
    ['work-token'],
  );
  assert.ok(elapsed < DEADLINE_MS + LATE_MARGIN_MS, `gave up after ${elapsed} ms`);
  assert.ok(rssGrowth < MEMORY_BUDGET, `rss grew by ${rssGrowth} bytes`);
});

test('the cap is an option of the call: a smaller one refuses an ordinary dossier', async (t) => {
  const { client } = await workApi(t, { maxResponseBytes: 256 });
  await assert.rejects(client.fetchDossier(person.cpf), { qualifiedCode: 'workapi_response_too_large' });
});

test('a POST answered with 50 MB is an unknown outcome; a GET of the lead is retryable', async (t) => {
  const { sim, client } = await c2s(t);
  sim.faults.failNext('create_message', { kind: 'huge_body', bytes: FIFTY_MB });
  const posted = await measure(() => client.postNote('lead-h', 'nota'));
  assertError(posted.error, {
    class: ProviderResponseTooLargeError,
    outcomeUnknown: true,
    code: 'c2s_response_too_large',
  });
  assert.ok(posted.rssGrowth < MEMORY_BUDGET, `rss grew by ${posted.rssGrowth} bytes`);
  assert.equal(sim.notes('lead-h').length, 1);

  sim.faults.failNext('get_lead', { kind: 'huge_body', bytes: FIFTY_MB });
  const read = await measure(() => client.getLead('lead-h'));
  assertError(read.error, {
    class: ProviderResponseTooLargeError,
    outcomeUnknown: false,
    code: 'c2s_response_too_large',
  });
  assert.ok(read.rssGrowth < MEMORY_BUDGET, `rss grew by ${read.rssGrowth} bytes`);
  assert.equal((await client.getLead('lead-h')).messages.length, 1);
});

test('the simulators take these faults over their control route too', async (t) => {
  const { sim } = await workApi(t);
  const control = await fetch(`${sim.url}/_sim/faults`, {
    method: 'POST',
    body: JSON.stringify({ route: 'cpf', fault: { kind: 'huge_body', bytes: 300_000 } }),
  });
  assert.equal(control.status, 200);
  const answer = await fetch(
    `${sim.url}/api?${new URLSearchParams({ token: 'work-token', modulo: 'cpf', consulta: person.cpf }).toString()}`,
  );
  const bytes = Buffer.from(await answer.arrayBuffer());
  assert.equal(bytes.length, 300_000);
  const text = bytes.toString('utf8');
  // Padded with JSON whitespace: the answer itself is intact at the end.
  assert.equal((JSON.parse(text) as { DadosBasicos: { cpf: string } }).DadosBasicos.cpf, person.cpf);
});

// --- Through the service ------------------------------------------------------------------------

test('a Work API that trickles once: the step times out, is retried, and the lead gets one note', async (t) => {
  const rig = await startEnrichment(t, { WORK_API_TIMEOUT_MS: '500' });
  rig.workApi.faults.failNext('cpf', { kind: 'trickle', intervalMs: 50 });
  const { leadId, event } = rig.lead('cpf_in_description');
  await rig.service.post(event);

  const [done] = await settled(rig.service.db, 20_000);
  assert.deepEqual([done!.status, done!.outcome, done!.attempts], ['completed', 'enriched', 2]);
  assert.equal(rig.workApi.calls('cpf'), 2, 'the dossier was asked again after the timeout');
  assert.equal(rig.c2s.notes(leadId).length, 1, 'exactly one note');
  assert.equal((await eventStates(rig.service.db)).length, 1);
  const metrics = await (await fetch(`${rig.service.url}/metrics`)).text();
  assert.match(metrics, /workflow_retries_total\{code="workapi_timeout"\} 1/);
  assert.match(
    metrics,
    /provider_calls_total\{provider="workapi",operation="cpf",result="workapi_timeout"\} 1/,
  );
});
