import assert from 'node:assert/strict';
import { test } from 'node:test';
import { identifierOf, identifiersIn, namesAny } from './identifiers.ts';

const sorted = (set: ReadonlySet<string>) => [...set].sort();

test('identifiers are found in fields, free text and numbers, normalised as the workflow does', () => {
  const found = identifiersIn({
    customer: { phone: '+55 (11) 98765-4321', email: ' Ana.Souza@Example.COM ', cpf: '529.982.247-25' },
    phone2: 5521987654321,
    description: 'Ligar 0xx21 3456-7890 ou escrever para joao@site.com.br. CPF 111.444.777-35',
    nested: [{ deep: ['mailto:maria@x.org'] }],
    document: 1234567890, // a CPF written as a number loses its leading zero: 01234567890
  });
  assert.deepEqual(sorted(found.cpfs), ['01234567890', '11144477735', '52998224725']);
  // A number is read both ways: 1234567890 is also (12) 3456-7890.
  assert.deepEqual(sorted(found.phones), ['11987654321', '1234567890', '2134567890', '21987654321']);
  assert.deepEqual(sorted(found.emails), ['ana.souza@example.com', 'joao@site.com.br', 'maria@x.org']);
});

test('a substring of an identifier does not name it', () => {
  const ana = identifierOf('email', 'ana@x.com')!;
  assert.equal(namesAny(identifiersIn({ email: 'joana@x.com' }), ana), false);
  assert.equal(namesAny(identifiersIn({ email: 'ANA@x.com' }), ana), true);

  const phone = identifierOf('phone', '(11) 3456-7890')!;
  // Other numbers whose digits hold 1134567890.
  for (const other of ['(11) 93456-7890', '5511345678901', 'id 81134567890'])
    assert.equal(namesAny(identifiersIn({ phone: other }), phone), false, other);
  assert.equal(namesAny(identifiersIn({ phone: '+55 11 3456 7890' }), phone), true);

  const cpf = identifierOf('cpf', '52998224725')!;
  assert.equal(namesAny(identifiersIn({ note: 'pedido 1529982247250' }), cpf), false);
  assert.equal(namesAny(identifiersIn({ note: 'cpf: 529.982.247-25.' }), cpf), true);
});

test('identifierOf refuses what is not an identifier', () => {
  assert.equal(identifierOf('cpf', '123'), undefined);
  assert.equal(identifierOf('phone', '12345'), undefined);
  assert.equal(identifierOf('email', 'not-an-address'), undefined);
  assert.deepEqual(sorted(identifierOf('phone', '+55 11 98765-4321')!.phones), ['11987654321']);
});
