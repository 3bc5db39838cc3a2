import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatPhone, normalisePhone } from './phone.ts';

test('reads the forms leads and providers write a mobile in', () => {
  for (const raw of [
    '5511987654321',
    '+5511987654321',
    '+55 (11) 98765-4321',
    '11987654321',
    '(11) 98765-4321',
    '11 9 8765 4321',
    '011 98765-4321',
    '0xx11 98765-4321',
    '021 11 98765-4321', // with a carrier selection code
    '005511987654321',
    ' 11987654321 ',
  ]) {
    assert.deepEqual(normalisePhone(raw), { e164: '+5511987654321', national: '11987654321' }, raw);
  }
});

test('reads 10-digit landlines', () => {
  for (const raw of ['1134567890', '(11) 3456-7890', '551134567890', '+55 11 3456-7890', '011 3456-7890']) {
    assert.deepEqual(normalisePhone(raw), { e164: '+551134567890', national: '1134567890' }, raw);
  }
});

test('the DDD 55 is not mistaken for the country code', () => {
  assert.equal(normalisePhone('55987654321')?.national, '55987654321');
  assert.equal(normalisePhone('5555987654321')?.national, '55987654321');
  assert.equal(normalisePhone('5532221234')?.national, '5532221234');
});

test('rejects placeholders, invalid and foreign numbers', () => {
  for (const raw of [
    '',
    'abc',
    'não tem',
    '123456789',
    '5511',
    '11999999999',
    '99999999999',
    '11911111111',
    '1111111111',
    '00000000000',
    '11912345678',
    '1187654321', // a mobile without its 9: not callable since 2016
    '2198765432',
    '55119876543210',
    '+14155552671',
    '+351912345678',
    '08001234567', // toll-free: not a person's line
    '4004001234',
  ]) {
    assert.equal(normalisePhone(raw), undefined, raw);
  }
});

test('formats national numbers for the note', () => {
  assert.equal(formatPhone('11987654321'), '(11) 98765-4321');
  assert.equal(formatPhone('1134567890'), '(11) 3456-7890');
  assert.equal(formatPhone('123'), '123');
});
