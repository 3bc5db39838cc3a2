import type { Dispatcher } from 'undici';
import {
  ProviderMalformedBodyError,
  ProviderRateLimitedError,
  ProviderServerError,
  ProviderTokenRefusedError,
} from '../../errors.ts';
import type { ProviderGuard } from '../guard.ts';
import { callProvider, statusError, type ProviderAnswer } from '../http.ts';

export interface WorkApiClient {
  /** The raw `modulo=cpf` answer, or null when the CPF is not found. Filter it before keeping anything. */
  fetchDossier(cpf: string, signal?: AbortSignal): Promise<Record<string, unknown> | null>;
  /** CPFs registered for a national phone number (`modulo=phone`). */
  findByPhone(national: string, signal?: AbortSignal): Promise<string[]>;
}

export interface WorkApiClientOptions {
  readonly baseUrl: string;
  readonly token: string;
  readonly dispatcher: Dispatcher;
  /** Total deadline of each call, headers and body together. */
  readonly timeoutMs: number;
  /** The largest answer body read (bytes); default 2 MiB. */
  readonly maxResponseBytes?: number;
  readonly guard: ProviderGuard;
}

/** How long to wait before trying again when the token is refused (expired, or quota used up). */
const TOKEN_REFUSED_RETRY_MS = 10 * 60_000;

/**
 * The Work API ("Completa"). Its token travels in the query string, so the URL is never logged
 * and never put in an error. Errors come back as HTTP 200 with an error body.
 */
export function createWorkApiClient(options: WorkApiClientOptions): WorkApiClient {
  const query = (operation: 'cpf' | 'phone', consulta: string, signal?: AbortSignal) =>
    callProvider(options.dispatcher, {
      provider: 'workapi',
      method: 'GET',
      url: `${options.baseUrl}/api?${new URLSearchParams({ token: options.token, modulo: operation, consulta }).toString()}`,
      headers: { accept: 'application/json' },
      signal,
      timeoutMs: options.timeoutMs,
      maxResponseBytes: options.maxResponseBytes,
    });

  return {
    fetchDossier: (cpf, signal) =>
      options.guard.run('cpf', async () => {
        const answer = await query('cpf', cpf, signal);
        const body = bodyOf(answer);
        if (
          body === null ||
          typeof body.erro === 'string' ||
          typeof body.DadosBasicos !== 'object' ||
          body.DadosBasicos === null
        ) {
          return { value: null, result: 'not_found' };
        }
        return { value: body };
      }),

    findByPhone: (national, signal) =>
      options.guard.run('phone', async () => {
        const body = bodyOf(await query('phone', national, signal));
        const list = Array.isArray(body?.msg) ? (body.msg as unknown[]) : [];
        const cpfs = list.flatMap((entry) => {
          const value = (entry as { cpf_cnpj?: unknown } | null)?.cpf_cnpj;
          const digits =
            typeof value === 'string' || typeof value === 'number' ? String(value).replace(/\D/g, '') : '';
          // cpf_cnpj is zero-padded to 14 digits: a CPF is its last 11.
          return digits.length === 14 && digits.startsWith('000')
            ? [digits.slice(3)]
            : digits.length === 11
              ? [digits]
              : [];
        });
        return { value: cpfs, result: cpfs.length === 0 ? 'not_found' : 'ok' };
      }),
  };
}

/** The JSON body of an answer, or null for "not found"; provider errors become typed errors. */
function bodyOf(answer: ProviderAnswer): Record<string, unknown> | null {
  if (answer.status === 404) return null;
  if (answer.status !== 200) throw statusError('workapi', 'GET', answer);
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch (error) {
    throw new ProviderMalformedBodyError('workapi', {
      message: 'the Work API answered a body that is not JSON',
      cause: error,
    });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ProviderMalformedBodyError('workapi', {
      message: 'the Work API answered something other than an object',
    });
  }
  const record = body as Record<string, unknown>;
  const status = Number(record.status);
  if (status === 401 || status === 403 || status === 402) {
    // Token expired or quota used up: an outage for every lookup until someone acts.
    throw new ProviderTokenRefusedError('workapi', {
      status,
      message: `the Work API refused the token (status ${status})`,
      retryAfterMs: TOKEN_REFUSED_RETRY_MS,
    });
  }
  if (status === 429)
    throw new ProviderRateLimitedError('workapi', {
      status,
      message: 'the Work API answered 429 in its body',
    });
  if (status >= 500)
    throw new ProviderServerError('workapi', {
      status,
      method: 'GET',
      message: `the Work API answered status ${status} in its body`,
    });
  return record;
}
