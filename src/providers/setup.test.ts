import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { loadConfig } from '../config.ts';
import { createLogger } from '../log/logger.ts';
import { createMetrics } from '../metrics.ts';
import { createProviders } from './setup.ts';

function capture() {
  const lines: string[] = [];
  return { lines, logger: createLogger('info', { write: (line: string) => void lines.push(line) }) };
}

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
  const { lines, logger } = capture();
  const providers = await createProviders(config, logger, createMetrics());
  t.after(() => providers.close());

  assert.deepEqual(providers.simulated, {});
  assert.ok(!lines.join('').includes('DEMO MODE'));
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

test('without credentials (demo mode) all three providers are the simulators, announced', async (t) => {
  const config = loadConfig({});
  assert.equal(config.providers.demo, true);
  const { lines, logger } = capture();
  const providers = await createProviders(config, logger, createMetrics());
  t.after(() => providers.close());

  assert.deepEqual(Object.keys(providers.simulated).sort(), ['c2s', 'diretrix', 'workapi']);
  for (const url of Object.values(providers.simulated)) assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  for (const provider of ['c2s', 'diretrix', 'workapi']) {
    assert.ok(
      lines.some((line) => line.includes(`DEMO MODE: ${provider} has no credentials`)),
      `demo mode of ${provider} is logged`,
    );
  }
  // The simulators answer: an unknown e-mail is simply not found.
  assert.deepEqual(await providers.diretrix.findByEmail('nobody-at-all@example.com'), []);
});
