import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createBatcher } from './batcher.ts';

test('a lone item is written at once; items arriving meanwhile share the next batch', async () => {
  const batches: number[][] = [];
  const write = createBatcher<number>(async (items) => {
    batches.push(items);
    await sleep(20);
  });
  const first = write(1);
  await sleep(1);
  const rest = [2, 3, 4].map((n) => write(n));
  await Promise.all([first, ...rest]);
  assert.deepEqual(batches, [[1], [2, 3, 4]]);
});

test('a failed batch fails its own submitters only', async () => {
  const write = createBatcher<number>(async (items) => {
    await sleep(5);
    if (items.includes(2)) throw new Error('database away');
  });
  const one = write(1);
  await sleep(1);
  const [two, three] = [write(2), write(3)];
  await one;
  await assert.rejects(two, /database away/);
  await assert.rejects(three, /database away/);
  await write(4);
});

test('batches hold at most maxItems', async () => {
  const sizes: number[] = [];
  const write = createBatcher<number>(
    async (items) => {
      sizes.push(items.length);
      await sleep(1);
    },
    { maxItems: 3 },
  );
  await Promise.all(Array.from({ length: 8 }, (_, n) => write(n)));
  assert.deepEqual(sizes, [1, 3, 3, 1], 'the first goes alone, at once');
});

test('each caller gets its own result from a shared batch', async () => {
  const seen: number[][] = [];
  const double = createBatcher<number, number>(async (items) => {
    seen.push(items);
    await sleep(5);
    return items.map((n) => n * 2);
  });
  const first = double(1);
  await sleep(1);
  const results = await Promise.all([first, double(2), double(3)]);
  assert.deepEqual(results, [2, 4, 6]);
  assert.deepEqual(seen, [[1], [2, 3]]);
});
