import { AdminInputError } from './errors.ts';

/**
 * Which events an operator means: the filters of the admin list and of replay, shared by the
 * admin API and the command line, checked here once.
 */
export interface EventFilter {
  readonly status?: EventStatus;
  readonly outcome?: EventOutcome;
  readonly leadId?: string;
  readonly errorCode?: string;
  readonly hookAction?: HookActionName;
  /** Received at or after. */
  readonly since?: Date;
  /** Received before. */
  readonly until?: Date;
}

export const EVENT_STATUSES = [
  'received',
  'processing',
  'completed',
  'failed',
  'stale',
  'superseded',
] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];
export const EVENT_OUTCOMES = ['enriched', 'no_match', 'unchanged', 'closed', 'suppressed'] as const;
export type EventOutcome = (typeof EVENT_OUTCOMES)[number];
export const HOOK_ACTIONS = ['on_create_lead', 'on_update_lead', 'on_close_lead'] as const;
export type HookActionName = (typeof HOOK_ACTIONS)[number];

/** A filter as given on the wire or the command line (snake_case, text). */
export interface RawFilter {
  readonly status?: string | undefined;
  readonly outcome?: string | undefined;
  readonly lead_id?: string | undefined;
  readonly error_code?: string | undefined;
  readonly hook_action?: string | undefined;
  readonly since?: string | undefined;
  readonly until?: string | undefined;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;
const ERROR_CODE = /^[a-z0-9_]{1,64}$/;
const MAX_LEAD_ID = 200;

/**
 * An instant as RFC 3339 text gave it: a Date (milliseconds) that keeps the microseconds too,
 * as PostgreSQL stores received times, so that an event's `received_at` given back as `since`
 * or `until` is matched exactly.
 */
export class Instant extends Date {
  /** UTC with microseconds: `2026-12-01T12:00:00.123456Z`. */
  readonly micros: string;

