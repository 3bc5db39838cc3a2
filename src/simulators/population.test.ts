import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatCpf, isValidCpf } from '../people/cpf.ts';
import { createPopulation, LEAD_SCENARIOS, MIN_POPULATION, type SampleLead } from './population.ts';

const population = createPopulation();

/** CNPJ check digits: mod 11, weights cycling 2..9 from the right. */
function isValidCnpj(cnpj: string): boolean {
  if (!/^\d{14}$/.test(cnpj)) return false;
  const check = (digits: string): number => {
    let sum = 0;
    for (let i = 0; i < digits.length; i++) sum += Number(digits[i]) * (((digits.length - 1 - i) % 8) + 2);
    return sum % 11 < 2 ? 0 : 11 - (sum % 11);
  };
  return check(cnpj.slice(0, 12)) === Number(cnpj[12]) && check(cnpj.slice(0, 13)) === Number(cnpj[13]);
}

test('the same seed gives the same population; another seed another one', () => {
  const again = createPopulation({ seed: 42 });
  assert.deepEqual(again.people, population.people);
  assert.deepEqual(again.unknown, population.unknown);
  assert.deepEqual(again.crossedPairs, population.crossedPairs);
  assert.deepEqual(again.sampleLeads(), population.sampleLeads());

  const other = createPopulation({ seed: 7 });
  const otherCpfs = new Set(other.people.map((person) => person.cpf));
  assert.ok(population.people.every((person) => !otherCpfs.has(person.cpf)));
  assert.notDeepEqual(
    other.sampleLeads().map((lead) => lead.leadId),
    population.sampleLeads().map((lead) => lead.leadId),
  );
});

test('size is honoured, with a floor that leaves the sample leads people of their own', () => {
  assert.equal(population.people.length, 200);
  assert.equal(createPopulation({ size: MIN_POPULATION }).people.length, MIN_POPULATION);
  assert.throws(() => createPopulation({ size: MIN_POPULATION - 1 }), RangeError);
  assert.throws(() => createPopulation({ size: 20.5 }), RangeError);
});

test('every CPF is valid and unique; stale directory records carry an invalid one', () => {
  const cpfs = population.people.map((person) => person.cpf);
  assert.ok(cpfs.every(isValidCpf));
  assert.equal(new Set(cpfs).size, cpfs.length);
  const stale = population.people.flatMap((person) =>
    person.staleRecord ? [[person, person.staleRecord] as const] : [],
  );
  assert.equal(stale.length, 40, 'every fifth person');
  for (const [person, record] of stale) {
    assert.ok(!isValidCpf(record.cpf), record.cpf);
    assert.equal(record.cpf.slice(0, 9), person.cpf.slice(0, 9));
    assert.equal(record.name, person.name);
  }
});

test('people look like Brazilian records, within the documented ranges', () => {
  const ddds = new Set(['11', '19', '21', '31', '41', '48', '51', '61', '62', '71', '81', '85']);
  for (const person of population.people) {
    assert.match(person.name, /^[A-Z]+ [A-Z]+ [A-Z]+$/);
    assert.match(person.motherName, /^[A-Z]+ [A-Z]+ [A-Z]+$/);
    assert.match(person.birthDate, /^(19[5-9]\d|200[0-4])-(0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8])$/);
    assert.ok(person.income >= 1412 && Number.isInteger(Math.round(person.income * 100)));
    assert.ok(person.score >= 0 && person.score <= 1000);
    assert.match(person.riskBand, /RISCO$/);
    assert.match(person.profession.cbo, /^\d{6}$/);

    assert.ok(person.phones.length >= 1 && person.phones.length <= 3);
    for (const phone of person.phones) {
      assert.match(phone.number, /^\d\d9[6-9]\d{7}$/);
      assert.ok(ddds.has(phone.number.slice(0, 2)), phone.number);
    }
    assert.deepEqual(
      person.phones.map((phone) => phone.whatsapp),
      person.phones.map((_, i) => i === 0),
      'the primary phone, and only it, is on WhatsApp',
    );
    assert.ok(person.emails.length >= 1 && person.emails.length <= 2);
    for (const email of person.emails) {
      assert.match(email, /^[a-z0-9._]+@(example\.(com|org|net)|correio\.example)$/);
    }
    assert.ok(person.addresses.length >= 1 && person.addresses.length <= 2);
    for (const address of person.addresses) assert.match(address.zip, /^\d{8}$/);
    assert.ok(person.companies.length <= 2);
    for (const company of person.companies) assert.ok(isValidCnpj(company.cnpj), company.cnpj);
  }
  // The ranges are used, not just respected.
  const counts = (pick: (p: (typeof population.people)[number]) => number) =>
    new Set(population.people.map(pick));
  assert.deepEqual([...counts((p) => p.phones.length)].sort(), [1, 2, 3]);
  assert.deepEqual([...counts((p) => p.emails.length)].sort(), [1, 2]);
  assert.deepEqual([...counts((p) => p.companies.length)].sort(), [0, 1, 2]);
  assert.ok(new Set(population.people.map((p) => p.purchasingPower.description)).size >= 4);
});

