import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseInstant } from './instant.ts';

test('the same instant in different offsets and precisions has one canonical form', () => {
  const canonical = '2026-11-20T13:15:00.000Z';
  for (const text of [
    '2026-11-20T10:15:00.000-03:00',
    '2026-11-20T10:15:00-03:00',
    '2026-11-20T13:15:00Z',
    '2026-11-20T13:15:00.000Z',
    '2026-11-20 13:15:00+00:00',
    '2026-11-20T14:15:00+0100',
    '2026-11-20t13:15:00z',
  ]) {
    assert.equal(parseInstant(text), canonical, text);
  }
});

test('keeps microseconds and drops digits PostgreSQL cannot store', () => {
  assert.equal(parseInstant('2026-11-20T13:15:00.123456789Z'), '2026-11-20T13:15:00.123456Z');
  assert.equal(parseInstant('2026-11-20T13:15:00.5Z'), '2026-11-20T13:15:00.500Z');
});

test('crosses day and year boundaries through the offset', () => {
  assert.equal(parseInstant('2026-12-31T22:30:00-03:00'), '2027-01-01T01:30:00.000Z');
  assert.equal(parseInstant('2024-02-29T00:00:00Z'), '2024-02-29T00:00:00.000Z');
});

test('rejects what is not an RFC 3339 instant', () => {
  for (const text of [
    '',
    'yesterday',
    '2026-11-20',
    '2026-11-20T10:15:00', // no offset: ambiguous
    '2026-13-01T00:00:00Z',
    '2026-02-30T00:00:00Z',
    '2023-02-29T00:00:00Z',
    '2026-11-20T24:00:00Z',
    '2026-11-20T10:60:00Z',
    '2026-11-20T10:15:60Z',
    '2026-11-20T10:15:00+25:00',
    '1732111200',
    '2026-11-20T10:15:00Z trailing',
  ]) {
    assert.equal(parseInstant(text), undefined, text);
  }
});
