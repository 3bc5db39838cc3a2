import type pg from 'pg';
import type { C2sClient } from '../providers/c2s/client.ts';
import { eventKey, type LeadEvent } from '../webhooks/envelope.ts';
import { insertEvents, storedEventKeys } from '../webhooks/events-repository.ts';
import { reconciledEvent } from './lead-event.ts';

/** What a reconciliation found: leads listed in the window, stored now as new events, already stored. */
export interface ReconcileCounts {
  readonly listed: number;
  readonly new: number;
  readonly known: number;
}

export interface ReconcileProgress extends ReconcileCounts {
  readonly pages: number;
  /** Listing calls made, 429s included. */
  readonly calls: number;
  /** 429s C2S answered (each waited out). */
  readonly rateLimited: number;
  /** Listed leads that cannot be an event (an id or `updated_at` the webhook would refuse too). */
  readonly invalid: number;
}

/** An event a dry run would have stored. */
export interface WouldStore {
  readonly leadId: string;
  /** The canonical instant, as the event would be keyed. */
  readonly updatedAt: string;
}

export interface ReconcileOptions {
  /** Where events are stored: a pool, or the connection holding the reconciliation lock. */
  readonly db: pg.Pool | pg.ClientBase;
  readonly c2s: Pick<C2sClient, 'listLeadsUpdated'>;
  readonly window: { readonly since: Date; readonly until: Date };
  /** Lists and compares, stores nothing. */
  readonly dryRun?: boolean;
  /** Recorded on the events stored (their `request_id`), to find a run's events again. */
  readonly requestId: string;
  /** Tells the workers that events wait (after each page that stored some). */
  readonly wake?: () => Promise<void>;
  readonly signal?: AbortSignal;
  /** After every page, with the running totals. */
  readonly onPage?: (progress: ReconcileProgress) => void;
  /** In a dry run, each event that would be stored, as found. */
  readonly onWouldStore?: (event: WouldStore) => void;
}

/** A run that has listed nothing yet. */
export const NO_PROGRESS: ReconcileProgress = {
  listed: 0,
  new: 0,
  known: 0,
  pages: 0,
  calls: 0,
  rateLimited: 0,
  invalid: 0,
};

/**
 * Lists the C2S leads updated within the window and stores every (lead, updated_at) not yet
 * stored as a new event: `on_update_lead`, source `reconcile`, through the very insert webhooks
 * go through (`insertEvents`: idempotent on the pair, latest wins, queued by being stored), so
 * the workflow runs it like any delivery. Page by page: each page's events are committed before
 * the next page is asked for, so a failure part-way keeps what was found (and a later run finds
 * it known; `onPage` has told the caller how far it got). `new` counts events stored now (one
 * older than an event already stored for its lead is stored `stale`, as a late webhook would be);
 * `known`, those stored already.
 */
export async function reconcile(options: ReconcileOptions): Promise<ReconcileProgress> {
  const { db } = options;
  const seen = new Set<string>();
  let progress = NO_PROGRESS;
  for await (const page of options.c2s.listLeadsUpdated(options.window, options.signal)) {
    const events: LeadEvent[] = [];
    let invalid = 0;
    for (const { lead } of page.leads) {
      const normalised = reconciledEvent(lead);
      if (!normalised.ok) {
        invalid++;
        continue;
      }
      // The listing lists a lead version once; two spellings of one id or instant are one event.
      const key = eventKey(normalised.event.leadId, normalised.event.updatedAt);
      if (seen.has(key)) continue;
      seen.add(key);
      events.push(normalised.event);
    }
    const { fresh, known } = options.dryRun
      ? await compare(db, events, options)
      : await store(events, options);
    progress = {
      listed: progress.listed + events.length + invalid,
      new: progress.new + fresh,
      known: progress.known + known,
      pages: progress.pages + 1,
      calls: page.calls,
      rateLimited: page.rateLimited,
      invalid: progress.invalid + invalid,
    };
    options.onPage?.(progress);
  }
  return progress;
}

async function store(events: readonly LeadEvent[], options: ReconcileOptions) {
  if (events.length === 0) return { fresh: 0, known: 0 };
  const stored = await insertEvents(
    options.db,
    events,
    events.map(() => options.requestId),
    'reconcile',
  );
  const fresh = stored.filter((event) => event.status !== 'duplicate').length;
  if (stored.some((event) => event.status === 'received')) {
    // Best effort, as for webhooks: a missed wake-up only waits for the workers' next poll.
    await options.wake?.().catch(() => {});
  }
  return { fresh, known: stored.length - fresh };
}

/** A dry run: which events are stored already; the others are reported, not stored. */
async function compare(db: pg.Pool | pg.ClientBase, events: readonly LeadEvent[], options: ReconcileOptions) {
  const stored = await storedEventKeys(db, events);
  let fresh = 0;
  for (const event of events) {
    if (stored.has(eventKey(event.leadId, event.updatedAt))) continue;
    fresh++;
    options.onWouldStore?.({ leadId: event.leadId, updatedAt: event.updatedAt });
  }
  return { fresh, known: events.length - fresh };
}
