import type pg from 'pg';
import { storableText } from '../db/text.ts';
import { timeOrderedId } from '../db/time-ordered-id.ts';
import { eventKey, type LeadEvent, type RejectedEvent } from './envelope.ts';

/** Rejected input is kept up to this many characters: enough to see what was wrong. */
const EXCERPT_CHARS = 8192;

/** What happened to one event on insert: stored as `received` or `stale`, or already there. */
export interface StoredEvent {
  readonly status: 'received' | 'stale' | 'duplicate';
  /** For a duplicate, the stored event's id when this statement could see it. */
  readonly eventId: string | undefined;
}

/** Where an event came from: a webhook delivery, or reconciliation's listing of C2S leads. */
export type EventSource = 'webhook' | 'reconcile';

/**
 * Inserts a batch of events in one statement (one round trip, one implicit transaction); a
 * `received` event is queued by being stored (see queue.ts). Webhooks and reconciliation both
 * store through here, so both get the same idempotency, latest-wins and queueing.
 * - ON CONFLICT DO NOTHING makes concurrent identical deliveries store one row;
 * - rows go in key order so concurrent batches lock in the same order and cannot deadlock;
 * - an event older than the lead's newest (stored, or in the same batch) is stored as `stale`.
 * Events must be distinct by (leadId, updatedAt); `requestIds[n]` is the request that brought
 * `events[n]`. Results come back in input order.
 */
const INSERT_EVENTS = `
WITH input AS (
  SELECT x.id, x.lead_id, x.updated_at, x.hook_action, p.payload, x.request_id, x.ord
  FROM ROWS FROM (json_to_recordset($1::json)
    AS (id uuid, lead_id text, updated_at timestamptz, hook_action text, request_id text))
    WITH ORDINALITY AS x(id, lead_id, updated_at, hook_action, request_id, ord)
  -- Payloads apart, as one jsonb array: each is parsed once (inside the json record, twice).
  JOIN jsonb_array_elements($2::jsonb) WITH ORDINALITY AS p(payload, ord) ON p.ord = x.ord
), classified AS (
  SELECT input.*,
         input.updated_at < greatest(
           (SELECT max(e.updated_at) FROM webhook_events e WHERE e.lead_id = input.lead_id),
           max(input.updated_at) OVER (PARTITION BY input.lead_id)) AS stale
  FROM input
), inserted AS (
  INSERT INTO webhook_events (id, lead_id, updated_at, hook_action, payload_raw, status, request_id, source)
  SELECT id, lead_id, updated_at, hook_action, payload, CASE WHEN stale THEN 'stale' ELSE 'received' END, request_id,
         $3::text
  FROM classified
  ORDER BY lead_id, updated_at
  ON CONFLICT (lead_id, updated_at) DO NOTHING
  RETURNING id, lead_id, updated_at, status
)
SELECT i.id AS inserted_id, i.status,
       -- Looked up for duplicates only, by key: a join here let the planner scan the whole table.
       CASE WHEN i.id IS NULL THEN (
         SELECT e.id FROM webhook_events e WHERE e.lead_id = c.lead_id AND e.updated_at = c.updated_at
       ) END AS existing_id
FROM classified c
LEFT JOIN inserted i ON i.lead_id = c.lead_id AND i.updated_at = c.updated_at
ORDER BY c.ord`;

export async function insertEvents(
  db: pg.Pool | pg.ClientBase,
  events: readonly LeadEvent[],
  requestIds: readonly string[],
  source: EventSource = 'webhook',
): Promise<StoredEvent[]> {
  const input = JSON.stringify(
    events.map((event, n) => ({
      // Time-ordered (see timeOrderedId); a duplicate's goes unused.
      id: timeOrderedId(),
      lead_id: event.leadId,
      updated_at: event.updatedAt,
      hook_action: event.hookAction,
      request_id: requestIds[n],
    })),
  );
  const payloads = JSON.stringify(events.map((event) => event.payload));
  const { rows } = await db.query<{
    inserted_id: string | null;
    status: 'received' | 'stale' | null;
    existing_id: string | null;
  }>({ name: 'insert-webhook-events', text: INSERT_EVENTS, values: [input, payloads, source] });
  return rows.map((row) =>
    row.inserted_id !== null && row.status !== null
      ? { status: row.status, eventId: row.inserted_id }
      : { status: 'duplicate', eventId: row.existing_id ?? undefined },
  );
}

/**
 * Which of these (lead, instant) pairs are stored already, as `eventKey`s: what a dry run of
 * reconciliation reports instead of storing. Reads only, by the idempotency key's index.
 */
export async function storedEventKeys(
  db: pg.Pool | pg.ClientBase,
  events: ReadonlyArray<Pick<LeadEvent, 'leadId' | 'updatedAt'>>,
): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  const { rows } = await db.query<{ lead_id: string; updated_at: string }>({
    name: 'stored-event-keys',
    text: `SELECT x.lead_id, x.updated_at
           FROM unnest($1::text[], $2::text[]) AS x(lead_id, updated_at)
           WHERE EXISTS (SELECT 1 FROM webhook_events e
                         WHERE e.lead_id = x.lead_id AND e.updated_at = x.updated_at::timestamptz)`,
    values: [events.map((event) => event.leadId), events.map((event) => event.updatedAt)],
  });
  return new Set(rows.map((row) => eventKey(row.lead_id, row.updated_at)));
}

export interface RejectedRecord {
  /** A `RejectionReason`, or `malformed_json` for a body that is not JSON. */
  readonly reason: RejectedEvent['reason'] | 'malformed_json';
  readonly message: string;
  readonly leadId?: string;
  /** Position in the request's batch; null when the whole body was refused (e.g. malformed JSON). */
  readonly index: number | null;
  readonly excerpt: string;
}

/** Keeps rejected input for inspection, trimming the table to the newest `keep` rows. */
export async function recordRejected(
  db: pg.Pool,
  rejected: readonly RejectedRecord[],
  requestId: string,
  keep: number,
): Promise<void> {
  if (rejected.length === 0 || keep === 0) return;
  const input = JSON.stringify(
    rejected.map((record) => ({
      event_index: record.index,
      reason: record.reason,
      message: record.message,
      lead_id: record.leadId ?? null,
      payload_excerpt: storableText(record.excerpt.slice(0, EXCERPT_CHARS)),
    })),
  );
  await db.query({
    name: 'record-rejected-webhooks',
    text: `
      WITH added AS (
        INSERT INTO rejected_webhooks (request_id, event_index, reason, message, lead_id, payload_excerpt)
        SELECT $1, x.event_index, x.reason, x.message, x.lead_id, x.payload_excerpt
        FROM json_to_recordset($2::json) AS x(event_index int, reason text, message text, lead_id text, payload_excerpt text)
        RETURNING id
      )
      DELETE FROM rejected_webhooks WHERE id <= (SELECT max(id) FROM added) - $3::bigint`,
    values: [requestId, input, keep],
  });
}

/** Events stored but not yet finished: what the service still owes. */
export async function countBacklog(db: pg.Pool): Promise<number> {
  const { rows } = await db.query<{ count: string }>({
    name: 'count-backlog',
    text: `SELECT count(*) FROM webhook_events WHERE status IN ('received', 'processing')`,
  });
  return Number(rows[0]?.count ?? 0);
}
