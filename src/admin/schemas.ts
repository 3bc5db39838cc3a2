import { Type, type TSchema } from 'typebox';
import { EVENT_OUTCOMES, EVENT_STATUSES, HOOK_ACTIONS } from './filter.ts';
import { MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE } from './events.ts';
import { REQUEUE_FROM } from './requeue.ts';
import { STATS_PROVIDERS } from './stats.ts';

/**
 * The admin API's requests and answers, fixed by the operators' spec. Each schema validates,
 * serialises (undeclared fields never leave), and documents (the OpenAPI document is generated
 * from them).
 */

const nullable = (schema: TSchema) => Type.Union([schema, Type.Null()]);
const enumOf = <const Values extends readonly string[]>(values: Values, description?: string) =>
  Type.Enum([...values] as [...Values], description ? { description } : {});
const instant = (description: string) => Type.String({ format: 'date-time', description });
const nullableInstant = (description: string) => nullable(instant(description));

export const AdminErrorBody = Type.Object({
  error: Type.String({
    description: 'A stable code: unauthorized, not_found, bad_request, event_running, …',
  }),
  message: Type.Optional(Type.String()),
});

export const EventSummary = Type.Object({
  id: Type.String({ format: 'uuid' }),
  lead_id: Type.String(),
  updated_at: instant("The lead's update time the event carries"),
  hook_action: nullable(Type.String()),
  status: enumOf(EVENT_STATUSES),
  outcome: nullable(enumOf(EVENT_OUTCOMES)),
  attempts: Type.Integer(),
  error_code: nullable(Type.String()),
  received_at: instant('When the webhook stored it'),
  finished_at: nullableInstant('When it completed or failed'),
});

const Note = Type.Object({
  ref: Type.String(),
  state: Type.String({ description: 'pending, sent, unknown, or dry_run (kept under DRY_RUN, not posted)' }),
  sent_at: nullableInstant('When C2S took it'),
  body: Type.Optional(
    Type.String({ description: "A dry-run note's text, in an event's detail only (until RETENTION_DAYS)" }),
  ),
});

const Step = Type.Object({
  step: Type.String(),
  status: Type.String({ description: 'succeeded or failed' }),
  attempts: Type.Integer(),
  started_at: instant('Start of its last attempt'),
  finished_at: nullableInstant('End of its last attempt'),
  duration_ms: nullable(Type.Integer()),
  error_code: nullable(Type.String()),
  error_message: nullable(Type.String()),
});

export const EventDetail = Type.Object({
  ...EventSummary.properties,
  error_message: nullable(Type.String()),
  payload: Type.Unknown({ description: 'The raw payload, personal data masked; null once purged' }),
  steps: Type.Array(Step, { description: 'In workflow order' }),
  note: nullable(Note),
});

export const FilterFields = {
  status: Type.Optional(enumOf(EVENT_STATUSES)),
  outcome: Type.Optional(enumOf(EVENT_OUTCOMES)),
  lead_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  error_code: Type.Optional(Type.String({ pattern: '^[a-z0-9_]{1,64}$' })),
  hook_action: Type.Optional(enumOf(HOOK_ACTIONS)),
  since: Type.Optional(instant('Received at or after (RFC 3339)')),
  until: Type.Optional(instant('Received before (RFC 3339)')),
};

export const ListQuery = Type.Object({
  ...FilterFields,
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })),
  cursor: Type.Optional(Type.String({ description: 'next_cursor of the previous page' })),
});

export const EventPage = Type.Object({
  events: Type.Array(EventSummary),
  next_cursor: nullable(Type.String()),
});

export const EventParams = Type.Object({ id: Type.String() });
export const LeadParams = Type.Object({ lead_id: Type.String({ minLength: 1, maxLength: 200 }) });

const From = enumOf(
  REQUEUE_FROM,
  'failed_step (default): resume at the step that failed; start: run every step again',
);

export const ReprocessBody = Type.Union([Type.Object({ from: Type.Optional(From) }), Type.Null()]);

export const Reprocessed = Type.Object({
  event_id: Type.String({ format: 'uuid' }),
  status: Type.Literal('received'),
});

export const ReplayBody = Type.Object({
  filter: Type.Object(FilterFields, { additionalProperties: false }),
  dry_run: Type.Optional(Type.Boolean({ default: false, description: 'Count only; change nothing' })),
  from: Type.Optional(From),
});

export const Replayed = Type.Object({
  matched: Type.Integer({ description: 'Events matching the filter' }),
  scheduled: Type.Integer({ description: 'Of those, queued again (finished, and the newest of their lead)' }),
  dry_run: Type.Boolean(),
});

export const LeadHistory = Type.Object({
  lead_id: Type.String(),
  events: Type.Array(EventSummary),
  notes: Type.Array(Note),
});

const ProviderStats = Type.Object({
  breaker: enumOf(['closed', 'open', 'half_open']),
  last_error_code: nullable(Type.String()),
  last_error_at: nullableInstant('Of the last failed call'),
  calls_1h: Type.Integer({ description: 'Calls that reached the provider in the last hour' }),
  errors_1h: Type.Integer(),
});

const counts = Type.Record(Type.String(), Type.Integer());

export const Stats = Type.Object({
  events_by_status: counts,
  outcomes_24h: counts,
  backlog: Type.Object({
    due: Type.Integer({ description: 'Unfinished events waiting for a worker now' }),
    waiting_retry: Type.Integer({ description: 'Unfinished events waiting for their retry time' }),
    oldest_due_age_s: Type.Integer({ description: 'Age of the oldest event waiting for a worker' }),
  }),
  per_minute_1h: Type.Array(
    Type.Object({
      minute: instant('Start of the minute'),
      received: Type.Integer(),
      completed: Type.Integer(),
      failed: Type.Integer(),
    }),
  ),
  providers: Type.Object(Object.fromEntries(STATS_PROVIDERS.map((name) => [name, ProviderStats]))),
  reconcile: Type.Object(
    {
      last_run_at: nullableInstant('When the last succeeded run finished'),
      last_cursor: nullableInstant('The end of its window: the next run starts there, less 10 minutes'),
      last_found: nullable(Type.Integer({ description: 'Events it stored that no webhook had brought' })),
      last_window_from: nullableInstant('The start of its window'),
      last_listed: nullable(Type.Integer({ description: 'Leads C2S listed in its window' })),
      last_known: nullable(Type.Integer({ description: 'Of those, events already stored' })),
      consecutive_failures: Type.Integer({
        description: 'Runs failed since the last succeeded one (a crashed run counts)',
      }),
      last_error: nullable(Type.String({ description: 'The newest of those failures: code and message' })),
      last_error_at: nullableInstant('When that failed run started'),
    },
    { description: 'The scheduled reconciliation of missed webhooks (RECONCILE_INTERVAL_MINUTES)' },
  ),
});

export const Failures = Type.Object({
  failures: Type.Array(
    Type.Object({
      error_code: Type.String(),
      count: Type.Integer(),
      last_failed_at: nullableInstant('When the last of them failed'),
    }),
  ),
});
