// The simulators seen from a client: real HTTP, `fetch`, no database.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { isValidCpf } from '../src/people/cpf.ts';
import { startC2sSimulator, type C2sSimulator, type C2sSimulatorOptions } from '../src/simulators/c2s.ts';
import { startDiretrixSimulator, type DiretrixSimulator } from '../src/simulators/diretrix.ts';
import { createPopulation } from '../src/simulators/population.ts';
import {
  FIELDS_TO_DROP,
  HTTP_404_CPFS,
  startWorkApiSimulator,
  type WorkApiSimulator,
} from '../src/simulators/workapi.ts';

const population = createPopulation({ seed: 42, size: 40 });
const withStale = population.people.find((person) => person.staleRecord !== null)!;
const plain = population.people.find((person) => person.staleRecord === null && person.emails.length === 2)!;
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const AUTH = { authorization: basic('sim-user', 'sim-pass') };

async function diretrix(t: TestContext): Promise<DiretrixSimulator> {
  const simulator = await startDiretrixSimulator({ user: 'sim-user', pass: 'sim-pass', population });
  t.after(() => simulator.close());
  return simulator;
}

async function workApi(t: TestContext): Promise<WorkApiSimulator> {
  const simulator = await startWorkApiSimulator({ token: 'sim-token', population });
  t.after(() => simulator.close());
  return simulator;
}

const byPhone = (sim: DiretrixSimulator, phone: string, init: RequestInit = { headers: AUTH }) =>
  fetch(`${sim.url}/Consultas/Pessoa/Telefone/${phone}`, init);
const byEmail = (sim: DiretrixSimulator, email: string) =>
  fetch(`${sim.url}/Consultas/Pessoa/Email/${encodeURIComponent(email)}`, { headers: AUTH });
const work = (
  sim: WorkApiSimulator,
  modulo: string,
  consulta: string,
  token = 'sim-token',
  signal?: AbortSignal,
) =>
  fetch(`${sim.url}/api?${new URLSearchParams({ token, modulo, consulta }).toString()}`, {
    signal: signal ?? null,
  });

const control = (url: string, body: unknown) =>
  fetch(`${url}/_sim/faults`, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

// --- Diretrix -------------------------------------------------------------------------------

test('Diretrix refuses missing and wrong credentials with 401, before counting a call', async (t) => {
  const sim = await diretrix(t);
  const phone = plain.phones[0]!.number;
  const anonymous = await byPhone(sim, phone, {});
  assert.equal(anonymous.status, 401);
  assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic/);
  assert.equal(
    (await byPhone(sim, phone, { headers: { authorization: basic('sim-user', 'nope') } })).status,
    401,
  );
  assert.equal((await byPhone(sim, phone, { headers: { authorization: 'Bearer sim-pass' } })).status, 401);
  assert.equal(sim.calls('phone'), 0);
  assert.equal((await byPhone(sim, phone)).status, 200);
  assert.equal(sim.calls('phone'), 1);
});

test('Diretrix finds people by phone and by e-mail; a stale invalid CPF may come first', async (t) => {
  const sim = await diretrix(t);
  const plainAnswer = await byPhone(sim, plain.phones[0]!.number);
  assert.equal(plainAnswer.status, 200);
  assert.deepEqual(await plainAnswer.json(), [{ nome: plain.name, cpf: plain.cpf }]);

  const staleAnswer = (await (await byPhone(sim, withStale.phones[0]!.number)).json()) as Array<{
    cpf: string;
  }>;
  assert.equal(staleAnswer.length, 2);
  assert.ok(!isValidCpf(staleAnswer[0]!.cpf), 'the first entry is not the one to take');
  assert.equal(staleAnswer.find((entry) => isValidCpf(entry.cpf))?.cpf, withStale.cpf);

  for (const email of plain.emails) {
    assert.deepEqual(await (await byEmail(sim, email)).json(), [{ nome: plain.name, cpf: plain.cpf }]);
  }
  assert.equal((await byEmail(sim, plain.emails[0]!.toUpperCase())).status, 200, 'e-mails match in any case');
  assert.equal(sim.calls('phone'), 2);
  assert.equal(sim.calls('email'), 3);
});

