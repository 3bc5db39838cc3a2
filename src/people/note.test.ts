import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { dossierFromWorkApi } from './dossier.ts';
import { composeNoMatchNote, composeNote } from './note.ts';
import { noteRef } from '../notes/reference.ts';
import type { Dossier, NoteInput, NoteMatch, NoteOptions } from './types.ts';

// Golden notes: src/people/golden/<name>.txt hold the expected note plus one final newline.
// `UPDATE_GOLDEN=1 npx node --test src/people/note.test.ts` rewrites them; review the diff
// against docs/note-format.md before committing.
const GOLDEN = new URL('./golden/', import.meta.url);

function assertGolden(name: string, note: string): void {
  const file = new URL(`${name}.txt`, GOLDEN);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, `${note}\n`);
  assert.equal(`${note}\n`, readFileSync(file, 'utf8'), `golden/${name}.txt`);
}

const LEAD_ID = '9f2c4e1a7b3d4c5e8f90a1b2c3d4e5f6';
const OPTIONS: NoteOptions = { incomeMultiplier: 1.9, maskCpf: false, includeMother: true, maxLength: 5000 };

function sampleDossier(): Dossier {
  const raw: unknown = JSON.parse(readFileSync(new URL('work-api-sample.json', GOLDEN), 'utf8'));
  const dossier = dossierFromWorkApi(raw);
  assert.ok(dossier);
  return dossier;
}

const ANA = sampleDossier();

const JOAO: Dossier = {
  cpf: '11144477735',
  name: 'JOÃO PEREIRA SANTOS',
  birthDate: '1979-11-02',
  sex: 'M - MASCULINO',
  motherName: 'TEREZA PEREIRA',
  maritalStatus: 'SOLTEIRO(A)',
  registrationStatus: 'REGULAR',
  income: 4200,
  purchasingPower: 'MEDIO',
  incomeBand: 'De R$ 3.000 até R$ 5.000',
  creditScore: 610,
  riskBand: 'MEDIO RISCO',
  profession: null,
  phones: [
    { number: '21987654321', type: 'TELEFONE MOVEL', carrier: 'CLARO', whatsapp: true },
    { number: '2134567890', type: 'TELEFONE FIXO', carrier: 'OI', whatsapp: false },
    { number: '21976543210', type: null, carrier: null, whatsapp: false },
    { number: '21965432109', type: 'TELEFONE MOVEL', carrier: 'TIM', whatsapp: true },
    { number: '2133334444', type: 'TELEFONE FIXO', carrier: null, whatsapp: false },
  ],
  emails: [
    { email: 'joao.santos@example.com', priority: 'ALTA', quality: 'BOM' },
    { email: 'jps1979@example.net', priority: null, quality: null },
    { email: 'joao@empresa.example.com.br', priority: 'MEDIA', quality: null },
    { email: 'quarto@example.com', priority: 'BAIXA', quality: null },
  ],
  addresses: [
    {
      street: 'AV ATLANTICA',
      number: '2000',
      complement: null,
      district: 'COPACABANA',
      city: 'RIO DE JANEIRO',
      state: 'RJ',
      zip: '22021001',
    },
    {
      street: 'R DAS LARANJEIRAS',
      number: null,
      complement: 'CASA 2',
      district: null,
      city: null,
      state: 'RJ',
      zip: null,
    },
    {
      street: 'R TERCEIRA',
      number: '3',
      complement: null,
      district: null,
      city: 'NITEROI',
      state: 'RJ',
      zip: null,
    },
  ],
  companies: [
    { cnpj: '11222333000181', relation: 'SOCIO' },
    { cnpj: '45997418000153', relation: null },
    { cnpj: '19131243000197', relation: 'TITULAR' },
    { cnpj: '60701190000104', relation: 'QUARTA' },
  ],
};

