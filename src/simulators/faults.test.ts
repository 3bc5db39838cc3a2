import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FaultPlan } from './faults.ts';

const draws = (plan: FaultPlan, route: string, count: number) =>
  Array.from({ length: count }, () => plan.draw(route).latencyMs);

test('a latency range draws each call from latencyMs to latencyMaxMs, spread over the range', () => {
  const plan = new FaultPlan();
  plan.set('cpf', { latencyMs: 300, latencyMaxMs: 1500 });
  const latencies = draws(plan, 'cpf', 400);
  assert.ok(
    latencies.every((ms) => ms >= 300 && ms <= 1500),
    'every latency within the range',
  );
  // Uniform over 1,200 ms: 400 draws fall in both the lowest and the highest fifth.
  assert.ok(
    latencies.some((ms) => ms < 540),
    'some near the bottom',
  );
  assert.ok(
    latencies.some((ms) => ms > 1260),
    'some near the top',
  );
});

test('without latencyMaxMs the latency is fixed; a maximum alone ranges from 0', () => {
  const plan = new FaultPlan();
  plan.set('phone', { latencyMs: 200 });
  assert.deepEqual(new Set(draws(plan, 'phone', 20)), new Set([200]));
  plan.set('phone', { latencyMaxMs: 50 });
  const latencies = draws(plan, 'phone', 50);
  assert.ok(latencies.every((ms) => ms >= 0 && ms <= 50));
  assert.ok(new Set(latencies).size > 1, 'drawn, not fixed');
});

test('the control request sets a latency range, and a reset clears it', () => {
  const plan = new FaultPlan();
  plan.apply({ route: '*', latencyMs: 100, latencyMaxMs: 200 });
  assert.ok(draws(plan, 'create_message', 50).every((ms) => ms >= 100 && ms <= 200));
  plan.apply({ reset: true });
  assert.deepEqual(new Set(draws(plan, 'create_message', 5)), new Set([0]));
});
