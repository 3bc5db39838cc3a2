/**
 * A background job: `run` shortly after start (`firstRunMs`), then every `intervalMs`; a run
 * still going when the next is due is not doubled. `stop` cancels what is scheduled, aborts the
 * signal `run` was given and waits for the run under way.
 */
export function startPeriodic(options: {
  readonly firstRunMs: number;
  readonly intervalMs: number;
  readonly run: (signal: AbortSignal) => Promise<unknown>;
}): { stop(): Promise<void> } {
  const abort = new AbortController();
  let running: Promise<unknown> | undefined;
  const tick = () => {
    if (abort.signal.aborted) return;
    running ??= options.run(abort.signal).finally(() => (running = undefined));
  };
  const first = setTimeout(tick, options.firstRunMs);
  first.unref();
  const timer = setInterval(tick, options.intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearTimeout(first);
      clearInterval(timer);
      abort.abort();
      await running;
    },
  };
}