function note(
  match: NoteMatch,
  leadName: string | null,
  variant: string,
  options: Partial<NoteOptions> = {},
): string {
  const input: NoteInput = { ref: noteRef(LEAD_ID, variant), leadName, match };
  return composeNote(input, { ...OPTIONS, ...options });
}

/** The example of the note format the project documents (docs/note-format.md). */
function documentedExample(): string {
  const doc = readFileSync(new URL('../../docs/note-format.md', import.meta.url), 'utf8');
  const example = /```\n([\s\S]*?)\n```/.exec(doc)?.[1];
  assert.ok(example, 'docs/note-format.md has its example');
  return example;
}

test('golden: single person, the documented example', () => {
  const text = note({ kind: 'single', person: ANA }, 'Ana Souza Lima', 'single-full');
  assertGolden('single-full', text);
  assert.ok(text.endsWith(`\n\nref: ${noteRef(LEAD_ID, 'single-full')}`));
});

test('the single-person note is the documented example, character for character', () => {
  const example = documentedExample();
  const text = note({ kind: 'single', person: ANA }, 'Ana Souza Lima', 'single-full');
  assert.equal(text, `${example}\n\nref: ${noteRef(LEAD_ID, 'single-full')}`);
});

test('golden: phone and e-mail of the same person', () => {
  assertGolden('same-person', note({ kind: 'same_person', person: ANA }, 'Ana Lima', 'same-person'));
});

test('golden: phone and e-mail of different people, lists capped at 3/3/2/3', () => {
  const match: NoteMatch = {
    kind: 'different_people',
    byPhone: { person: ANA, phone: '5511987654321' },
    byEmail: { person: JOAO, email: 'joao.santos@example.com' },
  };
  const text = note(match, 'Ana Lima', 'different-people');
  assertGolden('different-people', text);
  // Only the e-mail's person gets the warning, right under its banner.
  assert.equal(text.match(/⚠️ Nome diferente do lead/g)?.length, 1);
  assert.ok(
    text.includes('(Email: joao.santos@example.com) ═══\n\n⚠️ Nome diferente do lead: Ana Lima\n\n✅'),
  );
});

test('golden: name different from the lead', () => {
  assertGolden('name-mismatch', note({ kind: 'single', person: ANA }, 'Maria Oliveira', 'name-mismatch'));
});

test('golden: masked CPF and no mother', () => {
  const text = note({ kind: 'single', person: ANA }, 'ana', 'masked-no-mother', {
    maskCpf: true,
    includeMother: false,
  });
  assertGolden('masked-no-mother', text);
  assert.ok(
    text.includes('CPF: ***.982.247-**') && !text.includes('52998224725') && !text.includes('529.982'),
  );
  assert.ok(!text.includes('Mãe') && !text.includes('MARIA SOUZA'));
});

const SPARSE: Dossier = {
  cpf: '12345678909',
  name: 'CARLOS ALBERTO NUNES',
  birthDate: null,
  sex: null,
  motherName: null,
  maritalStatus: null,
  registrationStatus: null,
  income: 0,
  purchasingPower: null,
  incomeBand: null,
  creditScore: 480,
  riskBand: null,
  profession: null,
  phones: [{ number: '1934567890', type: null, carrier: null, whatsapp: false }],
  emails: [],
  addresses: [
    {
      street: null,
      number: null,
      complement: null,
      district: null,
      city: 'CAMPINAS',
      state: 'SP',
      zip: null,
    },
  ],
  companies: [{ cnpj: '11222333000181', relation: null }],
};

test('golden: sparse dossier, missing lines and empty sections left out', () => {
  const text = note({ kind: 'single', person: SPARSE }, null, 'sparse');
  assertGolden('sparse', text);
  for (const absent of [
    'Data Nascimento',
    'Sexo',
    'Mãe',
    'Renda',
    'Poder',
    'Faixa',
    'Risco',
    '📧',
    'null',
    'undefined',
  ]) {
    assert.ok(!text.includes(absent), absent);
  }
});

