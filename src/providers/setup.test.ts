import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { loadConfig } from '../config.ts';
import { createMetrics } from '../metrics.ts';
import { createProviders, providerEndpoints } from './setup.ts';

test('with every credential set, all three clients are real and call the configured providers', async (t) => {
  const calls: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
  const server = createServer((request, response) => {
    calls.push({ url: request.url ?? '', headers: request.headers });
    response.writeHead(404, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = loadConfig({
    C2S_TOKEN: 'real-c2s-token',
    C2S_BASE_URL: `${base}/c2s`,
    DIRETRIX_BASE_URL: `${base}/diretrix`,
    DIRETRIX_USER: 'real-user',
    DIRETRIX_PASS: 'real-pass',
    WORK_API: 'real-work-token',
    WORK_API_BASE_URL: `${base}/work`,
  });
  assert.equal(config.providers.demo, false);
  const providers = createProviders(providerEndpoints(config.providers), createMetrics());
  t.after(() => providers.close());

  await assert.rejects(providers.c2s.getLead('lead-1'));
  assert.deepEqual(await providers.diretrix.findByEmail('ana@example.com'), []);
  assert.equal(await providers.workApi.fetchDossier('52998224725'), null);

  const c2s = calls.find((call) => call.url.startsWith('/c2s/'));
  assert.ok(c2s, 'C2S was called at its configured URL');
  assert.match(String(c2s.headers.authorization), /real-c2s-token/);
  const diretrix = calls.find((call) => call.url.startsWith('/diretrix/'));
  assert.ok(diretrix, 'Diretrix was called at its configured URL');
  assert.equal(
    diretrix.headers.authorization,
    `Basic ${Buffer.from('real-user:real-pass').toString('base64')}`,
  );
  const work = calls.find((call) => call.url.startsWith('/work'));
  assert.ok(work, 'the Work API was called at its configured URL');
  assert.match(`${work.url} ${JSON.stringify(work.headers)}`, /real-work-token/);
});

test('a real configuration never loads the simulators nor the synthetic population', () => {
  // A fresh process, so that no other test has loaded them: it records every module it resolves,
  // loads the composition root and builds the real providers as the service does.
  const script = `
    import { registerHooks } from 'node:module';
    const loaded = [];
    registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); loaded.push(r.url); return r; } });
    const { loadConfig } = await import('./src/config.ts');
    await import('./src/service.ts');
    const { createProviders, providerEndpoints } = await import('./src/providers/setup.ts');
    const { createMetrics } = await import('./src/metrics.ts');
    const config = loadConfig({ C2S_TOKEN: 't', DIRETRIX_BASE_URL: 'http://127.0.0.1:9', DIRETRIX_USER: 'u', DIRETRIX_PASS: 'p', WORK_API: 'w' });
    await createProviders(providerEndpoints(config.providers), createMetrics()).close();
    console.log(JSON.stringify(loaded));
  `;
  const output = execFileSync(process.execPath, ['--input-type=module', '--eval', script], {
    cwd: new URL('../..', import.meta.url),
    encoding: 'utf8',
  });
  const loaded = JSON.parse(output) as string[];
  assert.ok(
    loaded.some((url) => url.endsWith('/src/service.ts')),
    'the composition root was loaded',
  );
  const simulators = loaded.filter((url) => url.includes('/src/simulators/'));
  assert.deepEqual(simulators, [], 'no simulator module is loaded');
});
