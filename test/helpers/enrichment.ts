import type { TestContext } from 'node:test';
import { enrichmentWorkflow } from '../../src/enrichment/workflow.ts';
import { startC2sSimulator, type C2sSimulator, type C2sSimulatorOptions } from '../../src/simulators/c2s.ts';
import { startDiretrixSimulator, type DiretrixSimulator } from '../../src/simulators/diretrix.ts';
import { createPopulation, type Population, type SampleLead } from '../../src/simulators/population.ts';
import { startWorkApiSimulator, type WorkApiSimulator } from '../../src/simulators/workapi.ts';
import { defer } from './cleanup.ts';
import { startService, type TestService } from './service.ts';

export interface EnrichmentRig {
  readonly service: TestService;
  readonly population: Population;
  readonly c2s: C2sSimulator;
  readonly diretrix: DiretrixSimulator;
  readonly workApi: WorkApiSimulator;
  /** The service's environment: the simulators and the rig's settings (for another service or the command line). */
  readonly env: Readonly<Record<string, string>>;
  /** The sample lead of a scenario, as a webhook event (envelope A) with its own lead id. */
  lead(
    scenario: SampleLead['scenario'],
    options?: { leadId?: string; updatedAt?: string; action?: string },
  ): {
    leadId: string;
    sample: SampleLead;
    event: Record<string, unknown>;
  };
}

export interface SimulatorOptions {
  /** The C2S simulator's listing limits (the real API's by default). */
  readonly c2s?: Omit<C2sSimulatorOptions, 'token'>;
  /** People in the synthetic population (200 by default). */
  readonly populationSize?: number;
}

/** The three provider simulators, and the environment that points a service at them. */
export async function startSimulators(t: TestContext, options: SimulatorOptions = {}) {
  const population = createPopulation({ seed: 7, size: options.populationSize });
  const c2s = await startC2sSimulator({ token: 'c2s-token', ...options.c2s });
  defer(t, () => c2s.close());
  const diretrix = await startDiretrixSimulator({ user: 'dx-user', pass: 'dx-pass', population });
  defer(t, () => diretrix.close());
  const workApi = await startWorkApiSimulator({ token: 'work-token', population });
  defer(t, () => workApi.close());
  const env = {
    C2S_BASE_URL: c2s.url,
    C2S_TOKEN: 'c2s-token',
    DIRETRIX_BASE_URL: diretrix.url,
    DIRETRIX_USER: 'dx-user',
    DIRETRIX_PASS: 'dx-pass',
    WORK_API_BASE_URL: workApi.url,
    WORK_API: 'work-token',
    C2S_RATE_PER_MINUTE: '0',
    DIRETRIX_RATE_PER_MINUTE: '0',
    WORK_API_RATE_PER_MINUTE: '0',
  };
  return { population, c2s, diretrix, workApi, env };
}

/**
 * The real service running the real enrichment workflow against the three simulators, with
 * their credentials given as a deployment would give them (no demo mode).
 */
export async function startEnrichment(
  t: TestContext,
  env: Record<string, string> = {},
  options: SimulatorOptions = {},
): Promise<EnrichmentRig> {
  const simulators = await startSimulators(t, options);
  const { population, c2s, diretrix, workApi } = simulators;
  const serviceEnv = {
    ...simulators.env,
    RETRY_BASE_DELAY_MS: '50',
    // A post with an unknown outcome is looked for on the lead after 1 s (60 s by default).
    NOTE_UNKNOWN_WAIT_SECONDS: '1',
    ...env,
  };
  const service = await startService(t, { role: 'all', workflow: enrichmentWorkflow, env: serviceEnv });
  const samples = population.sampleLeads();
  let counter = 0;
  return {
    service,
    population,
    c2s,
    diretrix,
    workApi,
    env: serviceEnv,
    lead(scenario, options = {}) {
      const sample = samples.find((s) => s.scenario === scenario)!;
      const leadId = options.leadId ?? `${scenario}-${++counter}`;
      const updatedAt = options.updatedAt ?? '2026-11-20T10:15:00.000-03:00';
      return {
        leadId,
        sample,
        event: {
          id: leadId,
          hook_action: options.action ?? 'on_create_lead',
          attributes: { ...sample.attributes, updated_at: updatedAt },
        },
      };
    },
  };
}
