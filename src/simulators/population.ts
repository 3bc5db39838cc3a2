import { createHash } from 'node:crypto';
import { cpfCheckDigits, formatCpf } from '../people/cpf.ts';

/**
 * A deterministic synthetic population for the provider simulators: the same seed always gives
 * the same people, so tests, benchmarks and the demo can name them. Everything is fake: names
 * from short Portuguese lists, CPFs with right check digits but drawn at random, e-mails on
 * reserved domains only (RFC 2606).
 */

export interface SyntheticPhone {
  /** National mobile, digits only: DDD + 9 digits. */
  readonly number: string;
  readonly carrier: string;
  readonly whatsapp: boolean;
}

export interface SyntheticAddress {
  /** `R`, `AV`, `AL`, `TV`. */
  readonly streetType: string;
  readonly street: string;
  readonly number: string;
  /** Empty when there is none. */
  readonly complement: string;
  readonly district: string;
  readonly city: string;
  readonly state: string;
  /** 8 digits. */
  readonly zip: string;
}

export interface SyntheticCompany {
  /** 14 digits, right check digits. */
  readonly cnpj: string;
  readonly relation: string;
}

export interface SyntheticPerson {
  /** 11 digits, valid. */
  readonly cpf: string;
  /** Uppercase, as the providers write it: `ANA SOUZA LIMA`. */
  readonly name: string;
  /** ISO `YYYY-MM-DD` (the Work API renders it `DD/MM/YYYY`). */
  readonly birthDate: string;
  readonly sex: 'F' | 'M';
  readonly motherName: string;
  readonly fatherName: string;
  readonly birthCity: string;
  /** `CASADO(A)`… */
  readonly maritalStatus: string;
  /** `REGULAR`… */
  readonly registrationStatus: string;
  /** Monthly income in reais, to the cent (the Work API's `renda`, rendered with a decimal comma). */
  readonly income: number;
  /** The band the income falls in: `ALTO`, `De R$ 7018 até R$ 15000`. */
  readonly purchasingPower: { readonly description: string; readonly band: string };
  /** 0–1000. */
  readonly score: number;
  /** `BAIXISSIMO RISCO`…, from the score. */
  readonly riskBand: string;
  readonly profession: { readonly cbo: string; readonly description: string };
  /** 1–3 mobiles; the first is the primary one and the only WhatsApp. */
  readonly phones: readonly SyntheticPhone[];
  /** 1–2, lowercase; the first is the primary one. */
  readonly emails: readonly string[];
  /** 1–2; the first in the city of the primary phone's DDD. */
  readonly addresses: readonly SyntheticAddress[];
  /** 0–2. */
  readonly companies: readonly SyntheticCompany[];
  /**
   * An old directory record of this person with a mistyped CPF (wrong check digits), which
   * Diretrix lists before the person: clients must take the first entry whose CPF is valid.
   */
  readonly staleRecord: { readonly name: string; readonly cpf: string } | null;
}

/** A phone of one person next to an e-mail of another: a lead that leads to two people. */
export interface CrossedPair {
  readonly phone: string;
  readonly email: string;
  /** CPF of the phone's owner. */
  readonly phoneOwner: string;
  /** CPF of the e-mail's owner. */
  readonly emailOwner: string;
}

export type LeadScenario =
  'cpf_in_description' | 'phone_only' | 'email_only' | 'same_person' | 'different_people' | 'no_match';

export const LEAD_SCENARIOS: readonly LeadScenario[] = [
  'cpf_in_description',
  'phone_only',
  'email_only',
  'same_person',
  'different_people',
  'no_match',
];

/** A lead as the C2S API shapes it (providers.md, "Get a lead"), for one scenario. */
export interface SampleLead {
  readonly scenario: LeadScenario;
  /** 32 hex chars, stable for a seed and scenario. */
  readonly leadId: string;
  /** CPFs an enrichment should find: phone owner first, then e-mail owner; none for no match. */
  readonly expectedCpfs: readonly string[];
  readonly attributes: {
    readonly customer: {
      readonly name: string;
      /** In a C2S form: `5511987654321`, `+5511987654321` or national. */
      readonly phone: string | null;
      readonly email: string | null;
    };
    readonly description: string;
    readonly product: {
      readonly id: string;
      readonly description: string;
      readonly prop_ref: string;
      readonly price_float: number;
    };
    readonly seller: { readonly id: string; readonly name: string; readonly email: string };
    readonly lead_source: { readonly id: number; readonly name: string };
    readonly lead_status: { readonly id: number; readonly alias: string; readonly name: string };
    readonly created_at: string;
    readonly updated_at: string;
  };
}

