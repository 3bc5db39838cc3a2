import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sharedRead } from './shared-read.ts';

test('concurrent callers share one read in flight, and later ones its answer while it is fresh', async () => {
  let reads = 0;
  const read = sharedRead(async () => {
    reads++;
    await sleep(30);
    return reads;
  }, 100);
  assert.deepEqual(await Promise.all(Array.from({ length: 50 }, () => read())), Array(50).fill(1));
  assert.equal(await read(), 1, 'fresh: not read again');
  await sleep(80); // time passing is what is tested: the answer is now older than its 100 ms
  assert.equal(await read(), 2, 'read again once the answer is older than its maximum age');
  assert.equal(reads, 2);
});

test('a read slower than the maximum age is still never run twice at once', async () => {
  let running = 0;
  let most = 0;
  const read = sharedRead(async () => {
    most = Math.max(most, ++running);
    await sleep(40);
    running--;
  }, 10);
  for (let i = 0; i < 10; i++) {
    void read();
    await sleep(8); // callers spaced out past the maximum age, while one read is still running
  }
  await read();
  assert.equal(most, 1);
});

test('a failure is shared like an answer, and the next period reads again', async () => {
  let reads = 0;
  const read = sharedRead(async () => {
    if (++reads === 1) throw new Error('database away');
    return 'ok';
  }, 30);
  const failed = await Promise.allSettled([read(), read(), read()]);
  assert.deepEqual(
    failed.map((r) => r.status),
    ['rejected', 'rejected', 'rejected'],
  );
  assert.equal(reads, 1);
  await sleep(40); // past the 30 ms period: a failure is not kept longer than an answer
  assert.equal(await read(), 'ok');
});
