import { pino, type Logger } from 'pino';
import { codeOf } from '../errors.ts';
import { scrubText } from './mask.ts';

export type { Logger };

/** Paths pino blanks out wherever they appear: credentials never reach a log line. */
const REDACT_PATHS = [
  'req.headers["x-webhook-token"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers["x-webhook-token"]',
  'headers.authorization',
  '*.token',
  '*.password',
  '*.pass',
  '*.secret',
  '*.secrets',
];

/** An error as a log line shows it: what it is and its stable code, its text masked and bounded. */
export interface LoggedError {
  readonly type: string;
  readonly code?: string;
  readonly message: string;
  readonly stack?: string;
}

const MESSAGE_LENGTH = 500;
const STACK_LENGTH = 4000;

/** Marks an error whose stack the log line should carry too (see `withStack`). */
class StackWanted {
  readonly error: unknown;
  constructor(error: unknown) {
    this.error = error;
  }
}

/**
 * `{ err: withStack(error) }`: the line carries the error's stack (masked and bounded like its
 * message) besides the usual shape. For failures nobody expected, where the stack is the lead.
 */
export function withStack(error: unknown): unknown {
  return new StackWanted(error);
}

/**
 * The `err` serializer: every `{ err: error }` is logged as a `LoggedError`. The message (and the
 * stack, when asked for) may quote what the error failed on (a CPF, an e-mail, a phone), so it is
 * masked like any free text; other fields of the error (a query's parameters, a response body)
 * are never logged. Anything thrown that is not an Error is logged by its text, masked as well.
 */
export function serializeError(value: unknown): LoggedError {
  const wantStack = value instanceof StackWanted;
  const error = wantStack ? value.error : value;
  if (!(error instanceof Error)) {
    const text = typeof error === 'string' ? error : safeString(error);
    return { type: error === null ? 'null' : typeof error, message: scrubText(text, MESSAGE_LENGTH) };
  }
  // A provider error's code is logged qualified (`c2s_rate_limited`), as metrics and rows show it.
  const code = codeOf(error) ?? (error as { code?: unknown }).code;
  return {
    type: error.name || error.constructor.name || 'Error',
    ...(typeof code === 'string' || typeof code === 'number' ? { code: String(code) } : {}),
    message: scrubText(error.message, MESSAGE_LENGTH),
    ...(wantStack ? { stack: scrubText(error.stack ?? '', STACK_LENGTH) } : {}),
  };
}

function safeString(value: unknown): string {
  try {
    if (typeof value === 'object' && value !== null) {
      const message = (value as { message?: unknown }).message;
      if (typeof message === 'string') return message;
    }
    return String(value);
  } catch {
    return '[unprintable]';
  }
}

/**
 * JSON lines on stdout (or `destination`), one logger for the whole process. Stdout is written
 * asynchronously in batches: a synchronous write per line costs a fifth of the ingest throughput.
 * `flushLogs` empties the buffer before the process exits.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'c2s-enricher' },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      serializers: { err: serializeError },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? stdout,
  );
}

// Lines written while a write is in flight go out together in the next one; none waits for more.
const stdout = pino.destination({ dest: 1, sync: false });

export function flushLogs(): void {
  try {
    stdout.flushSync();
  } catch {
    // not ready yet (nothing written) or already closed: nothing to flush
  }
}