  constructor(text: string, fraction: string) {
    super(text);
    this.micros = `${this.toISOString().slice(0, 19)}.${fraction.padEnd(6, '0').slice(0, 6)}Z`;
  }
}

/** A Date as a filter compares it: to the microsecond when it is an Instant. */
function preciseText(at: Date): string {
  return at instanceof Instant ? at.micros : at.toISOString().replace('Z', '000Z');
}

/** An RFC 3339 instant, or a clear refusal naming the field. */
export function parseInstant(field: string, value: string): Instant {
  const match = RFC3339.exec(value);
  // Date rolls 2026-02-30 over to 2026-03-02 and 24:00 to the next day: refuse what is no real instant.
  const valid =
    match !== null &&
    isCalendarDay(+match[1]!, +match[2]!, +match[3]!) &&
    !Number.isNaN(new Date(value).getTime());
  if (!valid)
    throw new AdminInputError(`${field} must be an RFC 3339 date-time such as 2026-12-01T09:00:00Z`);
  return new Instant(value, match[5] ?? '');
}

function isCalendarDay(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function oneOf<T extends string>(field: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new AdminInputError(`${field} must be one of ${allowed.join(', ')}`);
  return value as T;
}

/** Checks and types a filter; every field is optional. */
export function parseFilter(raw: RawFilter): EventFilter {
  const filter: { -readonly [K in keyof EventFilter]: EventFilter[K] } = {};
  if (raw.status !== undefined) filter.status = oneOf('status', raw.status, EVENT_STATUSES);
  if (raw.outcome !== undefined) filter.outcome = oneOf('outcome', raw.outcome, EVENT_OUTCOMES);
  if (raw.hook_action !== undefined) filter.hookAction = oneOf('hook_action', raw.hook_action, HOOK_ACTIONS);
  if (raw.lead_id !== undefined) {
    if (raw.lead_id === '' || raw.lead_id.length > MAX_LEAD_ID)
      throw new AdminInputError(`lead_id must be 1 to ${MAX_LEAD_ID} characters`);
    filter.leadId = raw.lead_id;
  }
  if (raw.error_code !== undefined) {
    if (!ERROR_CODE.test(raw.error_code))
      throw new AdminInputError('error_code must be a code such as c2s_not_found (a-z, 0-9, _)');
    filter.errorCode = raw.error_code;
  }
  if (raw.since !== undefined) filter.since = parseInstant('since', raw.since);
  if (raw.until !== undefined) filter.until = parseInstant('until', raw.until);
  if (filter.since && filter.until && preciseText(filter.since) >= preciseText(filter.until))
    throw new AdminInputError('since must be before until');
  return filter;
}

export function isEmptyFilter(filter: EventFilter): boolean {
  return Object.values(filter).every((value) => value === undefined);
}

/**
 * An event's phase: its status, or for a completed event its outcome. One index
 * (`webhook_events_phase_idx`) serves both filters; the expression must be written exactly so.
 */
export const PHASE = `(CASE WHEN status = 'completed' THEN outcome ELSE status END)`;

/**
 * The SQL conditions of a filter, with their values appended to `values` (placeholders follow
 * on from what `values` already holds). Each condition matches an index (see migration 0007).
 */
export function filterConditions(filter: EventFilter, values: unknown[]): string[] {
  const conditions: string[] = [];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  // Completed events are most of the table: the received-time index serves them best.
  if (filter.status === 'completed') conditions.push(`status = 'completed'`);
  else if (filter.status !== undefined) conditions.push(`${PHASE} = ${param(filter.status)}`);
  if (filter.outcome !== undefined) conditions.push(`${PHASE} = ${param(filter.outcome)}`);
  if (filter.leadId !== undefined) conditions.push(`lead_id = ${param(filter.leadId)}`);
  if (filter.errorCode !== undefined) conditions.push(`error_code = ${param(filter.errorCode)}`);
  if (filter.hookAction !== undefined) conditions.push(`hook_action = ${param(filter.hookAction)}`);
  // As text: a Date parameter would lose the microseconds received times have.
  if (filter.since !== undefined) conditions.push(`received_at >= ${param(preciseText(filter.since))}`);
  if (filter.until !== undefined) conditions.push(`received_at < ${param(preciseText(filter.until))}`);
  return conditions;
}

/** Finished events: those the list indexes hold (they are partial on exactly this). */
export const FINISHED = `status NOT IN ('received', 'processing')`;
/** Unfinished events: the queue's (`webhook_events_due_idx` is partial on exactly this). */
export const UNFINISHED = `status IN ('received', 'processing')`;
const UNFINISHED_STATUSES: readonly string[] = ['received', 'processing'];

/**
 * The query for events matching `filter`, newest first (received time, then id), after the key
 * `after`, at most `limit` of them: the finished ones from the list indexes and the unfinished
 * ones from the queue's, each branch in index order, merged. `columns` must give `received_at` as
 * fixed-width UTC text (it sorts as the time does) and `id`: the merge sorts on them.
 */
export function newestFirst(
  filter: EventFilter,
  options: {
    readonly columns: string;
    readonly after?: { receivedAt: string; id: string };
    readonly limit: number;
  },
): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const conditions = filterConditions(filter, values);
  if (options.after) {
    values.push(options.after.receivedAt, options.after.id);
    conditions.push(
      `(webhook_events.received_at, webhook_events.id) < ($${values.length - 1}::timestamptz, $${values.length}::uuid)`,
    );
  }
  values.push(options.limit);
  const limit = `$${values.length}`;
  const unfinishedOnly = filter.status !== undefined && UNFINISHED_STATUSES.includes(filter.status);
  // An outcome, or a finished status, is never that of an unfinished event.
  const finishedOnly = filter.outcome !== undefined || (filter.status !== undefined && !unfinishedOnly);
  const branches = [...(unfinishedOnly ? [] : [FINISHED]), ...(finishedOnly ? [] : [UNFINISHED])].map(
    (state) =>
      `(SELECT ${options.columns} FROM webhook_events WHERE ${[state, ...conditions].join(' AND ')}
        ORDER BY webhook_events.received_at DESC, webhook_events.id DESC LIMIT ${limit})`,
  );
  return {
    text: `SELECT * FROM (${branches.join(' UNION ALL ')}) page ORDER BY received_at DESC, id DESC LIMIT ${limit}`,
    values,
  };
}
