import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from './config.ts';
import { startDemoProviders } from './demo.ts';
import { createLogger } from './log/logger.ts';
import { createMetrics } from './metrics.ts';
import { createProviders } from './providers/setup.ts';

test('without credentials (demo mode) all three providers are the simulators, announced', async (t) => {
  const config = loadConfig({});
  assert.equal(config.providers.demo, true);
  const lines: string[] = [];
  const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
  const demo = await startDemoProviders(config.providers, logger);
  t.after(() => demo.close());
  const providers = createProviders(demo.endpoints, createMetrics());
  t.after(() => providers.close());

  assert.deepEqual(Object.keys(demo.simulators).sort(), ['c2s', 'diretrix', 'workapi']);
  for (const url of Object.values(demo.simulators)) assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  for (const provider of ['c2s', 'diretrix', 'workapi']) {
    assert.ok(
      lines.some((line) => line.includes(`DEMO MODE: ${provider} has no credentials`)),
      `demo mode of ${provider} is logged`,
    );
  }
  // The simulators answer: an unknown e-mail is simply not found.
  assert.deepEqual(await providers.diretrix.findByEmail('nobody-at-all@example.com'), []);
  // No limiter holds a demo back, and no gateway is used.
  assert.equal(demo.endpoints.c2s.ratePerMinute, 0);
  assert.equal(demo.endpoints.c2s.listRatePerMinute, 0);
  assert.equal(demo.endpoints.diretrix.ratePerMinute, 0);
  assert.equal(demo.endpoints.workApi.ratePerMinute, 0);
  assert.equal(demo.endpoints.c2s.gatewayUrl, undefined);
});
