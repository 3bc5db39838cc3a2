import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normaliseEmail } from './email.ts';

test('real addresses pass, trimmed and lowercased', () => {
  assert.equal(normaliseEmail('ana.lima@example.com'), 'ana.lima@example.com');
  assert.equal(normaliseEmail('  Ana.Lima@Example.COM '), 'ana.lima@example.com');
  for (const email of [
    'joao_silva+imoveis@empresa.com.br',
    'a@empresa.com.br',
    'maria2024@gmail.com',
    'testemunha@gmail.com',
    'nao.sei.o.que@uol.com.br',
    '11987654321@gmail.com',
    'contato@email-marketing.com.br',
  ]) {
    assert.equal(normaliseEmail(email), email, email);
  }
});

test('rejects what is not an address', () => {
  for (const email of [
    '',
    'ana',
    'ana.lima',
    'ana@',
    '@example.com',
    'ana@example',
    'ana@example.c',
    'ana lima@example.com',
    'ana@@example.com',
    'ana@exa mple.com',
    'ana@-example.com',
  ]) {
    assert.equal(normaliseEmail(email), undefined, email);
  }
});

test('rejects placeholders typed to get past a form', () => {
  for (const email of [
    '999999@gmail.com',
    '123456789@hotmail.com',
    '1234@gmail.com',
    'teste@gmail.com',
    'Teste123@gmail.com',
    'naotem@gmail.com',
    'nao.tem@hotmail.com',
    'nao@nao.com',
    'sem_email@uol.com.br',
    'x@x.com',
    'xxx@gmail.com',
    'aaaa@hotmail.com',
    'ana@email.com',
    'ana@teste.com',
    'ana@teste.com.br',
  ]) {
    assert.equal(normaliseEmail(email), undefined, email);
  }
});
