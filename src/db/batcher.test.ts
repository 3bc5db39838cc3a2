import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBatcher } from './batcher.ts';

/**
 * A batch runner that holds every batch until the test lets it go: what waits, and what goes
 * together, is then decided by the order of calls alone, never by timing.
 */
function heldBatches<T>() {
  const batches: T[][] = [];
  const gates: Array<() => void> = [];
  return {
    batches,
    run: async (items: T[]) => {
      batches.push(items);
      await new Promise<void>((resolve) => gates.push(resolve));
    },
    /** Lets the oldest held batch finish, and waits until the batcher has moved on. */
    async release(): Promise<void> {
      const gate = gates.shift();
      assert.ok(gate, 'a batch is under way');
      gate();
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

test('a lone item is written at once; items arriving meanwhile share the next batch', async () => {
  const held = heldBatches<number>();
  const write = createBatcher<number>(held.run);
  const first = write(1);
  assert.deepEqual(held.batches, [[1]], 'the first item went at once, without waiting for others');
  const rest = [2, 3, 4].map((n) => write(n));
  assert.deepEqual(held.batches, [[1]], 'the others wait while the first batch is under way');
  await held.release();
  assert.deepEqual(held.batches, [[1], [2, 3, 4]]);
  await held.release();
  await Promise.all([first, ...rest]);
});

test('a failed batch fails its own submitters only', async () => {
  let fail = false;
  const held = heldBatches<number>();
  const write = createBatcher<number>(async (items) => {
    await held.run(items);
    if (fail) throw new Error('database away');
  });
  const one = write(1);
  const [two, three] = [write(2), write(3)];
  await held.release();
  await one;
  fail = true;
  const failures = [assert.rejects(two, /database away/), assert.rejects(three, /database away/)];
  await held.release();
  await Promise.all(failures);
  fail = false;
  const four = write(4);
  await held.release();
  await four;
});

test('a run that throws outright fails its batch, and the batcher goes on', async () => {
  const write = createBatcher<number>((items) => {
    if (items.includes(1)) throw new Error('bad input');
    return Promise.resolve();
  });
  await assert.rejects(write(1), /bad input/);
  await write(2);
});

test('batches hold at most maxItems', async () => {
  const held = heldBatches<number>();
  const write = createBatcher<number>(held.run, { maxItems: 3 });
  const all = Array.from({ length: 8 }, (_, n) => write(n));
  for (let n = 0; n < 3; n++) await held.release();
  await held.release();
  await Promise.all(all);
  assert.deepEqual(
    held.batches.map((batch) => batch.length),
    [1, 3, 3, 1],
    'the first goes alone, at once',
  );
});

test('with a size per item, a batch holds at most maxItems of size; a bigger item goes alone', async () => {
  const held = heldBatches<string>();
  const write = createBatcher<string>(held.run, { maxItems: 5, size: (item) => item.length });
  const all = ['a', 'bb', 'ccc', 'dd', 'eeeeeee', 'f', 'gggg'].map((item) => write(item));
  while (held.batches.length < 5) await held.release();
  await held.release();
  await Promise.all(all);
  assert.deepEqual(held.batches, [['a'], ['bb', 'ccc'], ['dd'], ['eeeeeee'], ['f', 'gggg']]);
});

test('concurrent batches: up to `concurrency` run at once, later items share the next', async () => {
  const held = heldBatches<number>();
  const write = createBatcher<number>(held.run, { concurrency: 2 });
  const all = [1, 2, 3, 4].map((n) => write(n));
  assert.deepEqual(held.batches, [[1], [2]]);
  await held.release();
  assert.deepEqual(held.batches, [[1], [2], [3, 4]]);
  await held.release();
  await held.release();
  await Promise.all(all);
});

test('past maxWaiting, items are refused at once with the given error, and nothing is lost', async () => {
  class Overloaded extends Error {}
  const held = heldBatches<number>();
  const write = createBatcher<number, number>(
    async (items) => {
      await held.run(items);
      return items;
    },
    { size: (n) => n, maxWaiting: { limit: 5, error: () => new Overloaded('too much waits') } },
  );
  const running = write(100); // under way: it does not count as waiting, however big
  const waiting = [write(2), write(3)]; // 5 wait: at the limit
  await assert.rejects(write(1), Overloaded, 'one more would go past the limit');
  assert.deepEqual(held.batches, [[100]], 'the refused item was never run');
  await held.release();
  assert.deepEqual(held.batches, [[100], [2, 3]]);
  const next = write(9); // nothing waits: taken, even though bigger than the limit
  await held.release();
  await held.release();
  assert.deepEqual(await Promise.all([running, ...waiting, next]), [100, 2, 3, 9]);
});

test('each caller gets its own result from a shared batch', async () => {
  const held = heldBatches<number>();
  const double = createBatcher<number, number>(async (items) => {
    await held.run(items);
    return items.map((n) => n * 2);
  });
  const first = double(1);
  const others = [double(2), double(3)];
  await held.release();
  await held.release();
  assert.deepEqual(await Promise.all([first, ...others]), [2, 4, 6]);
  assert.deepEqual(held.batches, [[1], [2, 3]]);
});
