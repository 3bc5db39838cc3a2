import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspect } from 'node:util';
import {
  MAX_PAYLOAD_DEPTH,
  eventKey,
  leadAttributes,
  mayHoldUnstorableText,
  normaliseEvent,
  storablePayload,
  updatedAtField,
  type LeadEvent,
  type RejectionReason,
} from './envelope.ts';

const LOCAL = '2026-11-20T10:15:00.000-03:00';
const CANONICAL = '2026-11-20T13:15:00.000Z';

function accepted(raw: unknown): LeadEvent {
  const result = normaliseEvent(raw);
  assert.ok(result.ok, `expected an accepted event, got ${JSON.stringify(result)}`);
  return result.event;
}

function rejection(raw: unknown): { reason: RejectionReason; leadId?: string } {
  const result = normaliseEvent(raw);
  assert.ok(!result.ok, 'expected a rejected event');
  assert.equal(typeof result.message, 'string');
  assert.notEqual(result.message, '');
  return { reason: result.reason, ...(result.leadId === undefined ? {} : { leadId: result.leadId }) };
}

/** An object `levels` deep counting the root: `{n: {n: ... {}}}`. */
function nested(levels: number): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  let node = root;
  for (let level = 1; level < levels; level++) {
    const child: Record<string, unknown> = {};
    node.n = child;
    node = child;
  }
  return root;
}

test('envelope A gives the lead id, the canonical instant and the action', () => {
  const event = accepted({
    id: 'lead-a',
    hook_action: 'on_create_lead',
    attributes: { updated_at: LOCAL, description: 'x' },
  });
  assert.deepEqual(
    { leadId: event.leadId, updatedAt: event.updatedAt, hookAction: event.hookAction },
    { leadId: 'lead-a', updatedAt: CANONICAL, hookAction: 'on_create_lead' },
  );
});

test('envelope B reads the lead object and its id, not the internal id', () => {
  const event = accepted({
    hook_action: 'on_update_lead',
    lead: { id: 'lead-b', internal_id: 987654, attributes: { updated_at: LOCAL } },
  });
  assert.deepEqual(
    { leadId: event.leadId, updatedAt: event.updatedAt, hookAction: event.hookAction },
    { leadId: 'lead-b', updatedAt: CANONICAL, hookAction: 'on_update_lead' },
  );
});

test('envelope C reads the data object', () => {
  const event = accepted({
    hook_action: 'on_close_lead',
    data: { type: 'lead', id: 'lead-c', attributes: { updated_at: LOCAL } },
  });
  assert.deepEqual(
    { leadId: event.leadId, updatedAt: event.updatedAt, hookAction: event.hookAction },
    { leadId: 'lead-c', updatedAt: CANONICAL, hookAction: 'on_close_lead' },
  );
});

test('the flat form reads lead_id and a top-level updated_at', () => {
  const event = accepted({
    lead_id: 'lead-flat',
    updated_at: LOCAL,
    hook_action: 'on_update_lead',
    extra: 1,
  });
  assert.deepEqual(
    { leadId: event.leadId, updatedAt: event.updatedAt, hookAction: event.hookAction },
    { leadId: 'lead-flat', updatedAt: CANONICAL, hookAction: 'on_update_lead' },
  );
});

test('the action may sit inside the lead object of envelope B', () => {
  const event = accepted({
    lead: { id: 'lead-b2', hook_action: 'on_create_lead', attributes: { updated_at: LOCAL } },
  });
  assert.equal(event.hookAction, 'on_create_lead');
});

test('attributes.updated_at wins over a top-level updated_at', () => {
  const event = accepted({
    id: 'lead-a',
    updated_at: '2020-01-01T00:00:00Z',
    attributes: { updated_at: LOCAL },
  });
  assert.equal(event.updatedAt, CANONICAL);
});

test('legacy actions map to the current names', () => {
  const actionOf = (hook_action: string) =>
    accepted({ id: '1', hook_action, attributes: { updated_at: LOCAL } }).hookAction;
  assert.equal(actionOf('lead.created'), 'on_create_lead');
  assert.equal(actionOf('lead.updated'), 'on_update_lead');
  assert.equal(actionOf('  lead.created  '), 'on_create_lead');
});