test('Diretrix: 404 for nobody, 400 for malformed input, 404 for unknown paths', async (t) => {
  const sim = await diretrix(t);
  assert.equal((await byPhone(sim, population.unknown.phones[0]!)).status, 404);
  assert.equal((await byEmail(sim, population.unknown.emails[0]!)).status, 404);
  const crossed = population.crossedPairs[0]!;
  assert.equal(
    ((await (await byPhone(sim, crossed.phone)).json()) as [{ cpf: string }])[0].cpf,
    crossed.phoneOwner,
  );

  for (const phone of ['11abc654321', `55${plain.phones[0]!.number}`, '123', '%E0%A4%A']) {
    assert.equal((await byPhone(sim, phone)).status, 400, phone);
  }
  assert.equal((await byEmail(sim, 'not-an-email')).status, 400);
  assert.equal((await fetch(`${sim.url}/Consultas/Pessoa/Cpf/${plain.cpf}`, { headers: AUTH })).status, 404);
});

test('Diretrix in-band faults: 200 with an error body; credentials refused as expired', async (t) => {
  const sim = await diretrix(t);
  sim.faults.failNext('phone', { kind: 'error_body' });
  sim.faults.failNext('phone', { kind: 'expired_token' });
  const errorBody = await byPhone(sim, plain.phones[0]!.number);
  assert.equal(errorBody.status, 200);
  assert.deepEqual(await errorBody.json(), { Message: 'An error has occurred.' });
  assert.equal((await byPhone(sim, plain.phones[0]!.number)).status, 401);
  assert.equal((await byPhone(sim, plain.phones[0]!.number)).status, 200);
});

// --- Work API -------------------------------------------------------------------------------

test('Work API: a bad or missing token answers the 403-in-200 body, not counted', async (t) => {
  const sim = await workApi(t);
  const bad = await work(sim, 'cpf', plain.cpf, 'wrong');
  assert.equal(bad.status, 200);
  assert.deepEqual(await bad.json(), {
    status: 403,
    statusMsg: 'Forbidden',
    reason: 'Token vencido ou inválido',
  });
  const missing = await fetch(`${sim.url}/api?modulo=cpf&consulta=${plain.cpf}`);
  assert.equal(((await missing.json()) as { status: number }).status, 403);
  assert.equal(sim.calls('cpf'), 0);
});

test('Work API modulo=cpf answers the documented shape, forbidden fields included', async (t) => {
  const sim = await workApi(t);
  const answer = await work(sim, 'cpf', plain.cpf);
  assert.equal(answer.status, 200);
  const body = (await answer.json()) as Record<string, any>;
  assert.equal(body.status, 200);
  assert.equal(body.DadosBasicos.nome, plain.name);
  assert.equal(body.DadosBasicos.cpf, plain.cpf);
  assert.match(body.DadosBasicos.dataNascimento, /^\d\d\/\d\d\/\d{4}$/);
  assert.match(body.DadosBasicos.sexo, /^[FM] - (FEMININO|MASCULINO)$/);
  assert.equal(body.DadosBasicos.nomeMae, plain.motherName);
  assert.equal(body.DadosBasicos.situacaoCadastral.descricaoSituacaoCadastral, plain.registrationStatus);
  assert.match(body.DadosEconomicos.renda, /^\d+,\d\d$/);
  assert.equal(Number(body.DadosEconomicos.renda.replace(',', '.')), plain.income);
  assert.equal(body.DadosEconomicos.poderAquisitivo.faixaPoderAquisitivo, plain.purchasingPower.band);
  assert.equal(body.DadosEconomicos.score.scoreCSBA, String(plain.score));
  assert.equal(body.profissao.cboDescricao, plain.profession.description);
  assert.deepEqual(
    body.telefones.map((phone: any) => [phone.telefone, phone.whatsapp]),
    plain.phones.map((phone) => [phone.number, phone.whatsapp ? 'SIM' : 'NAO']),
  );
  assert.deepEqual(
    body.emails.map((email: any) => email.email),
    plain.emails,
  );
  assert.equal(body.enderecos.length, plain.addresses.length);
  assert.match(body.enderecos[0].cep, /^\d{8}$/);
  assert.equal(body.empresas.length, plain.companies.length);

  for (const field of FIELDS_TO_DROP.dadosBasicos)
    assert.ok(body.DadosBasicos[field], `DadosBasicos.${field}`);
  for (const field of FIELDS_TO_DROP.topLevel) {
    const value = body[field];
    assert.ok(Array.isArray(value) ? value.length > 0 : Object.keys(value).length > 0, field);
  }
  assert.equal(body.vizinhos[0].cpf.length, 11, 'a neighbour carries another CPF that must not leak');
});

