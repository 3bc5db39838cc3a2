/**
 * Wraps a read so that it runs at most once per `maxAgeMs` (counted from its start), and never
 * twice at once: callers within that time, or while it runs, share its answer (or its failure).
 * A flood of callers then costs one read per period, however many they are.
 */
export function sharedRead<T>(read: () => Promise<T>, maxAgeMs: number): () => Promise<T> {
  let last: { readonly startedAt: number; readonly answer: Promise<T>; done: boolean } | undefined;
  return () => {
    const now = performance.now();
    if (last && (!last.done || now - last.startedAt < maxAgeMs)) return last.answer;
    const current = { startedAt: now, answer: Promise.resolve().then(read), done: false };
    const settle = () => {
      current.done = true;
    };
    current.answer.then(settle, settle);
    last = current;
    return current.answer;
  };
}
