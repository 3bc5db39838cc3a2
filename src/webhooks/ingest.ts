import type pg from 'pg';
import {
  BacklogFullError,
  DatabaseUnavailableError,
  IngestOverloadedError,
  isDatabaseUnavailable,
} from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics.ts';
import { storableText } from '../db/text.ts';
import {
  eventKey,
  mayHoldUnstorableText,
  normaliseEvent,
  updatedAtField,
  type LeadEvent,
} from './envelope.ts';
import { countBacklog, recordRejected, type RejectedRecord } from './events-repository.ts';
import { createGroupCommit } from './group-commit.ts';
import type { EventResult, Received, Refusal } from './schemas.ts';

export interface IngestAnswer {
  readonly statusCode: 200 | 400 | 413;
  /** As the route's response schemas declare it: a refusal's `error` is one of the catalogue's codes. */
  readonly body: Received | Refusal;
  /** What the request's log line should say about it: counts only. */
  readonly summary?: Record<string, number>;
}

export interface IngestOptions {
  readonly db: pg.Pool;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly maxEventsPerRequest: number;
  readonly maxBacklog: number;
  /** Events waiting in memory for the next group commit (see `createGroupCommit`). */
  readonly maxQueuedEvents: number;
  readonly rejectedKeep: number;
  /** Tells the workers that committed jobs wait. */
  readonly wake: () => Promise<void>;
}

/** Per request; a hostile batch of thousands of bad events must not flood the table. */
const REJECTED_RECORDED_PER_REQUEST = 100;
const BACKLOG_REFRESH_MS = 1000;

/**
 * Webhook ingest: parse, normalise, store. Valid events of a request are committed in one
 * statement before the answer; invalid ones are reported per event and kept for inspection.
 */
