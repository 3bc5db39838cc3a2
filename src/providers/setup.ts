import type { Config } from '../config.ts';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics.ts';
import { createC2sClient, type C2sClient } from './c2s/client.ts';
import { createDiretrixClient, type DiretrixClient } from './diretrix/client.ts';
import { createProviderGuard } from './guard.ts';
import { createHttpAgent } from './http.ts';
import { createWorkApiClient, type WorkApiClient } from './workapi/client.ts';

export interface Providers {
  readonly c2s: C2sClient;
  readonly diretrix: DiretrixClient;
  readonly workApi: WorkApiClient;
  /** Providers running against the built-in simulators (demo mode), with their URLs. */
  readonly simulated: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

/** The real API's listing limit: about 10 calls a minute. */
const C2S_LIST_RATE_PER_MINUTE = 10;

/** Where the three clients send their calls, and with which credentials. */
interface Endpoints {
  readonly c2s: { readonly baseUrl: string; readonly token: string };
  readonly diretrix: { readonly baseUrl: string; readonly user: string; readonly pass: string };
  readonly workApi: { readonly baseUrl: string; readonly token: string };
  readonly simulated: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

/**
 * The three provider clients sharing one HTTP agent: all three real, or (demo mode: no
 * credentials at all, never in production; see loadConfig) all three against the built-in
 * simulators, loudly announced, with their limiters off since a simulator has no quota to protect.
 * Never a mix: a real CRM must not receive a note built from simulated people.
 */
export async function createProviders(config: Config, logger: Logger, metrics: Metrics): Promise<Providers> {
  const { c2s: c2sConfig, diretrix: diretrixConfig, workApi: workConfig } = config.providers;
  const endpoints = config.providers.demo ? await startSimulators(logger) : realEndpoints(config);
  const demo = config.providers.demo;
  const agent = createHttpAgent({ connectMs: 5_000, responseMs: 30_000 });
  const guard = (name: string, ratePerMinute: number) =>
    createProviderGuard(name, { ratePerMinute: demo ? 0 : ratePerMinute }, metrics);

  return {
    c2s: createC2sClient({
      ...endpoints.c2s,
      gatewayUrl: demo ? undefined : c2sConfig.gatewayUrl,
      dispatcher: agent,
      timeoutMs: c2sConfig.timeoutMs,
      guard: guard('c2s', c2sConfig.ratePerMinute),
      listGuard: guard('c2s', C2S_LIST_RATE_PER_MINUTE),
    }),
    diretrix: createDiretrixClient({
      ...endpoints.diretrix,
      dispatcher: agent,
      timeoutMs: diretrixConfig.timeoutMs,
      guard: guard('diretrix', diretrixConfig.ratePerMinute),
    }),
    workApi: createWorkApiClient({
      ...endpoints.workApi,
      dispatcher: agent,
      timeoutMs: workConfig.timeoutMs,
      guard: guard('workapi', workConfig.ratePerMinute),
    }),
    simulated: endpoints.simulated,
    close: async () => {
      await agent.close();
      await endpoints.close();
    },
  };
}

function realEndpoints(config: Config): Endpoints {
  const { c2s, diretrix, workApi } = config.providers;
  // loadConfig has refused partial credentials, so outside demo mode every one is set.
  const present = (name: string, value: string | undefined): string => {
    if (value === undefined) throw new Error(`${name} is not set, yet demo mode is off`);
    return value;
  };
  return {
    c2s: { baseUrl: c2s.baseUrl, token: present('C2S_TOKEN', c2s.token) },
    diretrix: {
      baseUrl: present('DIRETRIX_BASE_URL', diretrix.baseUrl),
      user: present('DIRETRIX_USER', diretrix.user),
      pass: present('DIRETRIX_PASS', diretrix.pass),
    },
    workApi: { baseUrl: workApi.baseUrl, token: present('WORK_API', workApi.token) },
    simulated: {},
    close: async () => {},
  };
}

/**
 * The three simulators and the synthetic population they share. Imported only here, so a real
 * deployment never loads nor builds the population.
 */
async function startSimulators(logger: Logger): Promise<Endpoints> {
  const [{ createPopulation }, { startC2sSimulator }, { startDiretrixSimulator }, { startWorkApiSimulator }] =
    await Promise.all([
      import('../simulators/population.ts'),
      import('../simulators/c2s.ts'),
      import('../simulators/diretrix.ts'),
      import('../simulators/workapi.ts'),
    ]);
  const population = createPopulation({ seed: 42 });
  const token = 'demo-token';
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
  };
  try {
    const c2s = await startC2sSimulator({ token });
    closers.push(() => c2s.close());
    const diretrix = await startDiretrixSimulator({ user: 'demo', pass: 'demo', population });
    closers.push(() => diretrix.close());
    const workApi = await startWorkApiSimulator({ token, population });
    closers.push(() => workApi.close());
    const simulated = { c2s: c2s.url, diretrix: diretrix.url, workapi: workApi.url };
    for (const [provider, url] of Object.entries(simulated)) {
      logger.warn(
        { provider, simulator: url },
        `DEMO MODE: ${provider} has no credentials; calls go to the built-in simulator`,
      );
    }
    return {
      c2s: { baseUrl: c2s.url, token },
      diretrix: { baseUrl: diretrix.url, user: 'demo', pass: 'demo' },
      workApi: { baseUrl: workApi.url, token },
      simulated,
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
