import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cpfCandidatesFromLead, cpfsInText } from './cpf-extraction.ts';

test('finds the CPF in customer.cpf, customer.document and the description, in that order', () => {
  const attributes = {
    description: 'Cliente informou CPF 123.456.789-09 por telefone',
    customer: { name: 'Ana', cpf: '529.982.247-25', document: '11144477735' },
  };
  assert.deepEqual(cpfCandidatesFromLead(attributes), ['52998224725', '11144477735', '12345678909']);
});

test('reads every written form in free text', () => {
  for (const text of [
    '529.982.247-25',
    'CPF: 52998224725.',
    'cpf 529 982 247 25, obrigado',
    'cpf=529982247-25',
    '(529.982.247.25)',
  ]) {
    assert.deepEqual(cpfsInText(text), ['52998224725'], text);
  }
  assert.deepEqual(cpfsInText('dois: 529.982.247-25 e 111.444.777-35'), ['52998224725', '11144477735']);
});

test('deduplicates, keeping the first place a CPF was found', () => {
  const attributes = {
    description: 'CPF 111.444.777-35 ou 529.982.247-25',
    customer: { cpf: '52998224725', document: '529.982.247-25' },
  };
  assert.deepEqual(cpfCandidatesFromLead(attributes), ['52998224725', '11144477735']);
});

test('wrong check digits are not candidates', () => {
  const attributes = { description: 'CPF 529.982.247-26', customer: { cpf: '11111111111', document: 'x' } };
  assert.deepEqual(cpfCandidatesFromLead(attributes), []);
});

test('digits of phones and other numbers are not glued into a CPF', () => {
  for (const text of [
    'Tel 5511987654321', // 13 digits: 11 of them would not be one written number
    'tel 11 529 982 247 25', // a spaced run that goes on further
    '529 982 247 25 99',
    '1.529.982.247-25',
    '529.982.247-253',
    'CNPJ 00052998224725',
    'ligar 529982 24725',
    '529.982.24 7-25',
    'Apto 529, bloco 982, vaga 247, andar 25',
  ]) {
    assert.deepEqual(cpfsInText(text), [], text);
  }
});

test('a CPF given as a number gets its leading zeros back', () => {
  // 012.345.678-90 has valid check digits.
  assert.deepEqual(cpfCandidatesFromLead({ customer: { cpf: 1234567890 } }), ['01234567890']);
  assert.deepEqual(cpfCandidatesFromLead({ customer: { document: 52998224725 } }), ['52998224725']);
});

test('a document field with words around the number', () => {
  assert.deepEqual(cpfCandidatesFromLead({ customer: { document: 'CPF: 529.982.247-25' } }), ['52998224725']);
});

test('tolerates any shape', () => {
  for (const attributes of [
    undefined,
    null,
    'text',
    42,
    [],
    {},
    { customer: null },
    { customer: 'Ana' },
    { customer: { cpf: null, document: {} }, description: 7 },
    { customer: { cpf: ['52998224725'] }, description: ['52998224725'] },
  ]) {
    assert.deepEqual(cpfCandidatesFromLead(attributes), [], JSON.stringify(attributes));
  }
});
