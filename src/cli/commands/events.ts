import { listEvents, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE, type EventSummary } from '../../admin/events.ts';
import type { EventFilter } from '../../admin/filter.ts';
import { defineCommand, text, UsageError, type CommandArgs } from '../command.ts';
import { withDatabase } from '../database.ts';
import { FILTER_DETAILS, FILTER_OPTIONS, FILTER_SYNOPSIS, filterFromArgs } from '../filter-options.ts';
import { printTable, type Column } from '../table.ts';
import { formatTime } from '../time.ts';

interface EventsInput {
  readonly filter: EventFilter;
  readonly limit: number;
  readonly cursor: string | undefined;
}

function limitOf(args: CommandArgs): number {
  const raw = text(args, 'limit');
  if (raw === undefined) return DEFAULT_PAGE_SIZE;
  const limit = Number(raw);
  if (!/^\d+$/.test(raw) || limit < 1 || limit > MAX_PAGE_SIZE)
    throw new UsageError(`--limit must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
  return limit;
}

/** An event list's columns; shared with anything else that lists events. */
export const EVENT_COLUMNS: ReadonlyArray<Column<EventSummary>> = [
  { header: 'ID', value: (event) => event.id, whole: true },
  { header: 'RECEIVED', value: (event) => formatTime(event.received_at), whole: true },
  { header: 'LEAD', value: (event) => event.lead_id },
  { header: 'ACTION', value: (event) => event.hook_action },
  { header: 'STATUS', value: (event) => event.status },
  { header: 'OUTCOME', value: (event) => event.outcome },
  { header: 'ATTEMPTS', value: (event) => event.attempts, align: 'right' },
  { header: 'ERROR', value: (event) => event.error_code },
];

export const events = defineCommand<EventsInput>({
  name: 'events',
  summary: 'list events, newest first, a page at a time',
  synopsis: `${FILTER_SYNOPSIS} [--limit <n>] [--cursor <cursor>]`,
  details: `${FILTER_DETAILS}
  --limit <n>         events per page, 1 to ${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE})
  --cursor <cursor>   the next page, as the previous page's summary line gives it`,
  options: { ...FILTER_OPTIONS, limit: { type: 'string' }, cursor: { type: 'string' } },
  parse: (args, now) => ({
    filter: filterFromArgs(args, now()),
    limit: limitOf(args),
    cursor: text(args, 'cursor'),
  }),
  async run({ filter, limit, cursor }, context) {
    const page = await withDatabase(context, (db) => listEvents(db, filter, { limit, cursor }));
    const { stdout } = context;
    if (page.events.length > 0) printTable(stdout, EVENT_COLUMNS, page.events);
    const more = page.next_cursor === null ? 'no more' : `more: --cursor ${page.next_cursor}`;
    stdout.write(`events: ${page.events.length} shown, ${more}\n`);
  },
});
