export interface BatcherOptions<T> {
  /** Batches under way at once; items arriving meanwhile wait for the next. Default 1. */
  readonly concurrency?: number;
  /**
   * Most a batch holds, in units of `size` (default 100). An item bigger than this on its own
   * still goes, alone.
   */
  readonly maxItems?: number;
  /** How much of a batch an item takes (default 1: a batch holds at most `maxItems` items). */
  readonly size?: (item: T) => number;
  /**
   * A bound on what may wait (in units of `size`) while batches are under way: an item that would
   * take the waiting total past `limit` is refused at once with `error()`, so memory stays bounded
   * when whatever runs the batches falls behind. An item that finds nothing waiting is always taken.
   */
  readonly maxWaiting?: { readonly limit: number; readonly error: () => Error };
}

/**
 * Runs items submitted concurrently in shared batches: while a batch is under way, new items wait
 * and go together in the next. A lone item runs at once, so nothing waits when there is no queue;
 * under load, many callers share one round trip (and, for writes, one commit). `run` answers one
 * result per item, in order (or nothing, for writes); each caller's promise settles with its own.
 * Used for reads and writes of the workflow and for the webhook's group commit.
 */
export function createBatcher<T, R = void>(
  run: (items: T[]) => Promise<readonly R[] | void>,
  options: BatcherOptions<T> = {},
): (item: T) => Promise<R> {
  const concurrency = options.concurrency ?? 1;
  const maxItems = options.maxItems ?? 100;
  const sizeOf = options.size ?? (() => 1);
  const waiting: Array<{ item: T; size: number; resolve(result: R): void; reject(error: unknown): void }> =
    [];
  let waitingSize = 0;
  let running = 0;

  const pump = () => {
    while (running < concurrency && waiting.length > 0) {
      let taken = 0;
      let size = 0;
      while (taken < waiting.length && (taken === 0 || size + waiting[taken]!.size <= maxItems)) {
        size += waiting[taken]!.size;
        taken++;
      }
      const batch = waiting.splice(0, taken);
      waitingSize -= size;
      running++;
      // Called at once; an async wrapper so that even a `run` throwing outright fails its batch only.
      const pending = (async () => run(batch.map((entry) => entry.item)))();
      void pending
        .then(
          (results) => batch.forEach((entry, n) => entry.resolve(results?.[n] as R)),
          (error: unknown) => batch.forEach((entry) => entry.reject(error)),
        )
        .finally(() => {
          running--;
          pump();
        });
    }
  };

  return (item) => {
    const size = sizeOf(item);
    const bound = options.maxWaiting;
    if (bound && waitingSize > 0 && waitingSize + size > bound.limit) return Promise.reject(bound.error());
    return new Promise<R>((resolve, reject) => {
      waiting.push({ item, size, resolve, reject });
      waitingSize += size;
      pump();
    });
  };
}
