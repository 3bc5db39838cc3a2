import type pg from 'pg';
import { dossierFromWorkApi } from '../people/dossier.ts';
import type { Dossier } from '../people/types.ts';
import type { WorkApiClient } from '../providers/workapi/client.ts';
import type { Step } from '../workflow/runner.ts';
import { cpfsToEnrich, type FoundCpfs } from './find-cpf-step.ts';
import { dossiersByCpf, freshDossier, recordEnrichment } from './people-repository.ts';

export interface FetchedDossiers {
  /** CPFs whose dossier is now in people.enrichments (fetched or still fresh). */
  readonly found: readonly string[];
  /** CPFs the Work API does not know. */
  readonly missing: readonly string[];
}

const DOSSIERS = 'dossiers';

/**
 * The (whitelisted) dossiers of `cpfs` for a later step: as this attempt fetched them, or, in an
 * attempt resumed after this step, read back from the store.
 */
export async function dossiersOf(
  db: pg.Pool,
  memo: ReadonlyMap<string, unknown>,
  cpfs: readonly string[],
): Promise<Map<string, Dossier>> {
  const fetched = memo.get(DOSSIERS) as ReadonlyMap<string, Dossier> | undefined;
  if (fetched && cpfs.every((cpf) => fetched.has(cpf))) {
    return new Map(cpfs.map((cpf) => [cpf, fetched.get(cpf)!]));
  }
  return dossiersByCpf(db, cpfs);
}

/**
 * Fetches the dossier of each CPF found, keeping only the whitelisted fields. The Work API is
 * slow and metered: a dossier fetched within the cache lifetime is reused, and concurrent runs in
 * this process asking for one CPF share a single call.
 */
export function fetchDossierStep(deps: {
  db: pg.Pool;
  workApi: WorkApiClient;
  cacheMs: number;
  noteOnNoMatch: boolean;
}): Step {
  const inFlight = new Map<string, Promise<Dossier | null>>();

  async function dossierFor(cpf: string, signal: AbortSignal): Promise<Dossier | null> {
    const cached = deps.cacheMs > 0 ? await freshDossier(deps.db, cpf, deps.cacheMs) : null;
    if (cached) return cached;
    const raw = await deps.workApi.fetchDossier(cpf, signal);
    // Filtered on arrival: nothing outside the whitelist is kept, even in memory past this line.
    const dossier = raw ? (dossierFromWorkApi(raw) ?? null) : null;
    if (dossier) await recordEnrichment(deps.db, dossier);
    return dossier;
  }

  return {
    name: 'fetch_dossier',
    async run({ outputs, signal, memo }) {
      const found: string[] = [];
      const missing: string[] = [];
      const dossiers = new Map<string, Dossier>();
      for (const cpf of cpfsToEnrich(outputs.find_cpf as FoundCpfs)) {
        let pending = inFlight.get(cpf);
        if (!pending) {
          pending = dossierFor(cpf, signal).finally(() => inFlight.delete(cpf));
          inFlight.set(cpf, pending);
        }
        const dossier = await pending;
        if (dossier) dossiers.set(cpf, dossier);
        (dossier ? found : missing).push(cpf);
      }
      memo.set(DOSSIERS, dossiers);
      const output: FetchedDossiers = { found, missing };
      if (found.length === 0 && !deps.noteOnNoMatch) return { output, outcome: 'no_match' };
      return { output };
    },
  };
}
