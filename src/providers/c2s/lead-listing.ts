import { setTimeout as sleep } from 'node:timers/promises';
import { ProviderRateLimitedError } from '../../errors.ts';
import { parseInstant } from '../../webhooks/instant.ts';
import type { C2sLead } from './client.ts';

/** C2S answers 403 to a `perpage` above 50. */
export const MAX_PAGE_SIZE = 50;

/** One page of `GET /integration/leads`. */
export interface LeadPageQuery {
  readonly page: number;
  readonly perPage: number;
  /** `updated_gte`: sent in whole seconds, the only precision C2S accepts. */
  readonly updatedSince: Date;
  /** Pages are unstable without an explicit sort. */
  readonly sort: 'updated_at' | '-updated_at';
}

export type FetchLeadPage = (query: LeadPageQuery, signal?: AbortSignal) => Promise<{ leads: C2sLead[] }>;

export interface ListedLead {
  readonly lead: C2sLead;
  /** Its `updated_at` as C2S wrote it. */
  readonly updatedAt: string;
}

/** What one page brought, and the listing's running totals. */
export interface ListingPage {
  /** The page's leads updated inside the window and not listed before by this listing. */
  readonly leads: readonly ListedLead[];
  /** Listing calls made so far, 429s included. */
  readonly calls: number;
  /** 429s C2S answered so far (each waited out). */
  readonly rateLimited: number;
  /** Leads passed over so far because their `updated_at` is not a timestamp. */
  readonly unreadable: number;
}

export interface ListingOptions {
  /** How long to wait after a 429 that says no Retry-After (C2S: about 65 s). */
  readonly penaltyMs: number;
  /** 429s in a row after which the listing gives up (C2S is not letting us through). */
  readonly maxRateLimitedInARow?: number;
  /** Stops the listing: a wait or a call in flight ends with an abort error. */
  readonly signal?: AbortSignal;
}

const SECOND_MS = 1000;
const floorToSecond = (ms: number) => Math.floor(ms / SECOND_MS) * SECOND_MS;

/**
 * Every lead C2S lists as updated within [since, until], page by page, each at most once.
 *
 * Paging is by a cursor on `updated_at`, not by page number alone: pages are asked oldest first
 * (`sort=updated_at`) with `updated_gte` = the cursor, and after each full page the cursor moves
 * to the (whole) second of the page's last lead and paging starts again at page 1. Page numbers
 * are offsets into a list that moves while it is read (a lead updated meanwhile jumps to the end,
 * so every later lead shifts one place forward and a plain page 2, 3, ... would skip one);
 * restarting from a cursor makes each page's offset count only leads at or after the cursor,
 * which an update moves only later. The leads of the cursor's own second come back on the next
 * page (the filter has no sub-second precision, and ties may be ordered either way): they are
 * recognised by (id, updated_at) and listed once. Only when a whole page shares the cursor's
 * second (over 50 leads updated within one second, a bulk import) does paging step to page 2,
 * 3, ... under the same cursor, where an update during those few calls could shift one lead
 * past us: the next run's overlap, or the lead's own webhook, covers it.
 *
 * Oldest first also means the listing stops at the first lead updated after `until`, instead
 * of reading every newer page first. A lead updated during the listing moves past `until`; its
 * newer version is the next run's (or its webhook's), and latest wins makes the older one moot.
 *
 * A 429 is waited out (its Retry-After, or `penaltyMs`) and the same page asked again; the
 * caller's pacing (the client's listing guard) is meant to make that rare. Any other failure
 * ends the listing: what was yielded stays yielded.
 */
export async function* leadsUpdatedBetween(
  fetchPage: FetchLeadPage,
  window: { readonly since: Date; readonly until: Date },
  options: ListingOptions,
): AsyncGenerator<ListingPage> {
  const sinceMs = window.since.getTime();
  const untilMs = window.until.getTime();
  const maxInARow = options.maxRateLimitedInARow ?? 3;
  const seen = new Set<string>();
  let cursor = floorToSecond(sinceMs);
  let page = 1;
  let calls = 0;
  let rateLimited = 0;
  let inARow = 0;
  let unreadable = 0;
  for (;;) {
    let leads: C2sLead[];
    try {
      calls++;
      ({ leads } = await fetchPage(
        { page, perPage: MAX_PAGE_SIZE, updatedSince: new Date(cursor), sort: 'updated_at' },
        options.signal,
      ));
      inARow = 0;
    } catch (error) {
      if (!(error instanceof ProviderRateLimitedError)) throw error;
      if (error.status === undefined) {
        // Our own pacer would have held the call longer than it holds one: wait here, where
        // a stop can cut the wait short. Nothing reached C2S.
        calls--;
        await sleep(error.retryAfterMs ?? SECOND_MS, undefined, { signal: options.signal });
        continue;
      }
      rateLimited++;
      if (++inARow > maxInARow) throw error;
      await sleep(error.retryAfterMs ?? options.penaltyMs, undefined, { signal: options.signal });
      continue;
    }

    const fresh: ListedLead[] = [];
    let lastSecond: number | undefined;
    let pastUntil = false;
    for (const lead of leads) {
      const text = lead.attributes.updated_at;
      const instant = typeof text === 'string' ? parseInstant(text) : undefined;
      if (instant === undefined) {
        unreadable++;
        continue;
      }
      const at = Date.parse(instant);
      if (at > untilMs) {
        pastUntil = true; // oldest first: every lead after this one is later still
        break;
      }
      lastSecond = floorToSecond(at);
      if (at < sinceMs) continue; // the cursor's second began before the window
      const key = `${lead.id}\u0000${instant}`;
      if (seen.has(key)) continue;
      seen.add(key);
      fresh.push({ lead, updatedAt: text as string });
    }
    yield { leads: fresh, calls, rateLimited, unreadable };
    if (pastUntil || leads.length < MAX_PAGE_SIZE) return; // a short page is the last
    if (lastSecond !== undefined && lastSecond > cursor) {
      cursor = lastSecond;
      page = 1;
    } else {
      page++;
    }
  }
}
