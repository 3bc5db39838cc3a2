import type { Config, ProviderSettings } from '../config.ts';
import type { ProviderName } from '../errors.ts';
import type { Metrics } from '../metrics.ts';
import { createC2sClient, type C2sClient } from './c2s/client.ts';
import { createDiretrixClient, type DiretrixClient } from './diretrix/client.ts';
import { createProviderGuard } from './guard.ts';
import type { HealthRecorder } from './health.ts';
import { createHttpAgent } from './http.ts';
import { createWorkApiClient, type WorkApiClient } from './workapi/client.ts';

export interface Providers {
  readonly c2s: C2sClient;
  readonly diretrix: DiretrixClient;
  readonly workApi: WorkApiClient;
  close(): Promise<void>;
}

/** Listing pace when none is configured: one call of slack under C2S's about 10 a minute. */
const C2S_LIST_RATE_PER_MINUTE = 9;

/** Where the three clients send their calls, with which credentials, and how fast. */
export interface ProviderEndpoints {
  readonly c2s: ProviderSettings & {
    readonly baseUrl: string;
    readonly token: string;
    readonly gatewayUrl?: string | undefined;
    /** Listing calls per minute (default: just under the real API's limit); 0 turns that limiter off. */
    readonly listRatePerMinute?: number;
    /** Wait after a listing 429 without Retry-After (default: C2S's 65 s). */
    readonly listPenaltyMs?: number;
  };
  readonly diretrix: ProviderSettings & {
    readonly baseUrl: string;
    readonly user: string;
    readonly pass: string;
  };
  readonly workApi: ProviderSettings & { readonly baseUrl: string; readonly token: string };
}

/**
 * The three provider clients, sharing one HTTP agent, calling the providers `endpoints` name.
 * Which providers those are (the real ones, or demo mode's simulators) is the caller's choice:
 * see `providerEndpoints` and `src/demo.ts`.
 */
export function createProviders(
  endpoints: ProviderEndpoints,
  metrics: Metrics,
  health?: HealthRecorder,
): Providers {
  const { c2s, diretrix, workApi } = endpoints;
  const agent = createHttpAgent({ connectMs: 5_000, responseMs: 30_000 });
  const guard = (name: ProviderName, ratePerMinute: number) =>
    createProviderGuard(name, { ratePerMinute, health }, metrics);
  const listRate = c2s.listRatePerMinute ?? C2S_LIST_RATE_PER_MINUTE;
  // C2S counts listing calls in a sliding minute: every call is spaced at the rate (burst 1), so
  // no minute ever holds more than the rate. A wait longer than one spacing (after a 429) is
  // handed back to the listing, which waits where a stop can interrupt it.
  const listGuard = createProviderGuard(
    'c2s',
    {
      ratePerMinute: listRate,
      burst: 1,
      maxQueueWaitMs: listRate === 0 ? undefined : Math.ceil(60_000 / listRate) + 1000,
      health,
    },
    metrics,
  );

  return {
    c2s: createC2sClient({
      baseUrl: c2s.baseUrl,
      token: c2s.token,
      gatewayUrl: c2s.gatewayUrl,
      dispatcher: agent,
      timeoutMs: c2s.timeoutMs,
      guard: guard('c2s', c2s.ratePerMinute),
      listGuard,
      listPenaltyMs: c2s.listPenaltyMs,
      gatewayGuard: guard('c2s_gateway', c2s.ratePerMinute),
    }),
    diretrix: createDiretrixClient({
      baseUrl: diretrix.baseUrl,
      user: diretrix.user,
      pass: diretrix.pass,
      dispatcher: agent,
      timeoutMs: diretrix.timeoutMs,
      guard: guard('diretrix', diretrix.ratePerMinute),
    }),
    workApi: createWorkApiClient({
      baseUrl: workApi.baseUrl,
      token: workApi.token,
      dispatcher: agent,
      timeoutMs: workApi.timeoutMs,
      guard: guard('workapi', workApi.ratePerMinute),
    }),
    close: () => agent.close(),
  };
}

/** The configured (real) providers. loadConfig has refused partial credentials, so all are set. */
export function providerEndpoints(providers: Config['providers']): ProviderEndpoints {
  const { c2s, diretrix, workApi } = providers;
  const present = (name: string, value: string | undefined): string => {
    if (value === undefined) throw new Error(`${name} is not set`);
    return value;
  };
  return {
    c2s: { ...c2s, token: present('C2S_TOKEN', c2s.token) },
    diretrix: {
      ...diretrix,
      baseUrl: present('DIRETRIX_BASE_URL', diretrix.baseUrl),
      user: present('DIRETRIX_USER', diretrix.user),
      pass: present('DIRETRIX_PASS', diretrix.pass),
    },
    workApi: { ...workApi, token: present('WORK_API', workApi.token) },
  };
}