test("every person's phones, e-mails and CPF resolve to them", () => {
  for (const person of population.people) {
    assert.equal(population.byCpf(person.cpf), person);
    assert.equal(population.byCpf(formatCpf(person.cpf)), person);
    for (const phone of person.phones) assert.equal(population.byPhone(phone.number), person);
    for (const email of person.emails) {
      assert.equal(population.byEmail(email), person);
      assert.equal(population.byEmail(` ${email.toUpperCase()} `), person);
    }
  }
});

test('unknown contacts, unknown CPFs and the documentation CPFs resolve to nobody', () => {
  const { phones, emails, cpfs } = population.unknown;
  assert.ok(phones.length > 0 && emails.length > 0 && cpfs.length > 0);
  for (const phone of phones) {
    assert.match(phone, /^\d{11}$/);
    assert.equal(population.byPhone(phone), undefined);
  }
  for (const email of emails) assert.equal(population.byEmail(email), undefined);
  for (const cpf of [...cpfs, '52998224725', '11144477735', '12345678909']) {
    assert.ok(isValidCpf(cpf));
    assert.equal(population.byCpf(cpf), undefined);
  }
});

test("crossed pairs join one person's phone to another person's e-mail", () => {
  assert.ok(population.crossedPairs.length > 0);
  for (const pair of population.crossedPairs) {
    assert.notEqual(pair.phoneOwner, pair.emailOwner);
    assert.equal(population.byPhone(pair.phone)?.cpf, pair.phoneOwner);
    assert.equal(population.byEmail(pair.email)?.cpf, pair.emailOwner);
    assert.equal(
      population.byEmail(pair.email)?.phones.some((phone) => phone.number === pair.phone),
      false,
    );
  }
});

test('sample leads: one per scenario, stable ids, C2S-shaped', () => {
  const leads = population.sampleLeads();
  assert.deepEqual(
    leads.map((lead) => lead.scenario),
    LEAD_SCENARIOS,
  );
  assert.deepEqual(
    population.sampleLeads().map((lead) => lead.leadId),
    leads.map((lead) => lead.leadId),
  );
  assert.equal(new Set(leads.map((lead) => lead.leadId)).size, leads.length);
  for (const lead of leads) {
    assert.match(lead.leadId, /^[0-9a-f]{32}$/);
    assert.match(lead.attributes.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}-03:00$/);
    assert.equal(lead.attributes.updated_at, lead.attributes.created_at);
    assert.equal(typeof lead.attributes.product.price_float, 'number');
    assert.equal(lead.attributes.lead_status.alias, 'new');
    if (lead.attributes.customer.phone !== null)
      assert.match(lead.attributes.customer.phone, /^(\+?55)?\d{10,11}$/);
  }
  // Every scenario's people are distinct from every other's.
  const cpfs = leads.flatMap((lead) => lead.expectedCpfs);
  assert.equal(new Set(cpfs).size, cpfs.length);
});

/** Whom a lead's contacts lead to: [phone owner, e-mail owner], undefined where nobody. */
function resolve(lead: SampleLead): [string | undefined, string | undefined] {
  const { phone, email } = lead.attributes.customer;
  const national = phone?.replace(/^\+?55(?=\d{10,11}$)/, '');
  return [
    national === undefined ? undefined : population.byPhone(national)?.cpf,
    email === null ? undefined : population.byEmail(email)?.cpf,
  ];
}

test('each sample lead leads where its scenario says', () => {
  const leads = new Map(population.sampleLeads().map((lead) => [lead.scenario, lead]));
  const lead = (scenario: (typeof LEAD_SCENARIOS)[number]): SampleLead => leads.get(scenario)!;

  const byDescription = lead('cpf_in_description');
  const [cpf] = byDescription.expectedCpfs;
  assert.ok(byDescription.attributes.description.includes(formatCpf(cpf!)));
  assert.deepEqual(resolve(byDescription), [undefined, undefined], 'the CPF is the only lead');

  const phoneOnly = lead('phone_only');
  assert.equal(phoneOnly.attributes.customer.email, null);
  assert.deepEqual(resolve(phoneOnly), [phoneOnly.expectedCpfs[0], undefined]);
  assert.notEqual(
    population.byCpf(phoneOnly.expectedCpfs[0]!)?.staleRecord,
    null,
    'an invalid CPF comes first',
  );

  const emailOnly = lead('email_only');
  assert.equal(emailOnly.attributes.customer.phone, null);
  assert.deepEqual(resolve(emailOnly), [undefined, emailOnly.expectedCpfs[0]]);

  const samePerson = lead('same_person');
  assert.deepEqual(resolve(samePerson), [samePerson.expectedCpfs[0], samePerson.expectedCpfs[0]]);

  const differentPeople = lead('different_people');
  assert.deepEqual(resolve(differentPeople), differentPeople.expectedCpfs);
  assert.notEqual(differentPeople.expectedCpfs[0], differentPeople.expectedCpfs[1]);

  const noMatch = lead('no_match');
  assert.deepEqual(noMatch.expectedCpfs, []);
  assert.ok(noMatch.attributes.customer.phone && noMatch.attributes.customer.email);
  assert.deepEqual(resolve(noMatch), [undefined, undefined]);
  assert.doesNotMatch(noMatch.attributes.description, /\d{3}\.\d{3}\.\d{3}-\d{2}/);
});
