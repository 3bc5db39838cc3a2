import type pg from 'pg';
import { createBatcher } from '../db/batcher.ts';
import { IngestOverloadedError } from '../errors.ts';
import { eventKey, type LeadEvent } from './envelope.ts';
import { insertEvents, type StoredEvent } from './events-repository.ts';

/** One request's events, stored together with other requests' in the next group. */
interface StoreRequest {
  readonly events: readonly LeadEvent[];
  readonly requestId: string;
}

export interface GroupCommitOptions {
  readonly db: pg.Pool;
  /** Tells workers, once committed, that events are waiting. */
  readonly wake: () => Promise<void>;
  /**
   * Transactions in flight at once; requests arriving meanwhile join the next one. Two keep both
   * of a small machine's cores busy with large batches without making small ones wait.
   */
  readonly concurrency?: number;
  /** Largest number of events one transaction takes. */
  readonly maxEvents?: number;
  /**
   * Events that may wait for a transaction at once. Past it, `store` refuses at once
   * (`IngestOverloadedError`): memory stays bounded when the database falls behind.
   */
  readonly maxQueuedEvents: number;
}

/**
 * Stores the events of many concurrent requests in one statement (group commit). Each commit
 * costs a round trip and a WAL flush: sharing them between the requests that arrive while a
 * commit is under way multiplies what the database accepts, and adds no delay when there is no
 * queue (a lone request commits alone, at once). Every request still learns exactly what
 * happened to each of its events. The grouping is `createBatcher`'s, measured in events.
 */
export function createGroupCommit(options: GroupCommitOptions) {
  const store = createBatcher<StoreRequest, StoredEvent[]>(commit, {
    concurrency: options.concurrency ?? 2,
    maxItems: options.maxEvents ?? 500,
    size: (request) => request.events.length,
    maxWaiting: {
      limit: options.maxQueuedEvents,
      error: () => new IngestOverloadedError('too many events are waiting to be stored; retry in a moment'),
    },
  });

  async function commit(group: StoreRequest[]): Promise<StoredEvent[][]> {
    // The same event may come in two requests of the group: it is stored once, for the first.
    const unique: LeadEvent[] = [];
    const requestIds: string[] = [];
    const positionOfKey = new Map<string, number>();
    const positions = group.map((request) =>
      request.events.map((event) => {
        const key = eventKey(event.leadId, event.updatedAt);
        let position = positionOfKey.get(key);
        if (position === undefined) {
          position = unique.push(event) - 1;
          requestIds.push(request.requestId);
          positionOfKey.set(key, position);
          return { position, first: true };
        }
        return { position, first: false };
      }),
    );
    // One statement, so one implicit transaction: an event stored is an event queued.
    const stored = await insertEvents(options.db, unique, requestIds);
    if (stored.some((event) => event.status === 'received')) {
      // Best effort: a missed wake-up only delays pickup until the workers' next poll.
      options.wake().catch(() => {});
    }
    return positions.map((ofRequest) =>
      ofRequest.map(({ position, first }) =>
        first ? stored[position]! : { status: 'duplicate', eventId: stored[position]!.eventId },
      ),
    );
  }

  /** Stores `events` (distinct by lead and instant) with the next group; resolves once committed. */
  return function storeEvents(events: readonly LeadEvent[], requestId: string): Promise<StoredEvent[]> {
    return store({ events, requestId });
  };
}
