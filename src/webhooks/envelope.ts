import { storableText } from '../db/text.ts';
import { parseInstant } from './instant.ts';

/**
 * C2S webhook envelopes. Their shape is not documented reliably, so every shape seen in practice is
 * accepted and reduced to one `LeadEvent`:
 *   A    {id, hook_action, attributes: {updated_at, ...}}
 *   B    {hook_action, lead: {id, internal_id, attributes: {...}}}
 *   C    {hook_action, data: {type: "lead", id, attributes: {...}}}
 *   flat {lead_id, updated_at, hook_action, ...}
 */

export type HookAction = 'on_create_lead' | 'on_update_lead' | 'on_close_lead';

export interface LeadEvent {
  readonly leadId: string;
  /** Canonical UTC instant (see `parseInstant`). */
  readonly updatedAt: string;
  /** A known action, an unknown one as sent (bounded), or null when absent. */
  readonly hookAction: string | null;
  /** The event as received, made storable (see `storablePayload`). */
  readonly payload: unknown;
}

export type RejectionReason =
  | 'not_an_object'
  | 'missing_lead_id'
  | 'invalid_lead_id'
  | 'missing_updated_at'
  | 'invalid_updated_at'
  | 'payload_too_deep';

export interface RejectedEvent {
  readonly reason: RejectionReason;
  readonly message: string;
  readonly leadId?: string;
}

export type NormalisedEvent =
  { readonly ok: true; readonly event: LeadEvent } | ({ readonly ok: false } & RejectedEvent);

/**
 * What identifies an event, as one string: its lead and its canonical instant. Two deliveries
 * with the same key are the same event (the table's idempotency key is the same pair).
 */
export function eventKey(leadId: string, updatedAt: string): string {
  return `${leadId}\u0000${updatedAt}`;
}

/** Deeper payloads are refused: nothing legitimate nests this far, and deep JSON is a denial-of-service tool. */
export const MAX_PAYLOAD_DEPTH = 32;
const MAX_HOOK_ACTION_LENGTH = 64;

// A Map, not an object literal: `__proto__` or `toString` sent as an action must not find
// Object.prototype's members.
const ACTION_ALIASES: ReadonlyMap<string, HookAction> = new Map([
  ['on_create_lead', 'on_create_lead'],
  ['on_update_lead', 'on_update_lead'],
  ['on_close_lead', 'on_close_lead'],
  ['lead.created', 'on_create_lead'],
  ['lead.updated', 'on_update_lead'],
  ['lead.closed', 'on_close_lead'],
]);

/** Lead ids go into C2S URLs, file-like references, logs and metrics: a conservative alphabet. */
const LEAD_ID = /^[A-Za-z0-9_-]{1,128}$/;
export const LEAD_ID_RULE =
  'the lead id must be 1 to 128 characters of A-Z, a-z, 0-9, "_" and "-", or a non-negative integer';

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `textChecked`: the caller knows every string in `raw` is storable (see `mayHoldUnstorableText`),
 * so only the nesting is checked.
 */
export function normaliseEvent(raw: unknown, textChecked = false): NormalisedEvent {
  if (!isObject(raw)) {
    return { ok: false, reason: 'not_an_object', message: 'an event must be a JSON object' };
  }
  const payload = storablePayload(raw, textChecked);
  if (payload === undefined) {
    return {
      ok: false,
      reason: 'payload_too_deep',
      message: `the event nests deeper than ${MAX_PAYLOAD_DEPTH} levels`,
    };
  }

  const container = leadContainer(raw);
  const rawLeadId = container === raw && 'lead_id' in raw ? raw.lead_id : container.id;

  const leadId = leadIdOf(rawLeadId);
  if (leadId === undefined) {
    return rawLeadId === undefined || rawLeadId === null || rawLeadId === ''
      ? { ok: false, reason: 'missing_lead_id', message: 'the event has no lead id' }
      : { ok: false, reason: 'invalid_lead_id', message: LEAD_ID_RULE };
  }

  const rawUpdatedAt = updatedAtField(raw);
  if (rawUpdatedAt === undefined || rawUpdatedAt === null || rawUpdatedAt === '') {
    return { ok: false, reason: 'missing_updated_at', message: 'the event has no updated_at', leadId };
  }
  const updatedAt = typeof rawUpdatedAt === 'string' ? parseInstant(rawUpdatedAt) : undefined;
  if (updatedAt === undefined) {
    return {
      ok: false,
      reason: 'invalid_updated_at',
      message: 'updated_at must be an RFC 3339 timestamp with an offset, e.g. 2026-11-20T10:15:00.000-03:00',
      leadId,
    };
  }

  return {
    ok: true,
    event: { leadId, updatedAt, hookAction: hookActionOf(raw.hook_action ?? container.hook_action), payload },
  };
}

