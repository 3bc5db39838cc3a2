import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspect } from 'node:util';
import { formatReais, parseBrazilianNumber } from './money.ts';

test('parses amounts with a decimal comma and thousands dots', () => {
  const cases: [unknown, number][] = [
    ['8500,50', 8500.5],
    ['8.500,50', 8500.5],
    ['8500', 8500],
    ['8.500', 8500],
    ['1.234.567,8', 1234567.8],
    ['R$ 7018', 7018],
    [' 15000 ', 15000],
    ['8500.50', 8500.5],
    [8500.5, 8500.5],
    ['0', 0],
  ];
  for (const [text, value] of cases) assert.equal(parseBrazilianNumber(text), value, String(text));
});

test('anything else is not an amount', () => {
  for (const value of [
    '',
    'abc',
    '8,500,50',
    '85,00.1',
    '1.23.4',
    '12 34',
    null,
    undefined,
    {},
    NaN,
    Infinity,
  ]) {
    assert.equal(parseBrazilianNumber(value), undefined, inspect(value));
  }
});

test('formats reais the Brazilian way', () => {
  assert.equal(formatReais(16150.95), 'R$ 16.150,95');
  assert.equal(formatReais(8500.5 * 1.9), 'R$ 16.150,95');
  assert.equal(formatReais(0.5), 'R$ 0,50');
  assert.equal(formatReais(1234567.891), 'R$ 1.234.567,89');
  assert.equal(formatReais(999.995), 'R$ 1.000,00');
  assert.equal(formatReais(7018 * 1.9, 0), 'R$ 13.334');
  assert.equal(formatReais(15000 * 1.9, 0), 'R$ 28.500');
  assert.equal(formatReais(999, 0), 'R$ 999');
  assert.equal(formatReais(-12.3), '-R$ 12,30');
});
