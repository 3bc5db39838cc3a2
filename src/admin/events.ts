import type pg from 'pg';
import { AdminInputError } from './errors.ts';
import { FINISHED, newestFirst, PHASE, type EventFilter } from './filter.ts';
import { maskPayload } from './masking.ts';

/** One event as operators see it in lists (the spec's `EventSummary`). */
export interface EventSummary {
  readonly id: string;
  readonly lead_id: string;
  readonly updated_at: string;
  readonly hook_action: string | null;
  readonly status: string;
  readonly outcome: string | null;
  readonly attempts: number;
  readonly error_code: string | null;
  readonly received_at: string;
  readonly finished_at: string | null;
}

export interface StepView {
  readonly step: string;
  readonly status: string;
  readonly attempts: number;
  readonly started_at: string;
  readonly finished_at: string | null;
  readonly duration_ms: number | null;
  readonly error_code: string | null;
  readonly error_message: string | null;
}

export interface NoteView {
  readonly ref: string;
  readonly state: string;
  readonly sent_at: string | null;
  /** The text of a dry-run note (DRY_RUN kept it instead of posting): only in an event's detail. */
  readonly body?: string;
}

export interface EventDetail extends EventSummary {
  readonly error_message: string | null;
  /** The raw payload, masked; null once retention has blanked it. */
  readonly payload: unknown;
  readonly steps: readonly StepView[];
  readonly note: NoteView | null;
}

export interface EventPage {
  readonly events: readonly EventSummary[];
  readonly next_cursor: string | null;
}

/** Times as RFC 3339 in UTC with microseconds, as stored (fixed width: sorts as the time does). */
export const iso = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export const SUMMARY_COLUMNS = `id, lead_id, ${iso('updated_at')} AS updated_at, hook_action, status, outcome, attempts,
  error_code, ${iso('received_at')} AS received_at, ${iso('processed_at')} AS finished_at`;

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/**
 * A page of events matching `filter`, newest first (by received time, then id). The cursor is
 * the last row's key: the next page starts right after it, on the filter's index, so every page
 * costs the same however deep (no OFFSET, and no count). See `newestFirst`.
 */
