import type { FaultPlan, LookupFault } from './faults.ts';
import { startLookupServer, type SimAnswer, type SimRequest } from './lookup-server.ts';
import type { Population, SyntheticPerson } from './population.ts';

export interface WorkApiSimulator {
  readonly url: string;
  readonly faults: FaultPlan<LookupFault>;
  /** Calls received per route (`cpf`, `phone`): the metered lookups a client paid for. */
  calls(route: string): number;
  /** Calls per route and CPF or phone looked up: a lookup paid twice shows as a count above 1. */
  callsByKey(route: string): ReadonlyMap<string, number>;
  close(): Promise<void>;
}

export interface WorkApiSimulatorOptions {
  readonly token: string;
  readonly population: Population;
  readonly port?: number;
  readonly host?: string;
}

/**
 * The CPFs of providers.md's examples answer HTTP 404; any other CPF of nobody answers
 * HTTP 200 `{"erro": …}`. Both mean "not found" and clients must take both so.
 */
export const HTTP_404_CPFS: readonly string[] = ['11144477735', '12345678909'];

/**
 * What the service must drop on arrival (providers.md, "Whitelist"). The simulator fills each
 * with synthetic values, so a test can prove none of them is stored.
 */
export const FIELDS_TO_DROP = {
  dadosBasicos: ['cor', 'cns', 'pis'],
  topLevel: [
    'parentes',
    'vizinhos',
    'imunoBiologicos',
    'DadosImposto',
    'beneficios',
    'comprasId',
    'internet',
    'tituloEleitor',
    'registroGeral',
  ],
} as const;

/** Token expired or quota used up: HTTP 200, as the real API answers it. */
const EXPIRED_TOKEN = { status: 403, statusMsg: 'Forbidden', reason: 'Token vencido ou inválido' };
const NOT_FOUND = { erro: 'CPF não encontrado' };

/**
 * The Work API ("Completa"): `GET /api?token=…&modulo=cpf|phone&consulta=…`, token in the
 * query string, errors in-band with HTTP 200. Routes for faults and calls: `cpf`, `phone`.
 */
export async function startWorkApiSimulator(options: WorkApiSimulatorOptions): Promise<WorkApiSimulator> {
  const { population } = options;
  return startLookupServer({
    port: options.port,
    host: options.host,
    inBand: {
      errorBody: {
        status: 200,
        body: { status: 500, statusMsg: 'Internal Server Error', reason: 'Falha temporária na consulta' },
      },
      expiredToken: { status: 200, body: EXPIRED_TOKEN },
      malformedBody: '{"status": 200, "DadosBasicos": {"nome": ',
    },
    resolve(request: SimRequest) {
      if (request.method !== 'GET' || !/^\/api\/?$/.test(request.url.pathname)) {
        return { refuse: { status: 404, body: { erro: 'Not Found' } } };
      }
      const query = request.url.searchParams;
      if (query.get('token') !== options.token) return { refuse: { status: 200, body: EXPIRED_TOKEN } };
      const consulta = query.get('consulta') ?? '';
      const modulo = query.get('modulo');
      if (modulo === 'cpf')
        return { route: 'cpf', key: consulta, answer: () => answerCpf(population, consulta) };
      if (modulo === 'phone')
        return { route: 'phone', key: consulta, answer: () => answerPhone(population, consulta) };
      return { refuse: { status: 200, body: { erro: 'Módulo inválido' } } };
    },
  });
}

function answerCpf(population: Population, consulta: string): SimAnswer {
  if (!/^\d{11}$/.test(consulta)) return { status: 200, body: { erro: 'CPF inválido' } };
  if (HTTP_404_CPFS.includes(consulta)) return { status: 404, body: NOT_FOUND };
  const person = population.byCpf(consulta);
  return person
    ? { status: 200, body: workApiDossier(person, population) }
    : { status: 200, body: NOT_FOUND };
}

/** `cpf_cnpj` is zero-padded to 14: the CPF is its last 11 digits. */
function answerPhone(population: Population, consulta: string): SimAnswer {
  const person = /^\d{10,11}$/.test(consulta) ? population.byPhone(consulta) : undefined;
  return {
    status: 200,
    body: { msg: person ? [{ cpf_cnpj: person.cpf.padStart(14, '0'), nome: person.name }] : [] },
  };
}

