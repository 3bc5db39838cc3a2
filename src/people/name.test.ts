import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firstName, namesMatch, stripAccents } from './name.ts';

test('first names match ignoring case, accents and the rest of the name', () => {
  assert.ok(namesMatch('Ana Lima', 'ANA SOUZA LIMA'));
  assert.ok(namesMatch('ANA SOUZA LIMA', 'Ana Lima'));
  assert.ok(namesMatch('José', 'JOSE'));
  assert.ok(namesMatch('  joão  ', 'JOAO PEREIRA'));
  assert.ok(namesMatch('Dra. Ana', 'ANA SOUZA LIMA'));
  assert.ok(namesMatch('ana.lima@example.com', 'ANA SOUZA LIMA')); // an e-mail typed as the name
});

test('different first names do not match', () => {
  assert.ok(!namesMatch('Maria', 'Ana Souza'));
  assert.ok(!namesMatch('Ana Souza', 'Maria'));
  assert.ok(!namesMatch('Mariana', 'MARIA SOUZA'));
  assert.ok(!namesMatch('Souza Ana', 'ANA SOUZA'));
});

test('a missing name, or one without letters, is not a mismatch', () => {
  for (const lead of [null, undefined, '', '   ', '11987654321', '-']) {
    assert.ok(namesMatch(lead, 'ANA SOUZA LIMA'), String(lead));
  }
  assert.ok(namesMatch('Ana', null));
});

test('helpers', () => {
  assert.equal(stripAccents('José Conceição Ângela'), 'Jose Conceicao Angela');
  assert.equal(firstName('Sr. JOSÉ da Silva'), 'jose');
  assert.equal(firstName('123'), undefined);
});
