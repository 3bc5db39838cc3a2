import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { dossierFromWorkApi } from './dossier.ts';
import type { Dossier } from './types.ts';

function fixture(name: string): Record<string, any> {
  return JSON.parse(readFileSync(new URL(`./golden/${name}`, import.meta.url), 'utf8'));
}

/** The providers.md sample answer with top-level `changes`, and `basic` merged into its DadosBasicos. */
function answer(
  changes: Record<string, unknown> = {},
  basic: Record<string, unknown> = {},
): Record<string, any> {
  const sample = fixture('work-api-sample.json');
  return { ...sample, DadosBasicos: { ...sample.DadosBasicos, ...basic }, ...changes };
}

test('reads the providers.md sample into the whitelisted fields', () => {
  const expected: Dossier = {
    cpf: '52998224725',
    name: 'ANA SOUZA LIMA',
    birthDate: '1985-05-15',
    sex: 'F - FEMININO',
    motherName: 'MARIA SOUZA',
    maritalStatus: 'CASADO(A)',
    registrationStatus: 'REGULAR',
    income: 8500.5,
    purchasingPower: 'ALTO',
    incomeBand: 'De R$ 7018 até R$ 15000',
    creditScore: 920,
    riskBand: 'BAIXISSIMO RISCO',
    profession: 'Analista de sistemas',
    phones: [{ number: '11987654321', type: 'TELEFONE MOVEL', carrier: 'VIVO', whatsapp: true }],
    emails: [{ email: 'ana.lima@example.com', priority: 'MUITO ALTA', quality: 'OTIMO' }],
    addresses: [
      {
        street: 'R AUGUSTA',
        number: '1500',
        complement: 'APTO 501',
        district: 'CONSOLACAO',
        city: 'SAO PAULO',
        state: 'SP',
        zip: '01304001',
      },
    ],
    companies: [{ cnpj: '12345678000190', relation: 'SOCIO-ADMINISTRADOR' }],
  };
  assert.deepEqual(dossierFromWorkApi(fixture('work-api-sample.json')), expected);
});

test('nothing outside the whitelist reaches the dossier', () => {
  const raw = fixture('work-api-forbidden.json');
  const json = JSON.stringify(dossierFromWorkApi(raw));
  assert.ok(JSON.stringify(raw).includes('SENTINEL_'), 'the fixture carries sentinels');
  assert.deepEqual(json.match(/SENTINEL_\w+/g), null);
  // CPFs of relatives, neighbours and residents are not kept either.
  assert.ok(!json.includes('11144477735') && !json.includes('12345678909'));
  // The same whitelisted values as the clean sample: nothing was added, nothing lost.
  assert.deepEqual(dossierFromWorkApi(raw), dossierFromWorkApi(fixture('work-api-sample.json')));
});

test('no DadosBasicos or no valid CPF: no dossier', () => {
  for (const raw of [
    undefined,
    null,
    'DadosBasicos',
    [],
    {},
    { status: 403, statusMsg: 'x', reason: 'Token vencido ou inválido' },
    { erro: 'CPF não encontrado' },
    answer({ DadosBasicos: null }),
    answer({ DadosBasicos: 'x' }),
    answer({ DadosBasicos: [] }),
    answer({}, { cpf: '52998224726' }),
    answer({}, { cpf: null }),
    answer({}, { cpf: '' }),
  ]) {
    assert.equal(dossierFromWorkApi(raw), undefined, JSON.stringify(raw));
  }
});

test('a CPF sent as a number or zero-padded to 14 is read', () => {
  assert.equal(dossierFromWorkApi(answer({}, { cpf: '00052998224725' }))?.cpf, '52998224725');
  assert.equal(dossierFromWorkApi(answer({}, { cpf: 1234567890 }))?.cpf, '01234567890');
  assert.equal(dossierFromWorkApi(answer({}, { cpf: '529.982.247-25' }))?.cpf, '52998224725');
});

test('income, score and birth date in the forms they come in', () => {
  const read = (economic: unknown, birth: unknown) =>
    dossierFromWorkApi(answer({ DadosEconomicos: economic }, { dataNascimento: birth }));
  const numbers = read({ renda: '8.500,50', score: { scoreCSBA: 920 } }, '1985-05-15');
  assert.equal(numbers?.income, 8500.5);
  assert.equal(numbers?.creditScore, 920);
  assert.equal(numbers?.birthDate, '1985-05-15');
  assert.equal(read({ renda: 3200 }, '15/05/1985 00:00:00')?.birthDate, '1985-05-15');
  for (const birth of ['31/02/1990', '15-05-1985', '5/5/1985', '', 19850515, '00/00/0000']) {
    assert.equal(read({}, birth)?.birthDate, null, String(birth));
  }
  const wrong = read({ renda: 'não informado', score: { scoreCSBA: 'N/A' } }, null);
  assert.equal(wrong?.income, null);
  assert.equal(wrong?.creditScore, null);
  assert.equal(wrong?.purchasingPower, null);
  assert.equal(read({ renda: '-1' }, null)?.income, null);
});