export async function listEvents(
  db: pg.Pool,
  filter: EventFilter,
  page: { readonly limit?: number; readonly cursor?: string } = {},
): Promise<EventPage> {
  const limit = page.limit ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE)
    throw new AdminInputError(`limit must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
  const [receivedAt, id] = page.cursor === undefined ? [] : decodeCursor(page.cursor);
  const query = newestFirst(filter, {
    columns: SUMMARY_COLUMNS,
    after: receivedAt !== undefined && id !== undefined ? { receivedAt, id } : undefined,
    limit: limit + 1,
  });
  const { rows } = await db.query<EventSummary>(query);
  const events = rows.slice(0, limit);
  const last = events.at(-1);
  return {
    events,
    next_cursor: rows.length > limit && last ? encodeCursor(last.received_at, last.id) : null,
  };
}

function encodeCursor(receivedAt: string, id: string): string {
  return Buffer.from(`${receivedAt}|${id}`).toString('base64url');
}

const CURSOR = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)\|([0-9a-f-]{36})$/;

function decodeCursor(cursor: string): [string, string] {
  const match = CURSOR.exec(Buffer.from(cursor, 'base64url').toString());
  // Shaped like ours but no real time or uuid (tampered): refused here, not by PostgreSQL's casts.
  if (!match || !isEventId(match[2]!) || !isUtcInstant(match[1]!))
    throw new AdminInputError('cursor is not one this API returned', 'invalid_cursor');
  return [match[1]!, match[2]!];
}

/** `2026-12-01T09:00:00.123456Z` names a real instant (no 2026-02-30, no 25:00). */
function isUtcInstant(text: string): boolean {
  const at = new Date(text);
  return !Number.isNaN(at.getTime()) && at.toISOString().slice(0, 23) === text.slice(0, 23);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `id` can be an event id at all (anything else is simply not found). */
export function isEventId(id: string): boolean {
  return UUID.test(id);
}

/**
 * One event with its step timeline (in `stepOrder`, the workflow's order), its masked payload and
 * its note: the note this event claimed, else the one of the same reference on the lead (an
 * `unchanged` event points at the note an earlier event posted). Undefined when there is none.
 */
export async function eventDetail(
  db: pg.Pool,
  id: string,
  stepOrder: readonly string[],
): Promise<EventDetail | undefined> {
  if (!isEventId(id)) return undefined;
  const { rows } = await db.query<EventSummary & { error_message: string | null; payload: unknown }>(
    `SELECT ${SUMMARY_COLUMNS}, error_message, payload_raw AS payload FROM webhook_events WHERE id = $1`,
    [id],
  );
  const event = rows[0];
  if (!event) return undefined;
  const [steps, note] = await Promise.all([
    db.query<StepView>(
      `SELECT step, status, attempts, ${iso('started_at')} AS started_at, ${iso('finished_at')} AS finished_at,
              duration_ms, error_code, error_message
       FROM event_steps WHERE event_id = $1
       ORDER BY coalesce(array_position($2::text[], step), 1000), started_at`,
      [id, stepOrder],
    ),
    db.query<NoteView & { body: string | null }>(
      `SELECT ref, state, ${iso('sent_at')} AS sent_at, CASE WHEN state = 'dry_run' THEN body END AS body FROM notes
       WHERE lead_id = $2 AND (event_id = $1 OR ref = (
         SELECT output -> 'output' ->> 'ref' FROM event_steps
         WHERE event_id = $1 AND step = 'normalise_contacts' AND status = 'succeeded'))
       ORDER BY (event_id = $1) DESC NULLS LAST, updated_at DESC LIMIT 1`,
      [id, event.lead_id],
    ),
  ]);
  const found = note.rows[0];
  const { body, ...ledger } = found ?? { body: null };
  return {
    ...event,
    payload: maskPayload(event.payload),
    steps: steps.rows,
    note: found ? { ...(ledger as NoteView), ...(body === null ? {} : { body }) } : null,
  };
}

export interface LeadHistory {
  readonly lead_id: string;
  readonly events: readonly EventSummary[];
  readonly notes: readonly NoteView[];
}

/** Most events a lead's history lists (newest first): a lead gets a handful in practice. */
const LEAD_HISTORY_LIMIT = 500;

/** Every event of a lead (newest first) and every note the ledger holds for it. */
export async function leadHistory(db: pg.Pool, leadId: string): Promise<LeadHistory> {
  const [events, notes] = await Promise.all([
    db.query<EventSummary>(
      `SELECT ${SUMMARY_COLUMNS} FROM webhook_events WHERE lead_id = $1
       ORDER BY received_at DESC, id DESC LIMIT ${LEAD_HISTORY_LIMIT}`,
      [leadId],
    ),
    db.query<NoteView>(
      `SELECT ref, state, ${iso('sent_at')} AS sent_at FROM notes WHERE lead_id = $1 ORDER BY created_at DESC`,
      [leadId],
    ),
  ]);
  return { lead_id: leadId, events: events.rows, notes: notes.rows };
}

export interface FailureGroup {
  readonly error_code: string;
  readonly count: number;
  readonly last_failed_at: string | null;
}

/**
 * Failed events grouped by error code, most frequent first: what failed and why, at a glance.
 * Reads the failed events only, through the phase index.
 */
export async function failureGroups(db: pg.Pool): Promise<FailureGroup[]> {
  const { rows } = await db.query<FailureGroup>(
    `SELECT coalesce(error_code, 'unknown') AS error_code, count(*)::int AS count,
            ${iso('max(processed_at)')} AS last_failed_at
     FROM webhook_events WHERE ${PHASE} = 'failed' AND ${FINISHED}
     GROUP BY 1 ORDER BY count DESC, error_code`,
  );
  return rows;
}
