import { pino, type Logger } from 'pino';

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

/** JSON lines on stdout (or `destination`), one logger for the whole process. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'c2s-enricher' },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
