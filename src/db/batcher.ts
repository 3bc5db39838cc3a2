/**
 * Writes items submitted concurrently in shared batches: while a batch is being written, new items
 * wait and go together in the next. A lone item is written at once, so nothing waits when there
 * is no queue; under load, many writers share one round trip and one commit. Each submitter's
 * promise settles with its own batch.
 */
export function createBatcher<T>(
  write: (items: T[]) => Promise<void>,
  options: { readonly concurrency?: number; readonly maxItems?: number } = {},
): (item: T) => Promise<void> {
  const concurrency = options.concurrency ?? 1;
  const maxItems = options.maxItems ?? 100;
  const waiting: Array<{ item: T; resolve(): void; reject(error: unknown): void }> = [];
  let running = 0;

  const pump = () => {
    while (running < concurrency && waiting.length > 0) {
      const batch = waiting.splice(0, maxItems);
      running++;
      void write(batch.map((entry) => entry.item))
        .then(
          () => batch.forEach((entry) => entry.resolve()),
          (error: unknown) => batch.forEach((entry) => entry.reject(error)),
        )
        .finally(() => {
          running--;
          pump();
        });
    }
  };

  return (item) =>
    new Promise<void>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      pump();
    });
}
