import type { Config } from '../config.ts';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics.ts';
import { startC2sSimulator } from '../simulators/c2s.ts';
import { startDiretrixSimulator } from '../simulators/diretrix.ts';
import { createPopulation } from '../simulators/population.ts';
import { startWorkApiSimulator } from '../simulators/workapi.ts';
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

/**
 * The three provider clients sharing one HTTP agent. Outside production, a provider whose
 * credentials are absent runs against a built-in simulator (demo mode), loudly announced; its
 * limiter is off, since the simulator has no quota to protect.
 */
export async function createProviders(config: Config, logger: Logger, metrics: Metrics): Promise<Providers> {
  const agent = createHttpAgent({ connectMs: 5_000, responseMs: 30_000 });
  const closers: Array<() => Promise<void>> = [() => agent.close()];
  const simulated: Record<string, string> = {};
  const population = createPopulation({ seed: 42 });
  const guard = (name: string, ratePerMinute: number, isSimulated: boolean) =>
    createProviderGuard(name, { ratePerMinute: isSimulated ? 0 : ratePerMinute }, metrics);

  try {
    const { c2s: c2sConfig, diretrix: diretrixConfig, workApi: workConfig } = config.providers;

    let c2sBase = c2sConfig.baseUrl;
    let c2sToken = c2sConfig.token;
    if (c2sToken === undefined) {
      c2sToken = 'demo-token';
      const simulator = await startC2sSimulator({ token: c2sToken });
      closers.push(() => simulator.close());
      c2sBase = simulated.c2s = simulator.url;
    }

    const { baseUrl: diretrixUrl, user, pass } = diretrixConfig;
    let diretrix: { baseUrl: string; user: string; pass: string };
    if (diretrixUrl !== undefined && user !== undefined && pass !== undefined) {
      diretrix = { baseUrl: diretrixUrl, user, pass };
    } else {
      const simulator = await startDiretrixSimulator({ user: 'demo', pass: 'demo', population });
      closers.push(() => simulator.close());
      diretrix = { baseUrl: (simulated.diretrix = simulator.url), user: 'demo', pass: 'demo' };
    }

    let workBase = workConfig.baseUrl;
    let workToken = workConfig.token;
    if (workToken === undefined) {
      workToken = 'demo-token';
      const simulator = await startWorkApiSimulator({ token: workToken, population });
      closers.push(() => simulator.close());
      workBase = simulated.workapi = simulator.url;
    }

    for (const [provider, url] of Object.entries(simulated)) {
      logger.warn(
        { provider, simulator: url },
        `DEMO MODE: ${provider} has no credentials; calls go to the built-in simulator`,
      );
    }

    return {
      c2s: createC2sClient({
        baseUrl: c2sBase,
        token: c2sToken,
        gatewayUrl: c2sConfig.gatewayUrl,
        dispatcher: agent,
        timeoutMs: c2sConfig.timeoutMs,
        guard: guard('c2s', c2sConfig.ratePerMinute, 'c2s' in simulated),
        listGuard: guard('c2s', C2S_LIST_RATE_PER_MINUTE, 'c2s' in simulated),
      }),
      diretrix: createDiretrixClient({
        baseUrl: diretrix.baseUrl,
        user: diretrix.user,
        pass: diretrix.pass,
        dispatcher: agent,
        timeoutMs: diretrixConfig.timeoutMs,
        guard: guard('diretrix', diretrixConfig.ratePerMinute, 'diretrix' in simulated),
      }),
      workApi: createWorkApiClient({
        baseUrl: workBase,
        token: workToken,
        dispatcher: agent,
        timeoutMs: workConfig.timeoutMs,
        guard: guard('workapi', workConfig.ratePerMinute, 'workapi' in simulated),
      }),
      simulated,
      close: async () => {
        for (const close of closers.reverse()) await close();
      },
    };
  } catch (error) {
    for (const close of closers.reverse()) await close().catch(() => {});
    throw error;
  }
}
