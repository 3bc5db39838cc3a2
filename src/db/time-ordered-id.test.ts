import assert from 'node:assert/strict';
import { test } from 'node:test';
import { timeOrderedId } from './time-ordered-id.ts';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('a version 7 UUID: its time first, then random bits, never twice', () => {
  const at = Date.UTC(2026, 11, 2, 10, 15, 0, 123);
  const id = timeOrderedId(at);
  assert.match(id, V7);
  assert.equal(parseInt(id.replaceAll('-', '').slice(0, 12), 16), at, 'the first 48 bits are the time');
  const ids = Array.from({ length: 10_000 }, () => timeOrderedId(at));
  assert.equal(new Set(ids).size, ids.length, 'unique within one millisecond');
  for (const one of ids) assert.match(one, V7);
});

test('ids of later milliseconds sort after earlier ones', () => {
  const at = Date.UTC(2026, 11, 2);
  const ids = [0, 1, 2, 1000, 86_400_000].map((ms) => timeOrderedId(at + ms));
  assert.deepEqual(ids.toSorted(), ids);
});