export function createIngest(options: IngestOptions) {
  const { db, logger, metrics } = options;
  const backlog = backlogMonitor(db, metrics, logger);
  const store = createGroupCommit({ db, wake: options.wake, maxQueuedEvents: options.maxQueuedEvents });

  return async function ingest(rawBody: string, requestId: string): Promise<IngestAnswer> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawBody);
    } catch {
      // JSON.parse's message quotes the body, which may hold personal data: keep it out of answers and logs.
      metrics.webhookRequestsRefused.inc({ reason: 'malformed_json' });
      await keepRejected(
        [{ index: null, reason: 'malformed_json', message: 'body is not valid JSON', excerpt: rawBody }],
        requestId,
      );
      return {
        statusCode: 400,
        body: { error: 'malformed_json', message: 'the request body is not valid JSON' },
      };
    }

    const items = Array.isArray(parsed) ? parsed : [parsed];
    if (items.length === 0) {
      metrics.webhookRequestsRefused.inc({ reason: 'empty_batch' });
      return { statusCode: 400, body: { error: 'empty_batch', message: 'the request holds no event' } };
    }
    if (items.length > options.maxEventsPerRequest) {
      metrics.webhookRequestsRefused.inc({ reason: 'too_many_events' });
      return {
        statusCode: 413,
        body: {
          error: 'too_many_events',
          message: `a request may carry at most ${options.maxEventsPerRequest} events (got ${items.length})`,
        },
      };
    }

    const results: EventResult[] = [];
    const toStore: LeadEvent[] = [];
    const storedAt: number[] = []; // results index of each event in toStore
    const firstIndexOfKey = new Map<string, number>();
    const rejected: RejectedRecord[] = [];

    const textChecked = !mayHoldUnstorableText(rawBody);
    items.forEach((item, index) => {
      const normalised = normaliseEvent(item, textChecked);
      if (!normalised.ok) {
        results.push({
          index,
          lead_id: normalised.leadId ?? null,
          updated_at: rawUpdatedAt(item),
          outcome: 'rejected',
          reason: normalised.reason,
          message: normalised.message,
        });
        if (rejected.length < REJECTED_RECORDED_PER_REQUEST) {
          rejected.push({ ...normalised, index, excerpt: excerptOf(item) });
        }
        return;
      }
      const { event } = normalised;
      const key = eventKey(event.leadId, event.updatedAt);
      const first = firstIndexOfKey.get(key);
      results.push({ index, lead_id: event.leadId, updated_at: event.updatedAt, outcome: 'duplicate' });
      if (first !== undefined) return; // the same event twice in one request: stored once
      firstIndexOfKey.set(key, index);
      toStore.push(event);
      storedAt.push(index);
    });

    if (toStore.length > 0) {
      if (backlog.current() >= options.maxBacklog) {
        metrics.webhookRequestsRefused.inc({ reason: 'backlog_full' });
        throw new BacklogFullError('too many events are waiting to be processed; retry later');
      }
      let stored;
      try {
        // Stored is queued (the event row is its job), with other requests' events: a 200 means it will run.
        stored = await store(toStore, requestId);
      } catch (error) {
        if (error instanceof IngestOverloadedError) {
          metrics.webhookRequestsRefused.inc({ reason: 'ingest_overloaded' });
          throw error;
        }
        if (!isDatabaseUnavailable(error)) throw error;
        metrics.webhookRequestsRefused.inc({ reason: 'database_unavailable' });
        throw new DatabaseUnavailableError('the database is unavailable; nothing was stored', {
          cause: error,
        });
      }
      backlog.added(stored.filter((event) => event.status === 'received').length);
      stored.forEach((event, position) => {
        const result = results[storedAt[position]!]!;
        if (event.status === 'received') result.outcome = 'accepted';
        else if (event.status === 'stale') result.outcome = 'stale';
        if (event.eventId !== undefined) result.event_id = event.eventId;
      });
      // Repeats inside the request point at the event their first copy stored.
      for (const result of results) {
        if (result.outcome !== 'duplicate' || result.event_id !== undefined) continue;
        const first = results[firstIndexOfKey.get(eventKey(result.lead_id!, result.updated_at!)) ?? -1];
        if (first?.event_id !== undefined && first !== result) result.event_id = first.event_id;
      }
    }
    await keepRejected(rejected, requestId);

    const counts = { accepted: 0, duplicate: 0, stale: 0, rejected: 0 };
    const rejections = new Map<string, number>();
    for (const result of results) {
      counts[result.outcome]++;
      if (result.reason) rejections.set(result.reason, (rejections.get(result.reason) ?? 0) + 1);
    }
    // One increment per outcome and reason, not per event: a batch of 100 makes a handful.
    for (const outcome of ['accepted', 'duplicate', 'stale'] as const)
      if (counts[outcome] > 0) metrics.webhookEvents.inc({ outcome, reason: '' }, counts[outcome]);
    for (const [reason, count] of rejections)
      metrics.webhookEvents.inc({ outcome: 'rejected', reason }, count);
    logger.debug({ requestId, received: items.length, ...counts }, 'webhook ingested');
    const summary = {
      received: items.length,
      processed: counts.accepted,
      duplicates: counts.duplicate,
      stale: counts.stale,
      rejected: counts.rejected,
      results,
    };
    const logSummary = { events: items.length, ...counts };
    if (counts.rejected === items.length) {
      return {
        statusCode: 400,
        body: { error: 'invalid_events', message: 'no event in the request is valid', ...summary },
        summary: logSummary,
      };
    }
    return { statusCode: 200, body: { status: 'received', ...summary }, summary: logSummary };
  };

  /** Best effort: failing to keep a copy of bad input must not change the answer about it. */
  async function keepRejected(records: RejectedRecord[], requestId: string): Promise<void> {
    try {
      await recordRejected(db, records, requestId, options.rejectedKeep);
    } catch (error) {
      logger.warn({ requestId, err: error }, 'could not keep rejected webhook input');
    }
  }
}

/** A rejected event's `updated_at` as sent, bounded, for its result. */
function rawUpdatedAt(item: unknown): string | null {
  const value = updatedAtField(item);
  return typeof value === 'string' ? storableText(value.slice(0, 64)) : null;
}

function excerptOf(item: unknown): string {
  let text: string;
  try {
    text = typeof item === 'string' ? item : (JSON.stringify(item) ?? String(item));
  } catch {
    text = '[not serialisable: nested too deep]';
  }
  return text;
}

/** A recent count of the backlog, refreshed in the background so a request never waits for it. */
function backlogMonitor(db: pg.Pool, metrics: Metrics, logger: Logger) {
  let count = 0;
  let refreshedAt = 0;
  let refreshing = false;
  const refresh = async () => {
    refreshing = true;
    try {
      count = await countBacklog(db);
      metrics.backlog.set(count);
    } catch (error) {
      logger.debug({ err: error }, 'backlog count failed');
    } finally {
      refreshedAt = Date.now();
      refreshing = false;
    }
  };
  return {
    current(): number {
      if (!refreshing && Date.now() - refreshedAt > BACKLOG_REFRESH_MS) void refresh();
      return count;
    },
    added(events: number) {
      count += events;
    },
  };
}

export type Ingest = ReturnType<typeof createIngest>;
