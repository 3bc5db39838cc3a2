import { UsageError } from './command.ts';

/** A stored time (`2026-12-01T09:00:00.123456Z`) as operators read it: UTC, whole seconds. */
export function formatTime(iso: string | null): string {
  return iso === null ? '-' : iso.replace(/\.\d+(?=Z$)/, '');
}

/** A duration in milliseconds as `850ms`, `12.3s`, `4m05s`. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const RELATIVE = /^(\d{1,6})([smhd])$/;

/**
 * A `--since`/`--until` value as RFC 3339 text for `parseFilter`: `30m`, `2h`, `7d` mean that
 * long before now; anything else is passed on as given (parseFilter checks it is RFC 3339).
 */
export function instantArgument(name: string, value: string, now: Date): string {
  const relative = RELATIVE.exec(value);
  if (!relative) return value;
  const amount = Number(relative[1]) * UNIT_MS[relative[2] as keyof typeof UNIT_MS];
  const at = new Date(now.getTime() - amount);
  if (Number.isNaN(at.getTime())) throw new UsageError(`--${name} reaches too far back`);
  return at.toISOString();
}
