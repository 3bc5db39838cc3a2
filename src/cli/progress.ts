/**
 * Progress of long work. On a terminal, one line redrawn in place (`\r`): a bar when the total
 * is known, counts and rate; elsewhere (a pipe, a log file), a plain line per update, which a
 * log keeps readable. Either way the output ends with a newline once finished.
 */

export interface ProgressStream {
  write(text: string): void;
  readonly isTTY: boolean;
}

export interface ProgressOptions {
  /** What is being done: `replaying`, `counting`. */
  readonly label: string;
  /** How many items there are, when known: a bar is drawn. */
  readonly total?: number;
  readonly stream: ProgressStream;
  /** Milliseconds, monotonic. */
  readonly clock?: () => number;
  /** A terminal is redrawn at most this often (the last state is always drawn). */
  readonly redrawMs?: number;
}

export interface Progress {
  /** `done` items so far; `detail` follows the counts (`3000 scheduled`). */
  update(done: number, detail?: string): void;
  /** Draws the last state for good (a terminal's line is ended). */
  finish(): void;
}

const BAR_WIDTH = 20;

/** `[█████░░░░░]`: `done` of `total`, a full bar when there is nothing to do. */
export function bar(done: number, total: number, width = BAR_WIDTH): string {
  const filled = total <= 0 ? width : Math.round((Math.min(done, total) / total) * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
}

export function createProgress(options: ProgressOptions): Progress {
  const { label, total, stream } = options;
  const clock = options.clock ?? (() => performance.now());
  const redrawMs = options.redrawMs ?? 100;
  const startedAt = clock();
  let state: { done: number; detail: string | undefined } | undefined;
  let drawnAt = -Infinity;

  const describe = (done: number, detail: string | undefined) => {
    const seconds = (clock() - startedAt) / 1000;
    const rate = seconds > 0 ? Math.round(done / seconds) : 0;
    const counts = total === undefined ? `${done}` : `${done}/${total}`;
    return [counts, `${rate}/s`, detail].filter(Boolean).join(' ');
  };
  const line = () => {
    const { done, detail } = state!;
    const text = describe(done, detail);
    // \x1b[K clears what a longer previous line left behind.
    return total === undefined ? `\r${label} ${text}\x1b[K` : `\r${label} ${bar(done, total)} ${text}\x1b[K`;
  };

  return {
    update(done, detail) {
      state = { done, detail };
      if (!stream.isTTY) {
        stream.write(`${label}: ${describe(done, detail)}\n`);
        return;
      }
      const now = clock();
      if (now - drawnAt < redrawMs) return;
      drawnAt = now;
      stream.write(line());
    },
    finish() {
      if (!stream.isTTY || state === undefined) return;
      stream.write(`${line()}\n`);
    },
  };
}
