import type pg from 'pg';
import { IngestOverloadedError } from '../errors.ts';
import type { LeadEvent } from './envelope.ts';
import { insertEvents, type StoredEvent } from './events-repository.ts';

interface Waiting {
  readonly events: readonly LeadEvent[];
  readonly requestId: string;
  resolve(stored: StoredEvent[]): void;
  reject(error: unknown): void;
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
 * happened to each of its events.
 */
export function createGroupCommit(options: GroupCommitOptions) {
  const concurrency = options.concurrency ?? 2;
  const maxEvents = options.maxEvents ?? 500;
  const waiting: Waiting[] = [];
  let queuedEvents = 0;
  let running = 0;

  function pump(): void {
    while (running < concurrency && waiting.length > 0) {
      const group: Waiting[] = [];
      let size = 0;
      while (waiting.length > 0 && (group.length === 0 || size + waiting[0]!.events.length <= maxEvents)) {
        const next = waiting.shift()!;
        group.push(next);
        size += next.events.length;
        queuedEvents -= next.events.length;
      }
      running++;
      void commit(group).finally(() => {
        running--;
        pump();
      });
    }
  }

  async function commit(group: Waiting[]): Promise<void> {
    // The same event may come in two requests of the group: it is stored once, for the first.
    const unique: LeadEvent[] = [];
    const requestIds: string[] = [];
    const positionOfKey = new Map<string, number>();
    const positions = group.map((request) =>
      request.events.map((event) => {
        const key = `${event.leadId}\u0000${event.updatedAt}`;
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
    try {
      // One statement, so one implicit transaction: an event stored is an event queued.
      const stored = await insertEvents(options.db, unique, requestIds);
      if (stored.some((event) => event.status === 'received')) {
        // Best effort: a missed wake-up only delays pickup until the workers' next poll.
        options.wake().catch(() => {});
      }
      group.forEach((request, r) =>
        request.resolve(
          positions[r]!.map(({ position, first }) =>
            first ? stored[position]! : { status: 'duplicate', eventId: stored[position]!.eventId },
          ),
        ),
      );
    } catch (error) {
      for (const request of group) request.reject(error);
    }
  }

  /** Stores `events` (distinct by lead and instant) with the next group; resolves once committed. */
  return function store(events: readonly LeadEvent[], requestId: string): Promise<StoredEvent[]> {
    if (queuedEvents > 0 && queuedEvents + events.length > options.maxQueuedEvents) {
      return Promise.reject(
        new IngestOverloadedError('too many events are waiting to be stored; retry in a moment'),
      );
    }
    return new Promise((resolve, reject) => {
      queuedEvents += events.length;
      waiting.push({ events, requestId, resolve, reject });
      pump();
    });
  };
}