/**
 * The full `modulo=cpf` answer for a person, with the fields that must be dropped downstream
 * filled in. Those are derived from the CPF, so they are as deterministic as the person.
 */
export function workApiDossier(person: SyntheticPerson, population: Population) {
  const { cpf } = person;
  const digit = (i: number): number => Number(cpf[i]);
  const [year, month, day] = person.birthDate.split('-');
  const index = population.people.indexOf(person);
  const neighbour = population.people[(index + 1) % population.people.length] ?? person;
  return {
    status: 200,
    DadosBasicos: {
      nome: person.name,
      cpf,
      dataNascimento: `${day}/${month}/${year}`,
      sexo: person.sex === 'F' ? 'F - FEMININO' : 'M - MASCULINO',
      nomeMae: person.motherName,
      nomePai: person.fatherName,
      cor: ['BRANCA', 'PARDA', 'PRETA', 'AMARELA', 'INDIGENA'][digit(0) % 5],
      cns: `7${cpf}${cpf.slice(0, 3)}`,
      pis: `1${cpf.slice(0, 10)}`,
      municipioNascimento: person.birthCity,
      escolaridade: ['MEDIO COMPLETO', 'SUPERIOR COMPLETO', 'SUPERIOR INCOMPLETO', 'POS-GRADUACAO'][
        digit(1) % 4
      ],
      estadoCivil: person.maritalStatus,
      obito: { obito: 'NÃO' },
      situacaoCadastral: { descricaoSituacaoCadastral: person.registrationStatus },
    },
    DadosEconomicos: {
      renda: person.income.toFixed(2).replace('.', ','),
      poderAquisitivo: {
        poderAquisitivoDescricao: person.purchasingPower.description,
        faixaPoderAquisitivo: person.purchasingPower.band,
      },
      score: { scoreCSBA: String(person.score), scoreCSBAFaixaRisco: person.riskBand },
    },
    profissao: { cbo: person.profession.cbo, cboDescricao: person.profession.description },
    empresas: person.companies.map((company) => ({ cnpj: company.cnpj, relacao: company.relation })),
    enderecos: person.addresses.map((address) => ({
      tipoLogradouro: address.streetType,
      logradouro: address.street,
      logradouroNumero: address.number,
      complemento: address.complement,
      bairro: address.district,
      cidade: address.city,
      uf: address.state,
      cep: address.zip,
    })),
    telefones: person.phones.map((phone) => ({
      telefone: phone.number,
      tipo: 'TELEFONE MOVEL',
      operadora: phone.carrier,
      whatsapp: phone.whatsapp ? 'SIM' : 'NAO',
      status: 'ATIVO',
    })),
    emails: person.emails.map((email, i) => ({
      email,
      prioridade: i === 0 ? 'MUITO ALTA' : 'ALTA',
      qualidade: i === 0 ? 'OTIMO' : 'BOM',
    })),
    parentes: [
      { nome: person.motherName, grauParentesco: 'MAE' },
      { nome: person.fatherName, grauParentesco: 'PAI' },
    ],
    vizinhos: [{ nome: neighbour.name, cpf: neighbour.cpf }],
    imunoBiologicos: [
      { imunobiologico: 'COVID-19', dose: '1ª DOSE', dataAplicacao: `1${digit(2) % 9}/07/2021` },
    ],
    DadosImposto: [{ anoExercicio: '2025', situacao: digit(3) % 2 === 0 ? 'CREDITADA' : 'EM PROCESSAMENTO' }],
    beneficios: [
      { beneficio: 'AUXILIO EXEMPLO', valor: `${600 + digit(4) * 10},00`, competencia: '03/2024' },
    ],
    comprasId: [{ loja: 'LOJA EXEMPLO', valor: `${100 + digit(5)},90`, data: '10/10/2025' }],
    // 192.0.2.0/24 is reserved for documentation (RFC 5737).
    internet: { provedor: 'FIBRA EXEMPLO', ip: `192.0.2.${Number(cpf.slice(7, 9)) + 1}` },
    tituloEleitor: {
      numero: `${cpf.slice(0, 10)}01`,
      zona: `0${cpf.slice(2, 4)}`,
      secao: `0${cpf.slice(4, 7)}`,
    },
    registroGeral: { rg: cpf.slice(0, 9), orgaoEmissor: 'SSP', uf: person.addresses[0]?.state ?? 'SP' },
  };
}
