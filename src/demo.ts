import type { Config } from './config.ts';
import type { Logger } from './log/logger.ts';
import type { ProviderEndpoints } from './providers/setup.ts';

/** Demo mode's providers: the three simulators, running, and where the clients find them. */
export interface DemoProviders {
  readonly endpoints: ProviderEndpoints;
  /** Each simulator's URL by provider, for the startup log and the runtime file. */
  readonly simulators: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

/**
 * Demo mode (no provider credentials at all, never in production; see loadConfig): starts the
 * three built-in simulators on the synthetic population and points the clients at them, loudly
 * announced, with every limiter off since a simulator has no quota to protect. Never a mix: a
 * real CRM must not receive a note built from simulated people.
 *
 * The simulators and the population are imported here, when called, and only here: a real
 * deployment never loads nor builds them.
 */
export async function startDemoProviders(
  providers: Config['providers'],
  logger: Logger,
): Promise<DemoProviders> {
  const [{ createPopulation }, { startC2sSimulator }, { startDiretrixSimulator }, { startWorkApiSimulator }] =
    await Promise.all([
      import('./simulators/population.ts'),
      import('./simulators/c2s.ts'),
      import('./simulators/diretrix.ts'),
      import('./simulators/workapi.ts'),
    ]);
  const population = createPopulation({ seed: 42 });
  const token = 'demo-token';
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
  };
  try {
    // The listing's rate limit off too, like every limiter in demo mode.
    const c2s = await startC2sSimulator({ token, listLimitPerWindow: 0 });
    closers.push(() => c2s.close());
    const diretrix = await startDiretrixSimulator({ user: 'demo', pass: 'demo', population });
    closers.push(() => diretrix.close());
    const workApi = await startWorkApiSimulator({ token, population });
    closers.push(() => workApi.close());
    const simulators = { c2s: c2s.url, diretrix: diretrix.url, workapi: workApi.url };
    for (const [provider, url] of Object.entries(simulators)) {
      logger.warn(
        { provider, simulator: url },
        `DEMO MODE: ${provider} has no credentials; calls go to the built-in simulator`,
      );
    }
    return {
      endpoints: {
        c2s: {
          baseUrl: c2s.url,
          token,
          timeoutMs: providers.c2s.timeoutMs,
          ratePerMinute: 0,
          listRatePerMinute: 0,
        },
        diretrix: {
          baseUrl: diretrix.url,
          user: 'demo',
          pass: 'demo',
          timeoutMs: providers.diretrix.timeoutMs,
          ratePerMinute: 0,
        },
        workApi: { baseUrl: workApi.url, token, timeoutMs: providers.workApi.timeoutMs, ratePerMinute: 0 },
      },
      simulators,
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