test('Work API modulo=cpf: not found as {erro} with 200, as 404 for the documented CPFs', async (t) => {
  const sim = await workApi(t);
  const unknown = await work(sim, 'cpf', population.unknown.cpfs[0]!);
  assert.equal(unknown.status, 200);
  assert.ok('erro' in ((await unknown.json()) as object));
  for (const cpf of HTTP_404_CPFS) {
    const answer = await work(sim, 'cpf', cpf);
    assert.equal(answer.status, 404);
    await answer.body?.cancel();
  }
  const invalid = (await (await work(sim, 'cpf', '52998224726')).json()) as object;
  assert.ok('erro' in invalid && !('DadosBasicos' in invalid));
  assert.equal(sim.calls('cpf'), 4);
});

test('Work API counts its calls per CPF and phone looked up (a lookup paid twice shows)', async (t) => {
  const sim = await workApi(t);
  const [first, second] = population.people;
  for (const cpf of [first!.cpf, second!.cpf, first!.cpf]) await (await work(sim, 'cpf', cpf)).body?.cancel();
  await (await work(sim, 'phone', first!.phones[0]!.number)).body?.cancel();
  await (await work(sim, 'cpf', first!.cpf, 'wrong-token')).body?.cancel(); // refused: not a call
  assert.deepEqual(
    sim.callsByKey('cpf'),
    new Map([
      [first!.cpf, 2],
      [second!.cpf, 1],
    ]),
  );
  assert.deepEqual(sim.callsByKey('phone'), new Map([[first!.phones[0]!.number, 1]]));
  assert.deepEqual(sim.callsByKey('nothing'), new Map());
});

test('Work API modulo=phone pads the CPF to 14 digits', async (t) => {
  const sim = await workApi(t);
  const found = (await (await work(sim, 'phone', plain.phones[0]!.number)).json()) as {
    msg: Array<{ cpf_cnpj: string; nome: string }>;
  };
  assert.deepEqual(found, { msg: [{ cpf_cnpj: `000${plain.cpf}`, nome: plain.name }] });
  assert.equal(found.msg[0]!.cpf_cnpj.length, 14);
  assert.equal(found.msg[0]!.cpf_cnpj.slice(-11), plain.cpf);
  assert.deepEqual(await (await work(sim, 'phone', population.unknown.phones[0]!)).json(), { msg: [] });
  assert.equal(sim.calls('phone'), 2);

  sim.faults.failNext('phone', { kind: 'status', status: 503 });
  assert.equal((await work(sim, 'cpf', plain.cpf)).status, 200, "a fault on 'phone' spares 'cpf'");
  assert.equal((await work(sim, 'phone', plain.phones[0]!.number)).status, 503);
});

