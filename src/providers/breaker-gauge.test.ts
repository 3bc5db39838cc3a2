import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CircuitState } from 'cockatiel';
import { createMetrics } from '../metrics.ts';
import { registerBreakerGauge } from './breaker-gauge.ts';
import { createHealthRecorder } from './health.ts';

test('provider_breaker_state follows each provider’s breakers at scrape time, worst first', async () => {
  const metrics = createMetrics();
  const health = createHealthRecorder();
  const c2sReads = { state: CircuitState.Closed };
  const c2sListing = { state: CircuitState.Closed };
  const workApi = { state: CircuitState.Open };
  health.watch('c2s', c2sReads);
  health.watch('c2s', c2sListing);
  health.watch('workapi', workApi);
  registerBreakerGauge(metrics, health);

  const scrape = async () => {
    const text = await metrics.registry.metrics();
    return Object.fromEntries(
      [...text.matchAll(/^provider_breaker_state\{provider="(\w+)"\} (\d+)$/gm)].map((m) => [
        m[1],
        Number(m[2]),
      ]),
    );
  };
  assert.deepEqual(await scrape(), { c2s: 0, workapi: 2 });

  c2sListing.state = CircuitState.HalfOpen;
  workApi.state = CircuitState.Closed;
  assert.deepEqual(await scrape(), { c2s: 1, workapi: 0 }, 'read again at every scrape');
  c2sReads.state = CircuitState.Open;
  assert.deepEqual(await scrape(), { c2s: 2, workapi: 0 }, 'open wins over half open');
});