export interface Population {
  readonly seed: number;
  readonly people: readonly SyntheticPerson[];
  /** Contacts and valid CPFs that belong to nobody. */
  readonly unknown: {
    readonly phones: readonly string[];
    readonly emails: readonly string[];
    readonly cpfs: readonly string[];
  };
  readonly crossedPairs: readonly CrossedPair[];
  /** By 11 digits (punctuation ignored). */
  byCpf(cpf: string): SyntheticPerson | undefined;
  /** By national number, digits only (no 55): any of the person's phones. */
  byPhone(national: string): SyntheticPerson | undefined;
  /** Case-insensitive: any of the person's e-mails. */
  byEmail(email: string): SyntheticPerson | undefined;
  /** One C2S lead per scenario, in LEAD_SCENARIOS order. */
  sampleLeads(): SampleLead[];
}

export interface PopulationOptions {
  readonly seed?: number;
  /** At least MIN_POPULATION: the sample leads need distinct people. */
  readonly size?: number;
}

export const MIN_POPULATION = 12;

/** The example CPFs of providers.md belong to nobody here, so they always mean "not found". */
const RESERVED_CPFS = new Set(['52998224725', '11144477735', '12345678909']);

const FEMALE_NAMES =
  'ANA MARIA JULIANA FERNANDA PATRICIA ALINE CAMILA BEATRIZ LARISSA MARIANA GABRIELA LUCIANA RENATA CARLA VANESSA TATIANA LETICIA BRUNA CLAUDIA SANDRA'.split(
    ' ',
  );
const MALE_NAMES =
  'JOSE JOAO ANTONIO FRANCISCO CARLOS PAULO PEDRO LUCAS LUIZ MARCOS RAFAEL DANIEL MARCELO BRUNO EDUARDO FELIPE RODRIGO GUSTAVO THIAGO RICARDO'.split(
    ' ',
  );
const SURNAMES =
  'SILVA SANTOS OLIVEIRA SOUZA RODRIGUES FERREIRA ALVES PEREIRA LIMA GOMES COSTA RIBEIRO MARTINS CARVALHO ALMEIDA LOPES SOARES FERNANDES VIEIRA BARBOSA ROCHA DIAS NASCIMENTO ANDRADE MOREIRA NUNES MARQUES MACHADO MENDES FREITAS'.split(
    ' ',
  );

interface Region {
  readonly ddd: string;
  readonly city: string;
  readonly state: string;
  /** The city's range of 5-digit CEP prefixes. */
  readonly zipPrefixes: readonly [number, number];
  readonly districts: readonly string[];
}

/** São Paulo twice: it is where most leads come from. */
// prettier-ignore
const REGIONS: readonly Region[] = [
  { ddd: '11', city: 'SAO PAULO', state: 'SP', zipPrefixes: [1000, 5999], districts: ['CONSOLACAO', 'VILA MARIANA', 'PINHEIROS', 'MOOCA'] },
  { ddd: '11', city: 'SAO PAULO', state: 'SP', zipPrefixes: [1000, 5999], districts: ['SANTANA', 'TATUAPE', 'PERDIZES', 'BROOKLIN'] },
  { ddd: '21', city: 'RIO DE JANEIRO', state: 'RJ', zipPrefixes: [20000, 23799], districts: ['COPACABANA', 'TIJUCA', 'BOTAFOGO'] },
  { ddd: '31', city: 'BELO HORIZONTE', state: 'MG', zipPrefixes: [30000, 31999], districts: ['SAVASSI', 'FUNCIONARIOS', 'PAMPULHA'] },
  { ddd: '41', city: 'CURITIBA', state: 'PR', zipPrefixes: [80000, 82999], districts: ['BATEL', 'AGUA VERDE', 'CENTRO'] },
  { ddd: '51', city: 'PORTO ALEGRE', state: 'RS', zipPrefixes: [90000, 91999], districts: ['MOINHOS DE VENTO', 'MENINO DEUS'] },
  { ddd: '61', city: 'BRASILIA', state: 'DF', zipPrefixes: [70000, 72799], districts: ['ASA SUL', 'ASA NORTE', 'LAGO SUL'] },
  { ddd: '71', city: 'SALVADOR', state: 'BA', zipPrefixes: [40000, 42499], districts: ['BARRA', 'PITUBA', 'RIO VERMELHO'] },
  { ddd: '81', city: 'RECIFE', state: 'PE', zipPrefixes: [50000, 52999], districts: ['BOA VIAGEM', 'CASA FORTE', 'ESPINHEIRO'] },
  { ddd: '85', city: 'FORTALEZA', state: 'CE', zipPrefixes: [60000, 61599], districts: ['ALDEOTA', 'MEIRELES', 'COCO'] },
  { ddd: '19', city: 'CAMPINAS', state: 'SP', zipPrefixes: [13000, 13139], districts: ['CAMBUI', 'TAQUARAL', 'BARAO GERALDO'] },
  { ddd: '48', city: 'FLORIANOPOLIS', state: 'SC', zipPrefixes: [88000, 88099], districts: ['CENTRO', 'TRINDADE', 'LAGOA DA CONCEICAO'] },
  { ddd: '62', city: 'GOIANIA', state: 'GO', zipPrefixes: [74000, 74899], districts: ['SETOR BUENO', 'SETOR MARISTA', 'SETOR OESTE'] },
];