/** The object that holds the lead: `lead` (B), `data` (C), or the event itself (A, flat). */
function leadContainer(event: JsonObject): JsonObject {
  return isObject(event.lead) ? event.lead : isObject(event.data) ? event.data : event;
}

/**
 * The lead's attributes, whichever envelope the event came in: its container's `attributes`
 * (A, B, C), or the container's own fields when it has none (flat). An empty object for
 * anything that is not an event object.
 */
export function leadAttributes(event: unknown): Record<string, unknown> {
  if (!isObject(event)) return {};
  const container = leadContainer(event);
  return isObject(container.attributes) ? container.attributes : container;
}

/** The event's `updated_at` as sent (not yet checked), wherever its envelope keeps it. */
export function updatedAtField(event: unknown): unknown {
  if (!isObject(event)) return undefined;
  return leadAttributes(event).updated_at ?? leadContainer(event).updated_at ?? event.updated_at;
}

function leadIdOf(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? String(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const id = value.trim();
  return LEAD_ID.test(id) ? id : undefined;
}

function hookActionOf(value: unknown): string | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  const action = value.trim();
  return ACTION_ALIASES.get(action) ?? storableText(action.slice(0, MAX_HOOK_ACTION_LENGTH));
}

/**
 * The payload as PostgreSQL's jsonb can hold it, or undefined when it nests too deep.
 * jsonb refuses `\u0000` and lone surrogates, which JSON allows: those characters become U+FFFD.
 * The copy is made only when needed, so the usual payload is stored as it came. `textChecked`:
 * the caller has ruled out such characters (see `mayHoldUnstorableText`); only depth is checked.
 */
export function storablePayload(value: unknown, textChecked = false): unknown {
  const found = scan(value, 1, !textChecked);
  if (found === TOO_DEEP) return undefined;
  return found === NEEDS_COPY ? copyStorable(value) : value;
}

const FINE = 0;
const NEEDS_COPY = 1;
const TOO_DEEP = 2;

/**
 * Walks a parsed JSON value: TOO_DEEP past MAX_PAYLOAD_DEPTH, NEEDS_COPY when a string (or key)
 * is not storable. Recursion stops at MAX_PAYLOAD_DEPTH, so hostile nesting cannot overflow the
 * stack.
 */
function scan(node: unknown, depth: number, checkText: boolean): number {
  if (typeof node === 'string') return checkText && !isStorableText(node) ? NEEDS_COPY : FINE;
  if (typeof node !== 'object' || node === null) return FINE;
  if (depth > MAX_PAYLOAD_DEPTH) return TOO_DEEP;
  let found = FINE;
  if (Array.isArray(node)) {
    for (const item of node) {
      const inner = scan(item, depth + 1, checkText);
      if (inner === TOO_DEEP) return TOO_DEEP;
      found |= inner;
    }
    return found;
  }
  const record = node as Record<string, unknown>;
  for (const key in record) {
    if (checkText && !isStorableText(key)) found = NEEDS_COPY;
    const inner = scan(record[key], depth + 1, checkText);
    if (inner === TOO_DEEP) return TOO_DEEP;
    found |= inner;
  }
  return found;
}

/**
 * False when JSON text certainly parses to storable strings only: NUL and lone surrogates can only
 * be written as `\u` escapes (raw control characters are invalid JSON, and decoded UTF-8 holds
 * no lone surrogate). One scan of the body then spares walking every string of every event.
 */
export function mayHoldUnstorableText(json: string): boolean {
  return /\\u(?:0000|[dD][89a-fA-F])/.test(json);
}

function isStorableText(text: string): boolean {
  return text.isWellFormed() && !text.includes('\u0000');
}

function copyStorable(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value);
  if (Array.isArray(value)) return value.map(copyStorable);
  if (isObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [storableText(key), copyStorable(item)]),
    );
  }
  return value;
}