test("Object.prototype's member names are unknown actions, kept as sent", () => {
  for (const hook_action of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
    const event = accepted({ id: '1', hook_action, attributes: { updated_at: LOCAL } });
    assert.equal(event.hookAction, hook_action);
    assert.equal(typeof event.hookAction, 'string');
  }
});

test('an absent action is null and an unknown one is kept, bounded', () => {
  assert.equal(accepted({ id: '1', attributes: { updated_at: LOCAL } }).hookAction, null);
  assert.equal(accepted({ id: '1', hook_action: 42, attributes: { updated_at: LOCAL } }).hookAction, null);
  assert.equal(
    accepted({ id: '1', hook_action: 'on_merge_lead', attributes: { updated_at: LOCAL } }).hookAction,
    'on_merge_lead',
  );
  const long = accepted({
    id: '1',
    hook_action: 'x'.repeat(500),
    attributes: { updated_at: LOCAL },
  }).hookAction;
  assert.equal(long, 'x'.repeat(64));
  const dirty = accepted({
    id: '1',
    hook_action: 'on_\u0000_\ud800',
    attributes: { updated_at: LOCAL },
  }).hookAction;
  assert.equal(dirty, 'on_\uFFFD_\uFFFD');
});

test('a numeric lead id becomes a string', () => {
  assert.equal(accepted({ id: 12345, attributes: { updated_at: LOCAL } }).leadId, '12345');
  assert.equal(accepted({ lead_id: 0, updated_at: LOCAL }).leadId, '0');
  assert.equal(accepted({ lead: { id: 7, attributes: { updated_at: LOCAL } } }).leadId, '7');
});

test('surrounding spaces of a lead id are trimmed', () => {
  assert.equal(accepted({ id: '  lead-7 ', attributes: { updated_at: LOCAL } }).leadId, 'lead-7');
});

test('anything that is not a JSON object is refused as not_an_object', () => {
  for (const raw of [null, undefined, 'text', 42, true, [], [{ id: '1', updated_at: LOCAL }]]) {
    assert.equal(rejection(raw).reason, 'not_an_object', JSON.stringify(raw));
  }
});

test('an event without a lead id is refused as missing_lead_id', () => {
  for (const raw of [
    { attributes: { updated_at: LOCAL } },
    { id: '', attributes: { updated_at: LOCAL } },
    { id: null, attributes: { updated_at: LOCAL } },
    { lead_id: null, updated_at: LOCAL },
    { lead: { internal_id: 5, attributes: { updated_at: LOCAL } } },
  ]) {
    assert.deepEqual(rejection(raw), { reason: 'missing_lead_id' }, JSON.stringify(raw));
  }
});

test('a lead id outside A-Z a-z 0-9 _ - (1 to 128) or a whole number is refused as invalid_lead_id', () => {
  for (const id of [
    '..',
    'a/b',
    'a b',
    '../../etc/passwd',
    'lead.1',
    'lead:1',
    'lead%2F1',
    'lead?x=1',
    'lead#1',
    '<script>',
    { nested: 'object' },
    ['array'],
    true,
    'x'.repeat(200),
    'x'.repeat(129),
    'lead 42',
    'lead\t42',
    'lead\u000142',
    'lead\u0000',
    'lead\u007f',
    'léad',
    '   ',
    -1,
    1.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    2 ** 53,
  ]) {
    assert.deepEqual(
      rejection({ id, attributes: { updated_at: LOCAL } }),
      { reason: 'invalid_lead_id' },
      inspect(id),
    );
  }
  assert.equal(accepted({ id: 'x'.repeat(128), attributes: { updated_at: LOCAL } }).leadId, 'x'.repeat(128));
  for (const id of ['a', 'Lead_42-B', '0', '-_-']) {
    assert.equal(accepted({ id, attributes: { updated_at: LOCAL } }).leadId, id);
  }
});

test('the invalid_lead_id message says what a lead id may be', () => {
  const result = normaliseEvent({ id: 'a/b', attributes: { updated_at: LOCAL } });
  assert.ok(!result.ok);
  assert.equal(
    result.message,
    'the lead id must be 1 to 128 characters of A-Z, a-z, 0-9, "_" and "-", or a non-negative integer',
  );
});

