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

/** The grammar as one regular expression: the reference the hand-written parser must agree with. */
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;

function referenceInstant(text: string): string | undefined {
  const match = RFC3339.exec(text.trim());
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, fraction = '', zulu, sign, offH = '0', offM = '0'] = match;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1) return undefined;
  if (hour > 23 || minute > 59 || second > 59 || Number(offH) > 23 || Number(offM) > 59) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCDate() !== day) return undefined; // past the month's end
  date.setUTCHours(hour, minute, second, 0);
  const offset = zulu ? 0 : (sign === '-' ? -1 : 1) * (Number(offH) * 60 + Number(offM));
  const utc = new Date(date.getTime() - offset * 60_000);
  if (utc.getUTCFullYear() < 1 || utc.getUTCFullYear() > 9999) return undefined;
  const micros = fraction.padEnd(6, '0').slice(0, 6);
  return `${utc.toISOString().slice(0, 19)}.${micros.endsWith('000') ? micros.slice(0, 3) : micros}Z`;
}

test('agrees with the grammar written as a regular expression, on valid and broken instants', () => {
  let seed = 7;
  const random = (n: number) => (((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n) + n) % n;
  const pick = <T>(items: readonly T[]) => items[random(items.length)]!;
  const two = () => String(random(100)).padStart(2, '0');
  let valid = 0;
  for (let n = 0; n < 20_000; n++) {
    const parts = [
      pick(['2026', '2024', '0001', '0099', '9999', '10000', '202a']),
      pick(['-']),
      pick(['01', '02', '12', '13', '00', two()]),
      pick(['-', '/']),
      pick(['01', '28', '29', '30', '31', two()]),
      pick(['T', 't', ' ', 'X', '']),
      pick(['00', '23', '24', two()]),
      ':',
      pick(['00', '59', '60', two()]),
      pick([':', '']),
      pick(['00', '59', '60', two()]),
      pick(['', '', '.5', ',123', '.123456', '.123456789', '.1234567890', '.', '.12a']),
      pick(['Z', 'z', '', '+00:00', '-03:00', '+0100', '+23:59', '+24:00', '-00:60', '+1', '-03:0', 'Z ']),
      pick(['', '', ' ', 'x']),
    ];
    const text = pick(['', '', ' ']) + parts.join('');
    const parsed = parseInstant(text);
    assert.equal(parsed, referenceInstant(text), JSON.stringify(text));
    if (parsed !== undefined) valid++;
  }
  assert.ok(valid > 500, `only ${valid} valid instants generated`);
});
