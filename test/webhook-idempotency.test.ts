import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventRows, leadEvent, startService } from './helpers/service.ts';

test('20 identical deliveries in parallel store one row and report 19 duplicates', async (t) => {
  const service = await startService(t);
  const event = leadEvent('lead-par', '2026-11-20T10:15:00.000-03:00');
  const answers = await Promise.all(Array.from({ length: 20 }, () => service.post(event)));
  assert.ok(answers.every((answer) => answer.status === 200));
  const processed = answers.reduce((sum, answer) => sum + answer.body.processed, 0);
  const duplicates = answers.reduce((sum, answer) => sum + answer.body.duplicates, 0);
  assert.equal(processed, 1);
  assert.equal(duplicates, 19);
  assert.equal((await eventRows(service.db, 'lead-par')).length, 1);
});

test('overlapping batches in parallel neither deadlock nor store twice', async (t) => {
  const service = await startService(t);
  const leads = Array.from({ length: 30 }, (_, n) => leadEvent(`lead-${n}`, '2026-11-20T10:15:00Z'));
  // The same 30 events in different orders, five times at once.
  const batches = Array.from({ length: 5 }, (_, k) =>
    leads.toSorted(() => (k % 2 === 0 ? 1 : -1) * (Math.random() - 0.5)),
  );
  const answers = await Promise.all(batches.map((batch) => service.post(batch)));
  assert.ok(answers.every((answer) => answer.status === 200));
  assert.equal(
    answers.reduce((sum, answer) => sum + answer.body.processed, 0),
    30,
  );
  assert.equal(
    answers.reduce((sum, answer) => sum + answer.body.duplicates, 0),
    120,
  );
  assert.equal((await eventRows(service.db)).length, 30);
});