test('Work API in-band faults: 200 with an error body; expired token whatever the token', async (t) => {
  const sim = await workApi(t);
  sim.faults.failNext('cpf', { kind: 'error_body' });
  sim.faults.failNext('cpf', { kind: 'error_body', body: '{"erro": "CPF não encontrado"}' });
  sim.faults.failNext('cpf', { kind: 'expired_token' });
  const errorBody = await work(sim, 'cpf', plain.cpf);
  assert.equal(errorBody.status, 200);
  const body = (await errorBody.json()) as object;
  assert.ok('status' in body && body.status === 500 && !('DadosBasicos' in body));
  assert.deepEqual(await (await work(sim, 'cpf', plain.cpf)).json(), { erro: 'CPF não encontrado' });
  const expired = await work(sim, 'cpf', plain.cpf);
  assert.equal(expired.status, 200);
  assert.equal(((await expired.json()) as { reason: string }).reason, 'Token vencido ou inválido');
  assert.ok('DadosBasicos' in ((await (await work(sim, 'cpf', plain.cpf)).json()) as object));
});

// --- Transport faults, the same on both simulators -------------------------------------------

interface FaultTarget {
  readonly name: string;
  readonly route: string;
  start(t: TestContext): Promise<DiretrixSimulator | WorkApiSimulator>;
  call(url: string, signal?: AbortSignal): Promise<Response>;
}

const targets: FaultTarget[] = [
  {
    name: 'Diretrix',
    route: 'phone',
    start: diretrix,
    call: (url, signal) =>
      fetch(`${url}/Consultas/Pessoa/Telefone/${plain.phones[0]!.number}`, {
        headers: AUTH,
        signal: signal ?? null,
      }),
  },
  {
    name: 'Work API',
    route: 'cpf',
    start: workApi,
    call: (url, signal) =>
      fetch(`${url}/api?token=sim-token&modulo=cpf&consulta=${plain.cpf}`, { signal: signal ?? null }),
  },
];

for (const target of targets) {
  test(`${target.name}: latency, 429 with Retry-After, 5xx and an error rate`, async (t) => {
    const sim = await target.start(t);
    sim.faults.set(target.route, { latencyMs: 120 });
    const started = performance.now();
    assert.equal((await target.call(sim.url)).status, 200);
    assert.ok(performance.now() - started >= 100, 'the answer waited for the latency');

    sim.faults.reset();
    sim.faults.failNext(target.route, { kind: 'status', status: 429, retryAfterSeconds: 7 });
    sim.faults.failNext(target.route, { kind: 'status', status: 503 });
    const limited = await target.call(sim.url);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '7');
    assert.equal((await target.call(sim.url)).status, 503);

    sim.faults.set(target.route, { errorRate: 1, errorFault: { kind: 'status', status: 500 } });
    assert.equal((await target.call(sim.url)).status, 500);
    assert.equal((await target.call(sim.url)).status, 500);
    sim.faults.set(target.route, { errorRate: 0, errorFault: { kind: 'status', status: 500 } });
    assert.equal((await target.call(sim.url)).status, 200);
  });

  test(`${target.name}: hang, dropped connections and malformed bodies`, async (t) => {
    const sim = await target.start(t);
    sim.faults.failNext(target.route, { kind: 'hang' });
    await assert.rejects(target.call(sim.url, AbortSignal.timeout(150)), { name: 'TimeoutError' });

    sim.faults.failNext(target.route, { kind: 'drop' });
    await assert.rejects(target.call(sim.url), TypeError);
    sim.faults.failNext(target.route, { kind: 'drop_after_processing' });
    await assert.rejects(target.call(sim.url), TypeError);

    sim.faults.failNext(target.route, { kind: 'malformed_body' });
    const malformed = await target.call(sim.url);
    assert.equal(malformed.status, 200);
    await assert.rejects(malformed.json(), SyntaxError);

    assert.equal((await target.call(sim.url)).status, 200, 'one-off faults are spent');
    assert.equal(sim.calls(target.route), 5, 'every faulty call was received and counted');
  });

  test(`${target.name}: the /_sim/faults control route`, async (t) => {
    const sim = await target.start(t);
    const queued = await control(sim.url, {
      route: target.route,
      fault: { kind: 'status', status: 503 },
      times: 2,
    });
    assert.equal(queued.status, 200);
    assert.deepEqual(await queued.json(), { ok: true });
    assert.equal((await target.call(sim.url)).status, 503);
    assert.equal((await target.call(sim.url)).status, 503);
    assert.equal((await target.call(sim.url)).status, 200);

    await control(sim.url, { route: target.route, errorRate: 1, fault: { kind: 'status', status: 502 } });
    assert.equal((await target.call(sim.url)).status, 502, 'a standing error rate');
    await control(sim.url, { route: target.route, latencyMs: 120 });
    const started = performance.now();
    assert.equal((await target.call(sim.url)).status, 200, 'latency alone replaced the error rate');
    assert.ok(performance.now() - started >= 100);
    await control(sim.url, { reset: true });
    const afterReset = performance.now();
    assert.equal((await target.call(sim.url)).status, 200);
    assert.ok(performance.now() - afterReset < 100, 'reset cleared the latency');

    assert.equal((await control(sim.url, '{not json')).status, 400);
    assert.equal((await fetch(`${sim.url}/_sim/faults`)).status, 404);
    assert.equal((await fetch(`${sim.url}/_sim/other`, { method: 'POST' })).status, 404);
  });
}

