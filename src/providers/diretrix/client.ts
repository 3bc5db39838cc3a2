import type { Dispatcher } from 'undici';
import { ProviderMalformedBodyError } from '../../errors.ts';
import type { ProviderGuard } from '../guard.ts';
import { callProvider, statusError } from '../http.ts';

/** One match: Diretrix may answer several people for one contact. */
export interface DiretrixMatch {
  readonly name: string | null;
  readonly cpf: string;
}

export interface DiretrixClient {
  /** By national number (DDD + number, digits, no 55). Empty when nobody matches. */
  findByPhone(national: string, signal?: AbortSignal): Promise<DiretrixMatch[]>;
  findByEmail(email: string, signal?: AbortSignal): Promise<DiretrixMatch[]>;
}

export interface DiretrixClientOptions {
  readonly baseUrl: string;
  readonly user: string;
  readonly pass: string;
  readonly dispatcher: Dispatcher;
  /** Total deadline of each call, headers and body together. */
  readonly timeoutMs: number;
  /** The largest answer body read (bytes); default 2 MiB. */
  readonly maxResponseBytes?: number;
  readonly guard: ProviderGuard;
}

/** Diretrix: who owns a phone or an e-mail (HTTP Basic auth; 400 and 404 both mean not found). */
export function createDiretrixClient(options: DiretrixClientOptions): DiretrixClient {
  const headers = {
    authorization: `Basic ${Buffer.from(`${options.user}:${options.pass}`).toString('base64')}`,
    accept: 'application/json',
  };
  const lookup = (operation: 'phone' | 'email', path: string, signal?: AbortSignal) =>
    options.guard.run(operation, async () => {
      const answer = await callProvider(options.dispatcher, {
        provider: 'diretrix',
        method: 'GET',
        url: `${options.baseUrl}${path}`,
        headers,
        signal,
        timeoutMs: options.timeoutMs,
        maxResponseBytes: options.maxResponseBytes,
      });
      if (answer.status === 404 || answer.status === 400) return { value: [], result: 'not_found' };
      if (answer.status !== 200) throw statusError('diretrix', 'GET', answer);
      const matches = matchesFrom(answer.text);
      return { value: matches, result: matches.length === 0 ? 'not_found' : 'ok' };
    });

  return {
    findByPhone: (national, signal) =>
      lookup('phone', `/Consultas/Pessoa/Telefone/${encodeURIComponent(national)}`, signal),
    findByEmail: (email, signal) =>
      lookup('email', `/Consultas/Pessoa/Email/${encodeURIComponent(email)}`, signal),
  };
}

function matchesFrom(text: string): DiretrixMatch[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new ProviderMalformedBodyError('diretrix', {
      message: 'diretrix answered a body that is not JSON',
      cause: error,
    });
  }
  if (!Array.isArray(body))
    throw new ProviderMalformedBodyError('diretrix', {
      message: 'diretrix answered something other than a list',
    });
  return body.flatMap((entry: unknown) => {
    const { cpf, nome } = (entry ?? {}) as { cpf?: unknown; nome?: unknown };
    if (typeof cpf !== 'string' && typeof cpf !== 'number') return [];
    return [
      { cpf: String(cpf).replace(/\D/g, '').padStart(11, '0'), name: typeof nome === 'string' ? nome : null },
    ];
  });
}