// prettier-ignore
const STREETS: ReadonlyArray<readonly [string, string]> = [
  ['R', 'AUGUSTA'], ['AV', 'BRASIL'], ['R', 'DAS FLORES'], ['R', 'SETE DE SETEMBRO'], ['R', 'XV DE NOVEMBRO'],
  ['AV', 'GETULIO VARGAS'], ['R', 'TIRADENTES'], ['AL', 'DOS ANJOS'], ['R', 'DOM PEDRO II'],
  ['AV', 'SANTOS DUMONT'], ['R', 'DAS PALMEIRAS'], ['TV', 'DO COMERCIO'], ['R', 'MARECHAL DEODORO'],
];

const PROFESSIONS: ReadonlyArray<{ readonly cbo: string; readonly description: string }> = [
  { cbo: '212405', description: 'Analista de desenvolvimento de sistemas' },
  { cbo: '223505', description: 'Enfermeiro' },
  { cbo: '241005', description: 'Advogado' },
  { cbo: '252210', description: 'Contador' },
  { cbo: '214205', description: 'Engenheiro civil' },
  { cbo: '225125', description: 'Médico clínico' },
  { cbo: '234505', description: 'Professor de ensino superior' },
  { cbo: '142105', description: 'Gerente administrativo' },
  { cbo: '354705', description: 'Representante comercial autônomo' },
  { cbo: '411005', description: 'Auxiliar de escritório' },
  { cbo: '521110', description: 'Vendedor de comércio varejista' },
  { cbo: '782305', description: 'Motorista de carro de passeio' },
];

const CARRIERS = ['VIVO', 'CLARO', 'TIM', 'OI'];
/** Reserved for documentation and tests (RFC 2606): mail never leaves. */
const EMAIL_DOMAINS = ['example.com', 'example.org', 'example.net', 'correio.example'];
const MARITAL_STATUSES = ['SOLTEIRO(A)', 'CASADO(A)', 'CASADO(A)', 'DIVORCIADO(A)', 'VIUVO(A)'];
const COMPANY_RELATIONS = ['SOCIO', 'SOCIO-ADMINISTRADOR', 'ADMINISTRADOR', 'TITULAR'];

/** Upper bounds (inclusive, in reais) of the purchasing-power bands. */
const PURCHASING_POWER: ReadonlyArray<{
  readonly upTo: number;
  readonly description: string;
  readonly band: string;
}> = [
  { upTo: 2500, description: 'BAIXO', band: 'Até R$ 2500' },
  { upTo: 4000, description: 'MEDIO BAIXO', band: 'De R$ 2501 até R$ 4000' },
  { upTo: 7017, description: 'MEDIO', band: 'De R$ 4001 até R$ 7017' },
  { upTo: 15000, description: 'ALTO', band: 'De R$ 7018 até R$ 15000' },
  { upTo: Infinity, description: 'MUITO ALTO', band: 'Acima de R$ 15000' },
];