test('an event without updated_at is refused as missing_updated_at and names the lead', () => {
  for (const attributes of [{}, { updated_at: '' }, { updated_at: null }]) {
    assert.deepEqual(rejection({ id: 'lead-9', attributes }), {
      reason: 'missing_updated_at',
      leadId: 'lead-9',
    });
  }
  assert.deepEqual(rejection({ lead_id: 'lead-9' }), { reason: 'missing_updated_at', leadId: 'lead-9' });
});

test('an updated_at that is not an RFC 3339 instant is refused as invalid_updated_at', () => {
  for (const updated_at of [
    1732111200,
    true,
    { at: LOCAL },
    [LOCAL],
    'yesterday',
    '2026-11-20T10:15:00',
    '2026-02-30T00:00:00Z',
  ]) {
    assert.deepEqual(
      rejection({ id: 'lead-9', attributes: { updated_at } }),
      { reason: 'invalid_updated_at', leadId: 'lead-9' },
      JSON.stringify(updated_at),
    );
  }
});

test(`a payload nested deeper than ${MAX_PAYLOAD_DEPTH} levels is refused as payload_too_deep`, () => {
  const deepAt = (levels: number) => ({
    id: 'lead-d',
    attributes: { updated_at: LOCAL, deep: nested(levels - 2) },
  });
  assert.equal(accepted(deepAt(MAX_PAYLOAD_DEPTH)).leadId, 'lead-d');
  assert.equal(rejection(deepAt(MAX_PAYLOAD_DEPTH + 1)).reason, 'payload_too_deep');

  let array: unknown = [];
  for (let level = 0; level < 1000; level++) array = [array];
  assert.equal(
    rejection({ id: 'lead-d', attributes: { updated_at: LOCAL }, array }).reason,
    'payload_too_deep',
  );
});

test('NUL and lone surrogates in keys and values are replaced in a copy, the original untouched', () => {
  const original = {
    id: 'lead-u',
    attributes: {
      updated_at: LOCAL,
      'na\u0000me': 'Ana\u0000Lima',
      list: ['ok', 'half \ud800 pair', { 'k\udc00': 'v' }],
      emoji: 'fine 😀',
    },
  };
  const before = structuredClone(original);

  const copy = storablePayload(original);
  assert.notEqual(copy, original);
  assert.deepEqual(copy, {
    id: 'lead-u',
    attributes: {
      updated_at: LOCAL,
      'na\uFFFDme': 'Ana\uFFFDLima',
      list: ['ok', 'half \uFFFD pair', { 'k\uFFFD': 'v' }],
      emoji: 'fine 😀',
    },
  });
  assert.deepEqual(original, before);

  const event = accepted(original);
  assert.deepEqual(event.payload, copy);
  assert.deepEqual(original, before);
});

test('a payload that needs no change is stored as the same object', () => {
  const payload = {
    id: 'lead-n',
    hook_action: 'on_create_lead',
    attributes: { updated_at: LOCAL, tags: ['a', 'b'], n: 1 },
  };
  assert.equal(storablePayload(payload), payload);
  assert.equal(accepted(payload).payload, payload);
});

test('storablePayload handles scalars and reports too deep as undefined', () => {
  assert.equal(storablePayload('a\u0000b'), 'a\uFFFDb');
  assert.equal(storablePayload(5), 5);
  assert.equal(storablePayload(null), null);
  assert.equal(storablePayload(nested(MAX_PAYLOAD_DEPTH + 1)), undefined);
});

test('a __proto__ key is an ordinary key: it neither supplies fields nor pollutes prototypes', () => {
  const viaProto = JSON.parse(`{"__proto__": {"id": "evil", "updated_at": "${LOCAL}"}}`) as unknown;
  assert.equal(rejection(viaProto).reason, 'missing_lead_id');

  const copied = storablePayload(JSON.parse('{"__proto__": {"polluted": true}, "k\\u0000": 1}')) as Record<
    string,
    unknown
  >;
  assert.equal(Object.getPrototypeOf(copied), Object.prototype);
  assert.deepEqual(Object.keys(copied), ['__proto__', 'k\uFFFD']);
  assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
  assert.equal(JSON.stringify(copied), '{"__proto__":{"polluted":true},"k\uFFFD":1}');
});

