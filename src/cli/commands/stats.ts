import { EVENT_OUTCOMES, EVENT_STATUSES } from '../../admin/filter.ts';
import {
  readStats,
  STATS_PROVIDERS,
  type ProviderStats,
  type Stats,
  type StatsProvider,
} from '../../admin/stats.ts';
import { defineCommand } from '../command.ts';
import { withDatabase } from '../database.ts';
import { printTable, type Column } from '../table.ts';
import { formatTime } from '../time.ts';

/** `completed 120 · failed 3`: known keys in their usual order first, then any other. */
function counts(record: Readonly<Record<string, number>>, order: readonly string[]): string {
  const keys = [
    ...order.filter((key) => key in record),
    ...Object.keys(record).filter((key) => !order.includes(key)),
  ];
  return keys.length === 0 ? 'none' : keys.map((key) => `${key} ${record[key]}`).join(' · ');
}

const LEVELS = '▁▂▃▄▅▆▇█';

/** One character per value, scaled to the largest; `·` is none at all. */
export function sparkline(values: readonly number[]): string {
  const max = Math.max(0, ...values);
  return values
    .map((value) => (value <= 0 ? '·' : LEVELS[Math.max(0, Math.ceil((value / max) * LEVELS.length) - 1)]))
    .join('');
}

function lastHour(minutes: Stats['per_minute_1h']): string {
  if (minutes.length === 0) return 'last hour  no data\n';
  const first = minutes[0]!.minute.slice(11, 16);
  const last = minutes.at(-1)!.minute.slice(11, 16);
  const series = (['received', 'completed', 'failed'] as const).map((kind) => {
    const values = minutes.map((minute) => minute[kind]);
    const total = values.reduce((sum, value) => sum + value, 0);
    return `  ${kind.padEnd(10)} ${sparkline(values)}  ${total} in all, at most ${Math.max(...values)}/min\n`;
  });
  return `last hour  per minute, ${first} to ${last} UTC\n${series.join('')}`;
}

/**
 * `reconcile  last run 2026-12-01T09:15:00Z, window 08:50:00Z to 09:15:00Z: listed 120, new 3,
 * known 117`, and a second line while runs fail.
 */
export function reconcileLines(reconcile: Stats['reconcile']): string {
  const last =
    reconcile.last_run_at === null
      ? 'no run has succeeded yet'
      : `last run ${formatTime(reconcile.last_run_at)}, window ${formatTime(reconcile.last_window_from)} to ` +
        `${formatTime(reconcile.last_cursor)}: listed ${reconcile.last_listed ?? 0}, ` +
        `new ${reconcile.last_found ?? 0}, known ${reconcile.last_known ?? 0}`;
  const failing =
    reconcile.consecutive_failures === 0
      ? ''
      : `           ${reconcile.consecutive_failures} failed run(s) since, the last at ` +
        `${formatTime(reconcile.last_error_at)}: ${reconcile.last_error ?? 'no reason recorded'}\n`;
  return `reconcile  ${last}\n${failing}`;
}

type ProviderRow = ProviderStats & { readonly provider: StatsProvider };

const PROVIDER_COLUMNS: ReadonlyArray<Column<ProviderRow>> = [
  { header: 'PROVIDER', value: (row) => row.provider },
  { header: 'BREAKER', value: (row) => row.breaker },
  { header: 'CALLS 1H', value: (row) => row.calls_1h, align: 'right' },
  { header: 'ERRORS 1H', value: (row) => row.errors_1h, align: 'right' },
  {
    header: 'LAST ERROR',
    value: (row) =>
      row.last_error_code ? `${row.last_error_code} at ${formatTime(row.last_error_at)}` : null,
  },
];

export const stats = defineCommand<void>({
  name: 'stats',
  summary: 'counts by status, outcomes, backlog, the last hour, provider health',
  synopsis: '',
  parse: () => undefined,
  async run(_, context) {
    const current = await withDatabase(context, readStats);
    const { stdout } = context;
    const { backlog } = current;
    const total = Object.values(current.events_by_status).reduce((sum, n) => sum + n, 0);
    stdout.write(
      `events     ${counts(current.events_by_status, EVENT_STATUSES)}\n` +
        `outcomes   ${counts(current.outcomes_24h, EVENT_OUTCOMES)} (finished in the last 24h)\n` +
        `backlog    ${backlog.due} due (oldest ${backlog.oldest_due_age_s}s), ${backlog.waiting_retry} waiting for a retry\n` +
        lastHour(current.per_minute_1h) +
        '\n',
    );
    const providers = STATS_PROVIDERS.filter((name) => current.providers[name]).map((name) => ({
      provider: name,
      ...current.providers[name],
    }));
    printTable(stdout, PROVIDER_COLUMNS, providers);
    stdout.write(`\n${reconcileLines(current.reconcile)}`);
    const open = providers.filter((row) => row.breaker !== 'closed');
    const breakers =
      open.length === 0
        ? 'all breakers closed'
        : open.map((row) => `${row.provider} ${row.breaker}`).join(', ');
    stdout.write(`stats: ${total} events, ${backlog.due} due, ${breakers}\n`);
  },
});