// Two people with full lists and absurdly long values: about 7,800 characters uncapped.
const LONG = 'CONDOMINIO RESIDENCIAL JARDIM DAS FLORES '.repeat(8).trim();
function padded(person: Dossier): Dossier {
  return {
    ...person,
    addresses: [0, 1].map((i) => ({ ...JOAO.addresses[0]!, complement: `BLOCO ${i + 1} ${LONG}` })),
    companies: [0, 1, 2].map((i) => ({ ...JOAO.companies[i]!, relation: `${LONG} ${i + 1}` })),
    emails: [0, 1, 2].map((i) => ({
      email: `${'nome.sobrenome.'.repeat(10)}${i}@example.com`,
      priority: LONG,
      quality: null,
    })),
  };
}
const OVER_LONG: NoteMatch = {
  kind: 'different_people',
  byPhone: { person: padded(ANA), phone: '(11) 98765-4321' },
  byEmail: { person: padded(JOAO), email: 'joao.santos@example.com' },
};

test('golden: over-long note capped at 5,000 characters, whole lines dropped, ref kept', () => {
  const full = note(OVER_LONG, 'Ana Lima', 'over-long', { maxLength: Infinity });
  assert.ok(full.length > 7500, String(full.length));
  const text = note(OVER_LONG, 'Ana Lima', 'over-long');
  assertGolden('over-long', text);
  assert.ok(text.length <= 5000, String(text.length));
  assert.ok(text.endsWith(`\n\nref: ${noteRef(LEAD_ID, 'over-long')}`));
  // Both people keep their identity; what went were trailing list items.
  assert.ok(text.includes('CPF: 529.982.247-25') && text.includes('CPF: 111.444.777-35'));
  assert.ok(text.includes('Nome diferente do lead'));
});

test('the cap drops whole lines, keeps order, never leaves an empty section, always keeps the ref', () => {
  const full = note(OVER_LONG, 'Ana Lima', 'cap', { maxLength: Infinity });
  const refLine = `ref: ${noteRef(LEAD_ID, 'cap')}`;
  const headers = [
    '✅ DADOS PESSOAIS',
    '💰 DADOS FINANCEIROS',
    '📧 EMAILS',
    '📱 TELEFONES',
    '🏠 ENDEREÇOS',
    '🏢 EMPRESAS',
  ];
  fc.assert(
    fc.property(fc.integer({ min: 0, max: full.length + 10 }), (maxLength) => {
      const text = note(OVER_LONG, 'Ana Lima', 'cap', { maxLength });
      assert.ok(text.length <= Math.max(maxLength, refLine.length));
      assert.ok(text === refLine || text.endsWith(`\n\n${refLine}`));
      // Every line is a whole line of the full note, in the same order.
      let from = 0;
      for (const line of text.split('\n').filter(Boolean)) {
        const at = full.split('\n').indexOf(line, from);
        assert.ok(at >= from, line);
        from = at + 1;
      }
      const lines = text.split('\n');
      lines.forEach((line, i) => {
        if (headers.includes(line)) assert.ok(lines[i + 1], `${line} has no content`);
      });
      assert.ok(!text.includes('\n\n\n'));
    }),
  );
  assert.equal(note(OVER_LONG, 'Ana Lima', 'cap', { maxLength: full.length }), full);
});

test('golden: no-match note', () => {
  const ref = noteRef(LEAD_ID, 'no-match');
  const text = composeNoMatchNote(ref, {
    name: 'Ana Souza Lima',
    phone: '5511987654321',
    email: 'ana.lima@example.com',
  });
  assertGolden('no-match', text);
  assert.ok(text.length < 300);
});

test('the no-match note leaves out what the lead does not have', () => {
  const text = composeNoMatchNote('enr-00000000', { name: null, phone: 'sem telefone', email: '  ' });
  assert.equal(
    text,
    '🔍 CPF NÃO ENCONTRADO\nNenhum CPF foi encontrado para os contatos deste lead.\nTelefone: sem telefone\n\nref: enr-00000000',
  );
});

