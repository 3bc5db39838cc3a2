import type { FaultPlan, LookupFault } from './faults.ts';
import { startLookupServer, type SimAnswer, type SimRequest } from './lookup-server.ts';
import type { Population, SyntheticPerson } from './population.ts';

export interface DiretrixSimulator {
  readonly url: string;
  readonly faults: FaultPlan<LookupFault>;
  /** Calls received per route (`phone`, `email`). */
  calls(route: string): number;
  close(): Promise<void>;
}

export interface DiretrixSimulatorOptions {
  readonly user: string;
  readonly pass: string;
  readonly population: Population;
  readonly port?: number;
  readonly host?: string;
}

/** One entry of a Diretrix answer. */
export interface DiretrixEntry {
  readonly nome: string;
  readonly cpf: string;
}

const LOOKUP_ROUTE = /^\/Consultas\/Pessoa\/(Telefone|Email)\/([^/]+)\/?$/i;

/** The vendor's API looks like ASP.NET Web API: its errors carry a `Message`. */
const UNAUTHORIZED: SimAnswer = {
  status: 401,
  body: { Message: 'Authorization has been denied for this request.' },
  headers: { 'www-authenticate': 'Basic realm="Diretrix"' },
};

/**
 * Diretrix: find people by phone (national digits, no 55) or e-mail, behind HTTP Basic auth.
 * Answers `[{nome, cpf}]`, a stale entry with an invalid CPF first for some people; 404 when
 * nobody matches, 400 for malformed input. Routes for faults and calls: `phone`, `email`.
 */
export async function startDiretrixSimulator(options: DiretrixSimulatorOptions): Promise<DiretrixSimulator> {
  const credentials = `Basic ${Buffer.from(`${options.user}:${options.pass}`).toString('base64')}`;
  const { population } = options;
  return startLookupServer({
    port: options.port,
    host: options.host,
    inBand: {
      errorBody: { status: 200, body: { Message: 'An error has occurred.' } },
      expiredToken: UNAUTHORIZED,
      malformedBody: '[{"nome": "',
    },
    resolve(request: SimRequest) {
      const match = LOOKUP_ROUTE.exec(request.url.pathname);
      if (request.method !== 'GET' || !match) {
        return {
          refuse: {
            status: 404,
            body: { Message: 'No HTTP resource was found that matches the request URI.' },
          },
        };
      }
      if (request.headers.authorization !== credentials) return { refuse: UNAUTHORIZED };
      const segment = match[2]!;
      return match[1]!.toLowerCase() === 'telefone'
        ? { route: 'phone', answer: () => answerPhone(population, segment) }
        : { route: 'email', answer: () => answerEmail(population, segment) };
    },
  });
}

function answerPhone(population: Population, segment: string): SimAnswer {
  const phone = decode(segment);
  if (phone === undefined || !/^\d{10,11}$/.test(phone)) return badRequest('Telefone inválido');
  return answerPerson(population.byPhone(phone));
}

function answerEmail(population: Population, segment: string): SimAnswer {
  const email = decode(segment);
  if (email === undefined || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) return badRequest('E-mail inválido');
  return answerPerson(population.byEmail(email));
}

function answerPerson(person: SyntheticPerson | undefined): SimAnswer {
  if (!person) return { status: 404, body: { Message: 'Nenhum registro encontrado' } };
  const entries: DiretrixEntry[] = [{ nome: person.name, cpf: person.cpf }];
  if (person.staleRecord) entries.unshift({ nome: person.staleRecord.name, cpf: person.staleRecord.cpf });
  return { status: 200, body: entries };
}

function badRequest(message: string): SimAnswer {
  return { status: 400, body: { Message: message } };
}

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined; // a lone `%` is malformed input, not a crash
  }
}