// --- C2S lead listing -------------------------------------------------------------------------

async function c2s(t: TestContext, options: Partial<C2sSimulatorOptions> = {}): Promise<C2sSimulator> {
  const simulator = await startC2sSimulator({ token: 'c2s-token', ...options });
  t.after(() => simulator.close());
  return simulator;
}

interface Listing {
  readonly status: number;
  readonly retryAfter: string | null;
  readonly ids: string[];
  readonly updatedAts: string[];
  readonly total: number | undefined;
}

async function list(sim: C2sSimulator, query: Record<string, string>): Promise<Listing> {
  const response = await fetch(`${sim.url}/integration/leads?${new URLSearchParams(query).toString()}`, {
    headers: { authorization: 'Bearer c2s-token' },
  });
  const body = (await response.json()) as {
    data?: Array<{ id: string; attributes: { updated_at: string } }>;
    meta?: { total: number };
  };
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    ids: (body.data ?? []).map((lead) => lead.id),
    updatedAts: (body.data ?? []).map((lead) => lead.attributes.updated_at),
    total: body.meta?.total,
  };
}

const FROM = new Date('2026-11-20T12:00:00.000Z');
const UNTIL = new Date('2026-11-20T14:00:00.000Z');

test('C2S seeds leads over a window, with timestamps as C2S writes them, readable one by one', async (t) => {
  const sim = await c2s(t, { listLimitPerWindow: 0 });
  const seeded = sim.seedLeads({
    count: 120,
    from: FROM,
    until: UNTIL,
    attributes: (n) => ({ customer: { name: `Cliente ${n}` } }),
  });
  assert.equal(new Set(seeded.map((lead) => lead.id)).size, 120);
  for (const lead of seeded) assert.match(lead.id, /^[0-9a-f]{32}$/);
  assert.equal(seeded[0]!.updatedAt, '2026-11-20T09:00:00.000-03:00');
  assert.equal(seeded[60]!.updatedAt, '2026-11-20T10:00:00.000-03:00');
  for (const lead of seeded)
    assert.match(lead.updatedAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}-03:00$/);
  const one = (await (
    await fetch(`${sim.url}/integration/leads/${seeded[7]!.id}`, {
      headers: { authorization: 'Bearer c2s-token' },
    })
  ).json()) as { data: { attributes: { customer: { name: string }; updated_at: string } } };
  assert.deepEqual(one.data.attributes.customer, { name: 'Cliente 7' });
  assert.equal(one.data.attributes.updated_at, seeded[7]!.updatedAt);
});