test('the income multiplier applies to the income and every amount of the band', () => {
  const one = note({ kind: 'single', person: ANA }, null, 'x', { incomeMultiplier: 1 });
  assert.ok(one.includes('\nRenda: R$ 8.500,50\n'));
  assert.ok(one.includes('\nFaixa de Renda: De R$ 7.018 até R$ 15.000\n'));
  const band = (incomeBand: string) =>
    note({ kind: 'single', person: { ...ANA, incomeBand } }, null, 'x')
      .split('\n')
      .find((l) => l.startsWith('Faixa'));
  assert.equal(band('Acima de R$ 20.000,00'), 'Faixa de Renda: Acima de R$ 38.000');
  assert.equal(
    band('De R$7018 a R$ 15000 (estimado)'),
    'Faixa de Renda: De R$ 13.334 a R$ 28.500 (estimado)',
  );
  assert.equal(band('SEM FAIXA'), 'Faixa de Renda: SEM FAIXA');
});

test('WhatsApp mark, phone without type, e-mail without priority', () => {
  const person: Dossier = {
    ...ANA,
    phones: [
      { number: '11987654321', type: null, carrier: null, whatsapp: true },
      { number: '1134567890', type: 'TELEFONE FIXO', carrier: null, whatsapp: false },
      { number: '11976543210', type: null, carrier: null, whatsapp: false },
    ],
    emails: [{ email: 'ana.lima@example.com', priority: null, quality: null }],
  };
  const text = note({ kind: 'single', person }, null, 'x');
  assert.ok(
    text.includes(
      '📱 TELEFONES\n1. (11) 98765-4321 ✅\n2. (11) 3456-7890 - TELEFONE FIXO\n3. (11) 97654-3210\n\n',
    ),
  );
  assert.ok(text.includes('📧 EMAILS\n1. ana.lima@example.com\n\n'));
});

test('no name warning when the first names agree or the lead has no name', () => {
  for (const leadName of [null, '', 'ana', 'ÂNA LIMA', 'Sra. Ana', '11987654321']) {
    assert.ok(!note({ kind: 'single', person: ANA }, leadName, 'x').includes('⚠️'), String(leadName));
  }
  const warned = note({ kind: 'single', person: ANA }, 'Mariana\nSouza', 'x');
  assert.ok(warned.startsWith('⚠️ Nome diferente do lead: Mariana Souza\n\n✅ DADOS PESSOAIS\n'));
});

test('a line break inside a value does not break the one-fact-a-line layout', () => {
  const person: Dossier = { ...ANA, name: 'ANA\nSOUZA', riskBand: ' BAIXO\r\n RISCO ' };
  const text = note({ kind: 'single', person }, null, 'x');
  assert.ok(text.includes('\nNome: ANA SOUZA\n') && text.includes('\nRisco: BAIXO RISCO\n'));
});

test('a lead phone that is not Brazilian is shown as given', () => {
  const match: NoteMatch = {
    kind: 'different_people',
    byPhone: { person: ANA, phone: '+1 415 555 2671' },
    byEmail: { person: JOAO, email: 'joao.santos@example.com' },
  };
  assert.ok(note(match, null, 'x').includes('═══ PESSOA 1 (Telefone: +1 415 555 2671) ═══'));
});

test('the ref is enr- and the first 16 hex digits of sha256(lead id, newline, key)', () => {
  // The first 8 digits are the legacy reference's: notes posted before stay recognisable.
  assert.equal(noteRef(LEAD_ID, 'k'), 'enr-cbc5f58e80978c5d');
  assert.match(noteRef('lead-1', 'on_create_lead@2026-11-20T13:15:00.000Z'), /^enr-e3239799[0-9a-f]{8}$/);
  assert.notEqual(noteRef(LEAD_ID, 'k2'), noteRef(LEAD_ID, 'k'));
  assert.match(noteRef('', ''), /^enr-[0-9a-f]{16}$/);
});