test('lists are normalised, deduplicated and capped', () => {
  const phones = [
    { telefone: '5511987654321', whatsapp: 'SIM' },
    { telefone: '(11) 98765-4321', tipo: 'DUPLICADO' },
    { telefone: '11999999999' }, // placeholder
    { telefone: '1134567890', whatsapp: 'NAO' },
    { telefone: '2134567890', whatsapp: true },
    { telefone: '3134567890', whatsapp: 's' },
    { telefone: '4134567890' },
    { telefone: '5134567890' },
    { telefone: '6134567890' },
  ];
  const emails = [
    'Ana@Example.com',
    'ana@example.com',
    'teste@teste.com',
    'b@example.com',
    'c@example.com',
  ].concat(['d@example.com', 'e@example.com', 'f@example.com']);
  const addresses = [
    { cep: 1304001, uf: 'sp' },
    { cep: '01304-001', uf: 'São Paulo' },
    {},
    { cidade: 'X' },
    { bairro: 'Y' },
  ];
  const companies = [
    { cnpj: '12.345.678/0001-90', relacao: 'SOCIO' },
    { cnpj: '12345678000190', relacao: 'SOCIO' },
    { cnpj: 12345678000190, relacao: 'ADMINISTRADOR' },
    { cnpj: '123' },
  ];
  const dossier = dossierFromWorkApi(
    answer({
      telefones: phones,
      emails: emails.map((email) => ({ email })),
      enderecos: addresses,
      empresas: companies,
    }),
  );
  assert.deepEqual(
    dossier?.phones.map((phone) => [phone.number, phone.whatsapp, phone.type]),
    [
      ['11987654321', true, null],
      ['1134567890', false, null],
      ['2134567890', true, null],
      ['3134567890', true, null],
      ['4134567890', false, null],
    ],
  );
  assert.deepEqual(
    dossier?.emails.map((email) => email.email),
    ['ana@example.com', 'b@example.com', 'c@example.com', 'd@example.com', 'e@example.com'],
  );
  assert.deepEqual(
    dossier?.addresses.map((address) => [address.zip, address.state, address.city, address.street]),
    [
      ['01304001', 'SP', null, null],
      ['01304001', null, null, null],
      [null, null, 'X', null],
    ],
  );
  assert.deepEqual(dossier?.companies, [
    { cnpj: '12345678000190', relation: 'SOCIO' },
    { cnpj: '12345678000190', relation: 'ADMINISTRADOR' },
  ]);
});

test('the street is the type and the name of the street, either may be missing', () => {
  const street = (fields: Record<string, unknown>) =>
    dossierFromWorkApi(answer({ enderecos: [fields] }))?.addresses[0]?.street;
  assert.equal(street({ tipoLogradouro: 'AV', logradouro: 'PAULISTA' }), 'AV PAULISTA');
  assert.equal(street({ logradouro: ' PAULISTA ' }), 'PAULISTA');
  assert.equal(street({ tipoLogradouro: 'R', cidade: 'SANTOS' }), 'R');
  assert.equal(street({ tipoLogradouro: '', logradouro: null, cidade: 'SANTOS' }), null);
});

test('wrong types anywhere become null or are skipped, never an error', () => {
  const dossier = dossierFromWorkApi(
    answer(
      {
        DadosEconomicos: [],
        profissao: 'Analista',
        telefones: 'x',
        emails: [null, 1, { email: 5 }, { email: ['a@b.com'] }],
        enderecos: {},
        empresas: [[], { cnpj: null }],
      },
      {
        nome: 42,
        sexo: {},
        nomeMae: [],
        estadoCivil: true,
        situacaoCadastral: 'SUSPENSA',
        dataNascimento: {},
      },
    ),
  );
  assert.deepEqual(dossier, {
    cpf: '52998224725',
    name: '42',
    birthDate: null,
    sex: null,
    motherName: null,
    maritalStatus: null,
    registrationStatus: 'SUSPENSA',
    income: null,
    purchasingPower: null,
    incomeBand: null,
    creditScore: null,
    riskBand: null,
    profession: null,
    phones: [],
    emails: [],
    addresses: [],
    companies: [],
  });
});

test('never throws, whatever the answer', () => {
  fc.assert(
    fc.property(fc.anything(), (raw) => {
      dossierFromWorkApi(raw);
    }),
  );
  const keys = [
    'DadosBasicos',
    'DadosEconomicos',
    'profissao',
    'empresas',
    'enderecos',
    'telefones',
    'emails',
  ];
  fc.assert(
    fc.property(fc.constantFrom(...keys), fc.anything(), fc.anything(), (key, value, inner) => {
      const raw = answer({ [key]: value });
      dossierFromWorkApi(raw);
      dossierFromWorkApi(answer({ [key]: [inner, value] }));
      dossierFromWorkApi(answer({}, { [key]: inner }));
    }),
  );
});
