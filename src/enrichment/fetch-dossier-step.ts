import type pg from 'pg';
import { createBatcher } from '../db/batcher.ts';
import { LeaseLostError } from '../errors.ts';
import { dossierFromWorkApi } from '../people/dossier.ts';
import type { Dossier } from '../people/types.ts';
import type { WorkApiClient } from '../providers/workapi/client.ts';
import { MemoKey, type AttemptMemo, type StepDefinition } from '../workflow/step.ts';
import { partiesToEnrich, type FindCpfStep } from './find-cpf-step.ts';
import {
  dossiersByParty,
  freshDossier,
  recordEnrichments,
  type EnrichmentRecord,
} from './people-repository.ts';

/** What the step saves: party ids, never CPFs or dossiers. */
export interface FetchedDossiers {
  /** Parties whose dossier is now in people.enrichments (fetched or still fresh). */
  readonly found: readonly number[];
  /** Parties the Work API does not know. */
  readonly missing: readonly number[];
}

const DOSSIERS = new MemoKey<ReadonlyMap<number, Dossier>>('dossiers fetched');

/**
 * The (whitelisted) dossiers of these parties for a later step: as this attempt fetched them, or,
 * in an attempt resumed after this step, read back from the store.
 */
export async function dossiersOf(
  db: pg.Pool,
  memo: AttemptMemo,
  partyIds: readonly number[],
): Promise<Map<number, Dossier>> {
  const fetched = memo.get(DOSSIERS);
  if (fetched && partyIds.every((id) => fetched.has(id))) {
    return new Map(partyIds.map((id) => [id, fetched.get(id)!]));
  }
  return dossiersByParty(db, partyIds);
}

/**
 * Fetches the dossier of each party found, keeping only the whitelisted fields. The Work API is
 * slow and metered: a dossier fetched within the cache lifetime is reused, and concurrent runs in
 * this process asking for one CPF share a single call.
 */
export function fetchDossierStep(deps: {
  db: pg.Pool;
  found: FindCpfStep;
  workApi: WorkApiClient;
  cacheMs: number;
  noteOnNoMatch: boolean;
}): StepDefinition<FetchedDossiers> {
  const inFlight = new Map<string, Promise<Fetched>>();
  type Fetched = { readonly dossier: Dossier | null; readonly fresh: boolean };
  // Runs recording at the same moment (those sharing a fetch, first of all) share one statement.
  const record = createBatcher<EnrichmentRecord, boolean>((records) => recordEnrichments(deps.db, records));

  async function dossierFor(cpf: string, signal: AbortSignal): Promise<Fetched> {
    const cached = deps.cacheMs > 0 ? await freshDossier(deps.db, cpf, deps.cacheMs) : null;
    if (cached) return { dossier: cached, fresh: false };
    const raw = await deps.workApi.fetchDossier(cpf, signal);
    // Filtered on arrival: nothing outside the whitelist is kept, even in memory past this line.
    return { dossier: raw ? (dossierFromWorkApi(raw) ?? null) : null, fresh: true };
  }

  return {
    name: 'fetch_dossier',
    async run(context) {
      const parties = partiesToEnrich(context.outputOf(deps.found));
      const cpfs = await deps.found.cpfs(context, parties);
      const found: number[] = [];
      const missing: number[] = [];
      const dossiers = new Map<number, Dossier>();
      for (const party of parties) {
        const cpf = cpfs.get(party);
        let pending = cpf === undefined ? undefined : inFlight.get(cpf);
        if (cpf !== undefined && !pending) {
          pending = dossierFor(cpf, context.signal).finally(() => inFlight.delete(cpf));
          inFlight.set(cpf, pending);
        }
        // A party erased since it was found has no CPF left to look up.
        const fetched = pending ? await pending : null;
        const dossier = fetched?.dossier ?? null;
        // Each run sharing a fetch records it under its own fence: one that lost its event (to an
        // erasure, say) writes nothing back, and the others are not held up by it.
        if (dossier && fetched?.fresh && !(await record({ dossier, fence: context.fence })))
          throw new LeaseLostError();
        if (dossier) dossiers.set(party, dossier);
        (dossier ? found : missing).push(party);
      }
      context.memo.set(DOSSIERS, dossiers);
      const output: FetchedDossiers = { found, missing };
      if (found.length === 0 && !deps.noteOnNoMatch) return { output, outcome: 'no_match' };
      return { output };
    },
  };
}
