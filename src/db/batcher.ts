/**
 * Runs items submitted concurrently in shared batches: while a batch is under way, new items wait
 * and go together in the next. A lone item runs at once, so nothing waits when there is no queue;
 * under load, many callers share one round trip (and, for writes, one commit). `run` answers one
 * result per item, in order (or nothing, for writes); each caller's promise settles with its own.
 */
export function createBatcher<T, R = void>(
  run: (items: T[]) => Promise<readonly R[] | void>,
  options: { readonly concurrency?: number; readonly maxItems?: number } = {},
): (item: T) => Promise<R> {
  const concurrency = options.concurrency ?? 1;
  const maxItems = options.maxItems ?? 100;
  const waiting: Array<{ item: T; resolve(result: R): void; reject(error: unknown): void }> = [];
  let running = 0;

  const pump = () => {
    while (running < concurrency && waiting.length > 0) {
      const batch = waiting.splice(0, maxItems);
      running++;
      void run(batch.map((entry) => entry.item))
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

  return (item) =>
    new Promise<R>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      pump();
    });
}
