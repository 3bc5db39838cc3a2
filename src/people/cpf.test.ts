import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cpfCheckDigits, formatCpf, isValidCpf, normaliseCpf } from './cpf.ts';

test('the documented examples are valid, punctuated or not', () => {
  for (const cpf of ['111.444.777-35', '529.982.247-25', '123.456.789-09', '52998224725', '11144477735']) {
    assert.ok(isValidCpf(cpf), cpf);
  }
  assert.equal(normaliseCpf('529.982.247-25'), '52998224725');
});

test('wrong check digits, repeated digits and wrong lengths are invalid', () => {
  for (const cpf of [
    '529.982.247-26',
    '52998224715',
    '111.111.111-11',
    '00000000000',
    '99999999999',
    '5299822472',
    '529982247250',
    'abc',
    '',
  ]) {
    assert.ok(!isValidCpf(cpf), cpf);
  }
});

test('check digits are computed with weights 10..2 and 11..2', () => {
  assert.equal(cpfCheckDigits('529982247'), '25');
  assert.equal(cpfCheckDigits('111444777'), '35');
  assert.equal(cpfCheckDigits('123456789'), '09');
});

test('formats as NNN.NNN.NNN-DD', () => {
  assert.equal(formatCpf('52998224725'), '529.982.247-25');
});