/** Lower bounds of the risk bands of the credit score. */
// prettier-ignore
const RISK_BANDS: ReadonlyArray<readonly [number, string]> = [
  [900, 'BAIXISSIMO RISCO'], [700, 'BAIXO RISCO'], [500, 'MEDIO RISCO'], [300, 'ALTO RISCO'], [0, 'ALTISSIMO RISCO'],
];

/** mulberry32: tiny, fast and good enough to make fake people; never Math.random. */
class Dice {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** In [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** In [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new RangeError('nothing to pick from');
    return item;
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  digits(count: number): string {
    let text = '';
    for (let i = 0; i < count; i++) text += String(this.int(0, 9));
    return text;
  }
}

export function createPopulation(options: PopulationOptions = {}): Population {
  const seed = options.seed ?? 42;
  const size = options.size ?? 200;
  if (!Number.isInteger(size) || size < MIN_POPULATION) {
    throw new RangeError(`population size must be an integer of at least ${MIN_POPULATION}`);
  }
  const dice = new Dice(seed);
  const taken = { cpfs: new Set(RESERVED_CPFS), phones: new Set<string>(), emails: new Set<string>() };

  const people: SyntheticPerson[] = [];
  for (let index = 0; index < size; index++) people.push(drawPerson(dice, taken, index));

  const unknown = {
    phones: Array.from({ length: 8 }, () => drawMobile(dice, dice.pick(REGIONS), taken.phones)),
    emails: Array.from({ length: 8 }, () =>
      drawEmail(dice, dice.pick(FEMALE_NAMES.concat(MALE_NAMES)), dice.pick(SURNAMES), taken.emails),
    ),
    cpfs: Array.from({ length: 4 }, () => drawCpf(dice, taken.cpfs)),
  };

  // From the end of the list, away from the people the other sample leads use.
  const crossedPairs = Array.from({ length: 4 }, (_, k): CrossedPair => {
    const phoneOwner = people[size - 1 - 2 * k]!;
    const emailOwner = people[size - 2 - 2 * k]!;
    return {
      phone: phoneOwner.phones[0]!.number,
      email: emailOwner.emails[0]!,
      phoneOwner: phoneOwner.cpf,
      emailOwner: emailOwner.cpf,
    };
  });

  const cpfIndex = new Map(people.map((person) => [person.cpf, person]));
  const phoneIndex = new Map(
    people.flatMap((person) => person.phones.map((phone) => [phone.number, person] as const)),
  );
  const emailIndex = new Map(
    people.flatMap((person) => person.emails.map((email) => [email, person] as const)),
  );

  const population: Population = {
    seed,
    people,
    unknown,
    crossedPairs,
    byCpf: (cpf) => cpfIndex.get(cpf.replace(/\D/g, '')),
    byPhone: (national) => phoneIndex.get(national),
    byEmail: (email) => emailIndex.get(email.trim().toLowerCase()),
    sampleLeads: () => sampleLeads(population),
  };
  return population;
}

interface Taken {
  readonly cpfs: Set<string>;
  readonly phones: Set<string>;
  readonly emails: Set<string>;
}

function drawPerson(dice: Dice, taken: Taken, index: number): SyntheticPerson {
  const sex = dice.chance(0.5) ? 'F' : 'M';
  const firstName = dice.pick(sex === 'F' ? FEMALE_NAMES : MALE_NAMES);
  const motherSurname = dice.pick(SURNAMES);
  const fatherSurname = dice.pick(SURNAMES);
  const name = `${firstName} ${motherSurname} ${fatherSurname}`;
  const home = dice.pick(REGIONS);
  const cpf = drawCpf(dice, taken.cpfs);
  const income = Math.round(1412 * Math.exp(dice.next() * 3.2) * 100) / 100;
  const score = dice.int(80, 999);

  const phoneCount = dice.int(1, 3);
  const phones = Array.from({ length: phoneCount }, (_, i): SyntheticPhone => ({
    number: drawMobile(dice, i === 0 ? home : dice.pick(REGIONS), taken.phones),
    carrier: dice.pick(CARRIERS),
    whatsapp: i === 0,
  }));
  const emailCount = dice.int(1, 2);
  const emails = Array.from({ length: emailCount }, (_, i) =>
    drawEmail(dice, firstName, i === 0 ? fatherSurname : motherSurname, taken.emails),
  );
  const addressCount = dice.int(1, 2);
  const addresses = Array.from({ length: addressCount }, (_, i) =>
    drawAddress(dice, i === 0 ? home : dice.pick(REGIONS)),
  );
  const companyCount = dice.pick([0, 0, 0, 1, 1, 2]);
  const companies = Array.from({ length: companyCount }, (): SyntheticCompany => ({
    cnpj: drawCnpj(dice),
    relation: dice.pick(COMPANY_RELATIONS),
  }));

  return {
    cpf,
    name,
    birthDate: `${dice.int(1950, 2004)}-${pad2(dice.int(1, 12))}-${pad2(dice.int(1, 28))}`,
    sex,
    motherName: `${dice.pick(FEMALE_NAMES)} ${dice.pick(SURNAMES)} ${motherSurname}`,
    fatherName: `${dice.pick(MALE_NAMES)} ${dice.pick(SURNAMES)} ${fatherSurname}`,
    birthCity: dice.chance(0.7) ? home.city : dice.pick(REGIONS).city,
    maritalStatus: dice.pick(MARITAL_STATUSES),
    registrationStatus: dice.chance(0.95) ? 'REGULAR' : 'PENDENTE DE REGULARIZACAO',
    income,
    purchasingPower: PURCHASING_POWER.find((band) => income <= band.upTo)!,
    score,
    riskBand: RISK_BANDS.find(([from]) => score >= from)![1],
    profession: dice.pick(PROFESSIONS),
    phones,
    emails,
    addresses,
    companies,
    // Every fifth person, from the second: deterministic, so the phone-only sample lead has one.
    staleRecord: index % 5 === 1 ? { name, cpf: mistypedCpf(cpf) } : null,
  };
}

function drawCpf(dice: Dice, taken: Set<string>): string {
  for (;;) {
    const base = dice.digits(9);
    const cpf = `${base}${cpfCheckDigits(base)}`;
    if (/^(\d)\1{10}$/.test(cpf) || taken.has(cpf)) continue;
    taken.add(cpf);
    return cpf;
  }
}

/** The same base with other check digits: a CPF can have only one right pair, so this one is wrong. */
function mistypedCpf(cpf: string): string {
  return `${cpf.slice(0, 9)}${String((Number(cpf.slice(9)) + 1) % 100).padStart(2, '0')}`;
}

/** DDD + 9 + a digit from 6 to 9 + 7 digits, as Brazilian mobiles are. */
function drawMobile(dice: Dice, region: Region, taken: Set<string>): string {
  for (;;) {
    const number = `${region.ddd}9${dice.int(6, 9)}${dice.digits(7)}`;
    if (taken.has(number)) continue;
    taken.add(number);
    return number;
  }
}

function drawEmail(dice: Dice, firstName: string, surname: string, taken: Set<string>): string {
  const first = firstName.toLowerCase();
  const last = surname.toLowerCase();
  const local = dice.pick([
    `${first}.${last}`,
    `${first}${last}`,
    `${first.charAt(0)}${last}`,
    `${first}_${last}`,
  ]);
  const domain = dice.pick(EMAIL_DOMAINS);
  for (let suffix = ''; ; suffix = String(dice.int(1, 99))) {
    const email = `${local}${suffix}@${domain}`;
    if (taken.has(email)) continue;
    taken.add(email);
    return email;
  }
}

function drawAddress(dice: Dice, region: Region): SyntheticAddress {
  const [streetType, street] = dice.pick(STREETS);
  const [fromZip, toZip] = region.zipPrefixes;
  return {
    streetType,
    street,
    number: String(dice.int(1, 3000)),
    complement: dice.chance(0.5) ? `APTO ${dice.int(1, 25)}${dice.int(1, 4)}` : '',
    district: dice.pick(region.districts),
    city: region.city,
    state: region.state,
    zip: `${String(dice.int(fromZip, toZip)).padStart(5, '0')}${dice.digits(3)}`,
  };
}

/** 8-digit root, branch 0001, two mod-11 check digits with weights cycling 2..9 from the right. */
function drawCnpj(dice: Dice): string {
  let digits = `${dice.int(1, 9)}${dice.digits(7)}0001`;
  for (let round = 0; round < 2; round++) {
    let sum = 0;
    for (let i = 0; i < digits.length; i++) sum += Number(digits[i]) * (((digits.length - 1 - i) % 8) + 2);
    const r = sum % 11;
    digits += String(r < 2 ? 0 : 11 - r);
  }
  return digits;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** `ANA SOUZA LIMA` → `Ana Souza Lima`, as people type their names in C2S forms. */
function titleCase(name: string): string {
  return name.toLowerCase().replace(/\b\p{L}/gu, (letter) => letter.toUpperCase());
}

const PRODUCTS = [
  { ref: '101', description: 'Apartamento 3 quartos - Vila Mariana', price: 850000 },
  { ref: '214', description: 'Casa 4 quartos - Alphaville', price: 1750000 },
  { ref: '087', description: 'Studio 1 quarto - Pinheiros', price: 420000 },
  { ref: '330', description: 'Cobertura duplex - Moema', price: 2900000 },
  { ref: '152', description: 'Apartamento 2 quartos - Tatuapé', price: 610000 },
  { ref: '275', description: 'Sala comercial - Brooklin', price: 380000 },
];

/** Who a sample lead points at, and how its customer filled the form. */
interface ScenarioContacts {
  readonly expectedCpfs: readonly string[];
  readonly customer: SampleLead['attributes']['customer'];
  /** Appended to the description (where a CPF may hide). */
  readonly remark?: string;
}

/**
 * One lead per scenario, each on people of its own: the first of the list (the phone-only lead
 * on the first with a stale directory record, so clients meet an invalid CPF first) and the
 * first crossed pair. Phones come in the forms C2S sends: 55…, +55… and national.
 */
function sampleLeads(population: Population): SampleLead[] {
  const { people, unknown, crossedPairs } = population;
  const person = (index: number): SyntheticPerson => people[index]!;
  const withStaleRecord = people.find((candidate) => candidate.staleRecord !== null)!;
  const crossed = crossedPairs[0]!;
  const phoneOwner = population.byCpf(crossed.phoneOwner)!;

  const scenarios: Record<LeadScenario, ScenarioContacts> = {
    cpf_in_description: {
      expectedCpfs: [person(0).cpf],
      customer: { name: titleCase(person(0).name), phone: null, email: null },
      remark: `Cliente informou o CPF ${formatCpf(person(0).cpf)} por telefone.`,
    },
    phone_only: {
      expectedCpfs: [withStaleRecord.cpf],
      customer: {
        name: titleCase(withStaleRecord.name),
        phone: `55${withStaleRecord.phones[0]!.number}`,
        email: null,
      },
    },
    email_only: {
      expectedCpfs: [person(2).cpf],
      customer: { name: titleCase(person(2).name), phone: null, email: person(2).emails[0]! },
    },
    same_person: {
      expectedCpfs: [person(3).cpf],
      customer: {
        name: titleCase(person(3).name),
        phone: `+55${person(3).phones[0]!.number}`,
        email: person(3).emails[0]!,
      },
    },
    different_people: {
      expectedCpfs: [crossed.phoneOwner, crossed.emailOwner],
      customer: { name: titleCase(phoneOwner.name), phone: `55${crossed.phone}`, email: crossed.email },
    },
    no_match: {
      expectedCpfs: [],
      customer: { name: 'Fulano de Tal', phone: unknown.phones[0]!, email: unknown.emails[0]! },
    },
  };

  return LEAD_SCENARIOS.map((scenario, i): SampleLead => {
    const { customer, remark, expectedCpfs } = scenarios[scenario];
    const product = PRODUCTS[i % PRODUCTS.length]!;
    const at = `2026-11-20T10:${pad2(15 + i)}:00.000-03:00`;
    return {
      scenario,
      leadId: createHash('md5').update(`c2s-simulator:${population.seed}:${scenario}`).digest('hex'),
      expectedCpfs,
      attributes: {
        customer,
        description: remark ? `${product.description}. ${remark}` : product.description,
        product: {
          id: `p-${i + 1}`,
          description: `[${product.ref}] ${product.description}`,
          prop_ref: product.ref,
          price_float: product.price,
        },
        seller: { id: 's-3', name: 'Carlos Vendedor', email: 'carlos.vendedor@example.com' },
        lead_source: { id: 542, name: 'Site' },
        lead_status: { id: 1, alias: 'new', name: 'Novo' },
        created_at: at,
        updated_at: at,
      },
    };
  });
}