test('C2S listing: 50 a page at most, exact filter dates only, sorted only when asked, short page last', async (t) => {
  const sim = await c2s(t, { listLimitPerWindow: 0 });
  const seeded = sim.seedLeads({ count: 120, from: FROM, until: UNTIL });
  const ids = seeded.map((lead) => lead.id);

  // Documented refusals: 403 for perpage over 50 and any date not exactly YYYY-MM-DDTHH:MM:SSZ.
  assert.equal((await list(sim, { perpage: '51', sort: 'updated_at' })).status, 403);
  for (const date of [
    '2026-11-20T12:00:00.000Z',
    '2026-11-20T09:00:00-03:00',
    '2026-11-20',
    '2026-11-20 12:00:00Z',
  ]) {
    assert.equal((await list(sim, { updated_gte: date, sort: 'updated_at' })).status, 403, date);
  }

  // Oldest first, 50 a page, a short page at the end, with the total.
  const pages = [];
  for (let page = 1; page <= 3; page++)
    pages.push(await list(sim, { page: String(page), perpage: '50', sort: 'updated_at' }));
  assert.deepEqual(
    pages.map((page) => page.ids.length),
    [50, 50, 20],
  );
  assert.deepEqual(
    pages.flatMap((page) => page.ids),
    ids,
  );
  assert.equal(pages[0]!.total, 120);
  assert.deepEqual((await list(sim, { sort: '-updated_at', perpage: '3' })).ids, ids.slice(-3).reverse());

  // updated_gte is inclusive; unknown parameters (there is no updated_lte) are ignored.
  const since = await list(sim, {
    updated_gte: '2026-11-20T13:00:00Z',
    updated_lte: '2026-11-20T13:01:00Z',
    sort: 'updated_at',
  });
  assert.deepEqual(since.ids, ids.slice(60, 110));
  assert.equal(since.total, 60);

  // Without a sort the order is not stable from one call to the next.
  const orders = new Set<string>();
  for (let n = 0; n < 5; n++) orders.add((await list(sim, { perpage: '50' })).ids.join());
  assert.ok(orders.size > 1, 'unsorted pages come back in changing orders');
});

test('C2S listing: past its limit every call answers 429 for the penalty, counted; then it answers again', async (t) => {
  const sim = await c2s(t, { listLimitPerWindow: 3, listWindowMs: 2000, listPenaltyMs: 1500 });
  sim.seedLeads({ count: 5, from: FROM, until: UNTIL });
  const query = { sort: 'updated_at' };
  for (let n = 0; n < 3; n++) assert.equal((await list(sim, query)).status, 200);
  const refused = await list(sim, query);
  assert.equal(refused.status, 429);
  assert.equal(refused.retryAfter, '2', 'whole seconds, rounded up');
  assert.equal((await list(sim, query)).status, 429, 'refused all through the penalty');
  assert.equal(sim.listingRateLimited(), 2);
  await new Promise((resolve) => setTimeout(resolve, 1600));
  const again = await list(sim, query);
  assert.equal(again.status, 200);
  assert.equal(again.ids.length, 5);
  assert.equal(sim.calls('list_leads'), 6);
  assert.equal(sim.listingRateLimited(), 2);

  // Without Retry-After (the real API may not say it), and the real limits by default.
  const quiet = await c2s(t, { listLimitPerWindow: 1, listWindowMs: 60_000, listRetryAfter: false });
  assert.equal((await list(quiet, query)).status, 200);
  const silent = await list(quiet, query);
  assert.deepEqual([silent.status, silent.retryAfter], [429, null]);
  const real = await c2s(t);
  for (let n = 0; n < 10; n++) assert.equal((await list(real, query)).status, 200);
  const eleventh = await list(real, query);
  assert.deepEqual([eleventh.status, eleventh.retryAfter], [429, '65']);
});