// Regression: the action used to be cut to 64 UTF-16 units after being made well-formed, which
// could leave half a surrogate pair that PostgreSQL refuses.
test('a long unknown action is cut without leaving half a character', () => {
  const hookAction = accepted({
    id: '1',
    hook_action: `${'x'.repeat(63)}😀tail`,
    attributes: { updated_at: LOCAL },
  }).hookAction;
  assert.ok(hookAction !== null && hookAction.length <= 64);
  assert.ok(hookAction.isWellFormed(), JSON.stringify(hookAction));
});

// Regression: Date.UTC maps years 0-99 to 1900-1999.
test('an updated_at in the first century keeps its year', () => {
  assert.equal(
    accepted({ id: '1', attributes: { updated_at: '0050-06-01T00:00:00Z' } }).updatedAt,
    '0050-06-01T00:00:00.000Z',
  );
  assert.equal(
    accepted({ id: '1', attributes: { updated_at: '0004-02-29T23:00:00-03:00' } }).updatedAt,
    '0004-03-01T02:00:00.000Z',
  );
});

test('mayHoldUnstorableText flags NUL and surrogate escapes, and only those', () => {
  assert.equal(mayHoldUnstorableText('{"a":"x\\u0000y"}'), true);
  assert.equal(mayHoldUnstorableText('{"a":"\\ud83d"}'), true);
  assert.equal(mayHoldUnstorableText('{"a":"\\uDC00"}'), true);
  assert.equal(mayHoldUnstorableText('{"a":"\\u00e9 caf\u00e9 \ud83d\ude00"}'), false);
  // What the flag lets through must be storable as it is.
  const body = '{"id":"l-1","attributes":{"updated_at":"2026-11-20T10:15:00Z","name":"Jos\\u00e9"}}';
  const result = normaliseEvent(JSON.parse(body), !mayHoldUnstorableText(body));
  assert.ok(result.ok);
  assert.equal((result.event.payload as { attributes: { name: string } }).attributes.name, 'José');
});

test("the lead's attributes and updated_at are found in every envelope", () => {
  const attributes = { updated_at: '2026-11-20T13:15:00Z', customer: { name: 'Ana' } };
  const envelopes = [
    { id: 'lead-A', hook_action: 'on_create_lead', attributes },
    { hook_action: 'on_create_lead', lead: { id: 'lead-B', internal_id: 7, attributes } },
    { hook_action: 'on_create_lead', data: { type: 'lead', id: 'lead-C', attributes } },
  ];
  for (const envelope of envelopes) {
    assert.equal(leadAttributes(envelope), attributes);
    assert.equal(updatedAtField(envelope), attributes.updated_at);
  }
  const flat = { lead_id: 'lead-F', updated_at: '2026-11-20T13:15:00Z', customer: { name: 'Ana' } };
  assert.equal(leadAttributes(flat), flat, 'a flat event keeps its fields at the top');
  assert.equal(updatedAtField(flat), flat.updated_at);
  assert.equal(updatedAtField({ lead: { id: 'x', updated_at: 'then' } }), 'then');
  for (const notAnEvent of [null, 'text', 42, [attributes]]) {
    assert.deepEqual(leadAttributes(notAnEvent), {});
    assert.equal(updatedAtField(notAnEvent), undefined);
  }
});

test('an event key tells events apart by lead and instant, whatever the characters', () => {
  assert.equal(
    eventKey('lead-1', '2026-11-20T13:15:00.000Z'),
    eventKey('lead-1', '2026-11-20T13:15:00.000Z'),
  );
  assert.notEqual(
    eventKey('lead-1', '2026-11-20T13:15:00.000Z'),
    eventKey('lead-1', '2026-11-20T13:15:01.000Z'),
  );
  assert.notEqual(eventKey('a', 'b-c'), eventKey('a-b', 'c'));
});
