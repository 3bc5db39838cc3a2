// Property and fuzz tests of webhook ingest: the envelope normaliser must never throw on any
// input, and the endpoint must answer every hostile body with a client status, never a 5xx.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { normaliseEvent, type NormalisedEvent, type RejectionReason } from '../src/webhooks/envelope.ts';
import { eventRows, leadEvent, startService, type Answer } from './helpers/service.ts';

const SEED = 20261120;
const CANONICAL_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.(\d{3}|\d{6})Z$/;
const LEAD_ID_SHAPE = /^[A-Za-z0-9_-]{1,128}$/;
const REASONS: readonly RejectionReason[] = [
  'not_an_object',
  'missing_lead_id',
  'invalid_lead_id',
  'missing_updated_at',
  'invalid_updated_at',
  'payload_too_deep',
];
const VALID_AT = '2026-11-20T10:15:00.000-03:00';

/** Normalises `raw` and checks what any result must satisfy; throws (failing the property) otherwise. */
function normalisedWithInvariants(raw: unknown): NormalisedEvent {
  const result = normaliseEvent(raw);
  if (result.ok) {
    const { event } = result;
    assert.match(event.leadId, LEAD_ID_SHAPE);
    assert.match(event.updatedAt, CANONICAL_INSTANT);
    if (event.hookAction !== null) {
      assert.ok(event.hookAction.length <= 64, 'hook action over 64 units');
      assert.ok(
        event.hookAction.isWellFormed() && !event.hookAction.includes('\u0000'),
        'hook action not storable',
      );
    }
    assert.notEqual(event.payload, undefined);
  } else {
    assert.ok(REASONS.includes(result.reason), result.reason);
    assert.equal(typeof result.message, 'string');
    if (result.leadId !== undefined) assert.match(result.leadId, LEAD_ID_SHAPE);
  }
  return result;
}

// ---- arbitraries ------------------------------------------------------------------------------

/** Mostly any code point, often a character that breaks storage or parsing. */
const hostileChar = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '\u0000',
      '\ud800',
      '\udbff',
      '\udc00',
      '\udfff',
      '\u202e',
      '\ufeff',
      '😀',
      '"',
      '\\',
      ' ',
      '\n',
    ),
  },
);
const hostileString = fc.string({ unit: hostileChar, maxLength: 40 });

/** A valid RFC 3339 instant, in varied offsets and precisions (years 0001-9999). */
const validInstant = fc
  .tuple(
    fc.date({
      min: new Date('0001-01-01T00:00:00Z'),
      max: new Date('9999-12-30T00:00:00Z'),
      noInvalidDate: true,
    }),
    fc.constantFrom('Z', 'z', '-03:00', '+05:30', '+0000'),
    fc.constantFrom('', '.5', '.123', '.123456', '.123456789'),
  )
  .map(([date, offset, fraction]) => `${date.toISOString().slice(0, 19)}${fraction}${offset}`);

const updatedAtValue = fc.oneof(
  { weight: 4, arbitrary: validInstant },
  { weight: 1, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.constantFrom(null, '', true, '2026-11-20T10:15:00', '2026-02-30T00:00:00Z') },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
);

const leadIdValue = fc.oneof(
  { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,24}$/) },
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 24 }) },
  { weight: 2, arbitrary: fc.nat() },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double()) },
  { weight: 1, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 120, maxLength: 140 }) },
  { weight: 1, arbitrary: fc.constantFrom(null, '', ' ', true, 'a b', 'x\u0000', 'x\ud800') },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
);

const hookActionValue = fc.oneof(
  fc.constantFrom(
    'on_create_lead',
    'on_update_lead',
    'on_close_lead',
    'lead.created',
    'lead.updated',
    'lead.closed',
  ),
  hostileString,
  // Around the 64-unit cut, where half a surrogate pair could be left behind.
  fc.string({ unit: hostileChar, minLength: 60, maxLength: 70 }),
  fc.jsonValue({ maxDepth: 1 }),
);

const extraFields = fc.dictionary(
  fc.oneof(fc.string({ maxLength: 12 }), hostileString, fc.constant('__proto__')),
  fc.jsonValue({ maxDepth: 3 }),
  {
    maxKeys: 4,
  },
);

const attributesValue = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.record({ updated_at: updatedAtValue }, { requiredKeys: [] }), extraFields)
      .map(([known, extra]) => ({ ...extra, ...known })),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
);

const leadObject = (type?: string) =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record(
        {
          id: leadIdValue,
          internal_id: fc.integer(),
          attributes: attributesValue,
          ...(type ? { type: fc.constant(type) } : {}),
        },
        { requiredKeys: [] },
      ),
    },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
  );

/** Objects shaped like the four envelopes, keys optional, values often wrong, extra fields mixed in. */
const envelopeLike = fc
  .tuple(
    fc.oneof(
      fc.record(
        { id: leadIdValue, hook_action: hookActionValue, attributes: attributesValue },
        { requiredKeys: [] },
      ),
      fc.record({ hook_action: hookActionValue, lead: leadObject() }, { requiredKeys: [] }),
      fc.record({ hook_action: hookActionValue, data: leadObject('lead') }, { requiredKeys: [] }),
      fc.record(
        { lead_id: leadIdValue, updated_at: updatedAtValue, hook_action: hookActionValue },
        { requiredKeys: [] },
      ),
    ),
    extraFields,
  )
  .map(([envelope, extra]) => ({ ...extra, ...envelope }));

// ---- normaliseEvent properties ----------------------------------------------------------------

test('normaliseEvent never throws on any JavaScript value', () => {
  fc.assert(
    fc.property(
      fc.anything({
        withBigInt: true,
        withBoxedValues: true,
        withDate: true,
        withMap: true,
        withSet: true,
        withNullPrototype: true,
        withObjectString: true,
        withSparseArray: true,
        withTypedArray: true,
        withUnicodeString: true,
      }),
      (value) => {
        normalisedWithInvariants(value);
      },
    ),
    { seed: SEED, numRuns: 1500 },
  );
});

test('normaliseEvent never throws on any JSON value', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      normalisedWithInvariants(value);
    }),
    { seed: SEED, numRuns: 1000 },
  );
  fc.assert(
    fc.property(fc.json(), (text) => {
      normalisedWithInvariants(JSON.parse(text));
    }),
    { seed: SEED, numRuns: 500 },
  );
});

test('normaliseEvent keeps its invariants on envelope-like objects, and accepts a good share of them', () => {
  let accepted = 0;
  fc.assert(
    fc.property(envelopeLike, (value) => {
      if (normalisedWithInvariants(value).ok) accepted++;
    }),
    { seed: SEED, numRuns: 2000 },
  );
  assert.ok(
    accepted >= 100,
    `only ${accepted} of 2000 envelope-like objects were accepted: the property is nearly vacuous`,
  );
});

test('a well-formed envelope A gives its own id and instant back', () => {
  fc.assert(
    fc.property(
      fc.stringMatching(/^[A-Za-z0-9_-]{1,128}$/),
      fc.date({
        min: new Date('0001-01-01T00:00:00Z'),
        max: new Date('9999-12-31T23:59:59Z'),
        noInvalidDate: true,
      }),
      (id, date) => {
        const result = normaliseEvent({
          id,
          hook_action: 'on_update_lead',
          attributes: { updated_at: date.toISOString() },
        });
        assert.ok(result.ok);
        assert.equal(result.event.leadId, id);
        assert.equal(result.event.updatedAt, date.toISOString());
        assert.equal(result.event.hookAction, 'on_update_lead');
      },
    ),
    { seed: SEED, numRuns: 500 },
  );
});

/** `{a: {a: ... leaf}}` or `[[... leaf]]`, `levels` deep, built without recursion. */
function deep(levels: number, kind: 'object' | 'array', leaf: unknown = 1): unknown {
  let node = leaf;
  for (let level = 0; level < levels; level++) node = kind === 'object' ? { a: node } : [node];
  return node;
}

test('normaliseEvent refuses 10,000-level nesting wherever it is, without overflowing the stack', () => {
  for (const kind of ['object', 'array'] as const) {
    const nesting = deep(10_000, kind);
    const cases: unknown[] = [
      nesting,
      { id: 'lead-1', updated_at: VALID_AT, extra: nesting },
      { id: 'lead-1', attributes: { updated_at: VALID_AT, customer: nesting } },
      { hook_action: 'on_create_lead', lead: { id: 'lead-1', attributes: nesting } },
      {
        hook_action: 'on_create_lead',
        data: { type: 'lead', id: nesting, attributes: { updated_at: VALID_AT } },
      },
      { lead_id: nesting, updated_at: nesting },
    ];
    for (const raw of cases) {
      const result = normalisedWithInvariants(raw);
      assert.ok(!result.ok);
      assert.equal(result.reason, Array.isArray(raw) ? 'not_an_object' : 'payload_too_deep');
    }
  }
});

test('normaliseEvent copes with 500 KB strings in every field', () => {
  const huge = 'x'.repeat(500 * 1024);
  const hugeHostile = '\u0000\ud800😀'.repeat(128 * 1024);
  for (const text of [huge, hugeHostile]) {
    assert.equal(normalisedWithInvariants({ id: text, attributes: { updated_at: VALID_AT } }).ok, false);
    assert.equal(normalisedWithInvariants({ id: 'lead-1', attributes: { updated_at: text } }).ok, false);
    assert.equal(
      normalisedWithInvariants({ lead_id: 'lead-1', updated_at: VALID_AT, [text]: text }).ok,
      true,
    );
    const withAction = normalisedWithInvariants({
      id: 'lead-1',
      hook_action: text,
      attributes: { updated_at: VALID_AT, text },
    });
    assert.ok(withAction.ok);
    assert.ok(withAction.event.hookAction !== null && withAction.event.hookAction.length <= 64);
  }
});

test('normaliseEvent refuses NUL, lone surrogates and other unicode in lead ids and instants', () => {
  for (const id of ['lead\u0000', '\ud800', 'lead\udc00x', 'léad', 'lead\u202e', '😀', 'le\u00a0ad']) {
    assert.equal(
      normalisedWithInvariants({ id, attributes: { updated_at: VALID_AT } }).ok,
      false,
      JSON.stringify(id),
    );
  }
  // JavaScript's trim() takes a BOM or no-break space at either end for whitespace.
  for (const id of ['\ufefflead', 'lead\u00a0']) {
    const result = normalisedWithInvariants({ id, attributes: { updated_at: VALID_AT } });
    assert.ok(result.ok);
    assert.equal(result.event.leadId, 'lead');
  }
  for (const updated_at of [
    '2026-11-20T10:15:00\u0000Z',
    '2026-11-20T10:15:00\ud800Z',
    '２０２６-11-20T10:15:00Z',
    '2026-11-20T10:15:00Z\u0000',
  ]) {
    const result = normalisedWithInvariants({ id: 'lead-1', attributes: { updated_at } });
    assert.ok(!result.ok);
    assert.equal(result.reason, 'invalid_updated_at', JSON.stringify(updated_at));
  }
});

test('normaliseEvent refuses wrong types for the id, updated_at and attributes without throwing', () => {
  const wrong: unknown[] = [
    true,
    false,
    0.5,
    -3,
    Number.NaN,
    [],
    [1],
    {},
    { id: 1 },
    () => 1,
    Symbol('s'),
    10n,
    new Date(),
    new Map(),
  ];
  for (const value of wrong) {
    normalisedWithInvariants({ id: value, attributes: { updated_at: VALID_AT } });
    normalisedWithInvariants({ id: 'lead-1', attributes: { updated_at: value } });
    normalisedWithInvariants({ id: 'lead-1', updated_at: VALID_AT, attributes: value });
    normalisedWithInvariants({
      lead: value,
      data: value,
      lead_id: value,
      updated_at: value,
      hook_action: value,
    });
  }
  // attributes of the wrong type are ignored: a top-level updated_at still counts.
  assert.equal(normalisedWithInvariants({ id: 'lead-1', updated_at: VALID_AT, attributes: 'text' }).ok, true);
});

test('normaliseEvent reads no field through a __proto__ key and pollutes nothing', () => {
  const bodies = [
    `{"__proto__": {"id": "lead-p", "updated_at": "${VALID_AT}"}}`,
    `{"id": "lead-p", "attributes": {"__proto__": {"updated_at": "${VALID_AT}"}}}`,
    `{"__proto__": {"lead": {"id": "lead-p"}}, "updated_at": "${VALID_AT}"}`,
    `{"hook_action": "on_create_lead", "lead": {"__proto__": {"id": "lead-p"}, "attributes": {"updated_at": "${VALID_AT}"}}}`,
  ];
  for (const body of bodies) {
    const result = normalisedWithInvariants(JSON.parse(body));
    assert.equal(result.ok, false, body);
  }
  const withCopy = normalisedWithInvariants(
    JSON.parse(`{"id": "lead-p", "updated_at": "${VALID_AT}", "__proto__": {"x\\u0000": 1}}`),
  );
  assert.ok(withCopy.ok);
  assert.deepEqual(Object.keys(withCopy.event.payload as object), ['id', 'updated_at', '__proto__']);
  assert.equal(Object.getPrototypeOf(withCopy.event.payload), Object.prototype);
  assert.equal((Object.prototype as Record<string, unknown>).x, undefined);
});

// ---- the endpoint under hostile bodies --------------------------------------------------------

interface FuzzRequest {
  readonly label: string;
  readonly body?: unknown;
  /** Sent as is instead of JSON-encoding `body`. */
  readonly raw?: string;
}

const ALLOWED_STATUSES = new Set([200, 400, 413]);
const LIMIT = 1024 * 1024;

function labelOf(text: string): string {
  return text.length <= 160
    ? JSON.stringify(text)
    : `${JSON.stringify(text.slice(0, 160))}… (${text.length} chars)`;
}

/** Random requests: envelope-like objects, batches of them, random JSON and garbage text. */
function randomRequests(count: number): FuzzRequest[] {
  const request = fc.oneof(
    { weight: 4, arbitrary: envelopeLike.map((body) => ({ body })) },
    { weight: 3, arbitrary: fc.array(envelopeLike, { maxLength: 20 }).map((body) => ({ body })) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((body) => ({ body })) },
    { weight: 1, arbitrary: fc.string({ unit: hostileChar, maxLength: 300 }).map((raw) => ({ raw })) },
    { weight: 1, arbitrary: fc.json({ maxDepth: 3 }).map((raw) => ({ raw: raw.slice(0, raw.length - 1) })) },
  );
  return fc.sample(request, { seed: SEED, numRuns: count }).map((item) => {
    const raw = 'raw' in item ? item.raw : JSON.stringify(item.body);
    return { label: labelOf(raw), ...item };
  });
}

/** Hand-made hostile bodies: deep nesting, escapes jsonb refuses, huge strings, batch limits. */
function hostileRequests(): FuzzRequest[] {
  const depth = 50_000;
  const env = (id: string, extra = '') =>
    `{"id":"${id}","hook_action":"on_create_lead","attributes":{"updated_at":"${VALID_AT}"${extra}}}`;
  const list: Array<[string, string]> = [
    ['deep array text', `${'['.repeat(depth)}${']'.repeat(depth)}`],
    ['deep object text', `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`],
    ['unbalanced deep array text', '['.repeat(depth)],
    [
      'deep array inside a valid envelope',
      env('fuzz-deep-1', `,"x":${'['.repeat(depth)}${']'.repeat(depth)}`),
    ],
    [
      'deep object inside a valid envelope',
      env('fuzz-deep-2', `,"x":${'{"a":'.repeat(depth)}null${'}'.repeat(depth)}`),
    ],
    [
      'valid event next to a deep one in a batch',
      `[${env('fuzz-deep-3')},${'['.repeat(depth)}${']'.repeat(depth)}]`,
    ],
    ['NUL escape in a lead id', env('fuzz\\u0000nul')],
    ['lone surrogate escape in a lead id', env('fuzz\\ud800half')],
    [
      'NUL and lone surrogates in payload values',
      env('fuzz-esc-1', ',"note":"a\\u0000b\\ud800c\\udfffd","list":["\\u0000","\\udbff"]'),
    ],
    [
      'NUL and lone surrogates in payload keys',
      env('fuzz-esc-2', ',"k\\u0000":1,"\\ud800":{"\\udc00\\u0000":"v"}'),
    ],
    [
      'NUL and lone surrogates in hook_action',
      `{"id":"fuzz-esc-3","hook_action":"on_\\u0000\\ud800","attributes":{"updated_at":"${VALID_AT}"}}`,
    ],
    ['NUL in updated_at', `{"id":"fuzz-esc-4","attributes":{"updated_at":"2026-11-20T10:15:00\\u0000Z"}}`],
    [
      'lone surrogate in updated_at',
      `{"id":"fuzz-esc-5","attributes":{"updated_at":"\\ud8002026-11-20T10:15:00Z"}}`,
    ],
    [
      'unknown hook_action cut in the middle of an emoji',
      `{"id":"fuzz-cut-emoji","hook_action":"${'x'.repeat(63)}\\ud83d\\ude00","attributes":{"updated_at":"${VALID_AT}"}}`,
    ],
    ['escaped surrogate pair in the payload', env('fuzz-esc-6', ',"emoji":"\\ud83d\\ude00"')],
    [
      '__proto__ keys',
      `{"__proto__":{"id":"x"},"id":"fuzz-proto","attributes":{"__proto__":{"a":1},"updated_at":"${VALID_AT}"}}`,
    ],
    [
      'duplicate keys',
      `{"id":"first","id":"fuzz-dup","attributes":{"updated_at":"x","updated_at":"${VALID_AT}"}}`,
    ],
    ['huge integer id', `{"id":1e21,"attributes":{"updated_at":"${VALID_AT}"}}`],
    ['unsafe integer id', `{"id":9007199254740993,"attributes":{"updated_at":"${VALID_AT}"}}`],
    ['number overflowing to Infinity', env('fuzz-inf', ',"n":1e999,"m":-1e999')],
    ['huge ASCII string under the limit', env('fuzz-big-1', `,"description":"${'x'.repeat(LIMIT - 2048)}"`)],
    [
      'huge multibyte string under the limit',
      env('fuzz-big-2', `,"description":"${'é'.repeat((LIMIT - 2048) / 2)}"`),
    ],
    [
      'huge escaped string under the limit',
      env('fuzz-big-3', `,"description":"${'\\u0000\\ud800'.repeat((LIMIT - 2048) / 12)}"`),
    ],
    ['huge lead id', env('x'.repeat(LIMIT - 2048))],
    ['huge updated_at', `{"id":"fuzz-big-4","attributes":{"updated_at":"${'9'.repeat(LIMIT - 2048)}"}}`],
    [
      'huge hook_action',
      `{"id":"fuzz-big-5","hook_action":"${'a'.repeat(LIMIT - 2048)}","attributes":{"updated_at":"${VALID_AT}"}}`,
    ],
    ['body just over the limit', env('fuzz-over-1', `,"description":"${'x'.repeat(LIMIT)}"`)],
    ['body far over the limit', env('fuzz-over-2', `,"description":"${'x'.repeat(3 * LIMIT)}"`)],
    [
      '1,000 events (the most allowed)',
      `[${Array.from({ length: 1000 }, (_, i) => env(`fuzz-batch-${i}`)).join(',')}]`,
    ],
    ['1,001 events', `[${Array.from({ length: 1001 }, () => '{}').join(',')}]`],
    ['100,000 empty events', `[${Array.from({ length: 100_000 }, () => '0').join(',')}]`],
    ['the same event twice in one batch', `[${env('fuzz-twice')},${env('fuzz-twice')}]`],
    ['empty body', ''],
    ['whitespace body', ' \n\t '],
    ['empty array', '[]'],
    ['empty object', '{}'],
    ['null', 'null'],
    ['a JSON string', '"just a string"'],
    ['a JSON number', '42'],
    ['nested empty arrays', '[[],[[]],{}]'],
    ['NaN', 'NaN'],
    ['trailing garbage', `${env('fuzz-trailing')}garbage`],
    ['byte order mark', `\ufeff${env('fuzz-bom')}`],
    ['raw NUL and control characters', `{"id":"a\u0000","x":"\u0001\u001f"}`],
    ['single quotes', "{'id':'fuzz-quote'}"],
    ['unterminated string', '{"id":"fuzz'],
    ['invalid escape', '{"id":"\\x41"}'],
    ['truncated unicode escape', '{"id":"\\u12"}'],
  ];
  return list.map(([label, raw]) => ({ label, raw }));
}

test('the endpoint answers every random and hostile body with 200, 400 or 413 and stays up', async (t) => {
  const service = await startService(t);
  const requests = [...hostileRequests(), ...randomRequests(110)];
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  let ok = 0;

  const check = (request: FuzzRequest, answer: Answer) => {
    statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    if (!ALLOWED_STATUSES.has(answer.status)) {
      failures.push(`${request.label}: status ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
      return;
    }
    const body = answer.body as Record<string, unknown>;
    if (answer.status === 200) {
      ok++;
      const results = body.results as unknown[];
      const counts = [body.processed, body.duplicates, body.stale, body.rejected] as number[];
      if (body.status !== 'received' || !Array.isArray(results) || body.received !== results.length) {
        failures.push(
          `${request.label}: 200 whose received does not match its results: ${JSON.stringify(body).slice(0, 300)}`,
        );
      } else if (counts.reduce((sum, n) => sum + n, 0) !== body.received) {
        failures.push(
          `${request.label}: 200 whose counts do not add up: ${JSON.stringify(counts)} of ${String(body.received)}`,
        );
      }
    } else if (Array.isArray(body.results) && body.received !== body.results.length) {
      failures.push(`${request.label}: ${answer.status} whose received does not match its results`);
    }
  };

  // A few at a time: enough concurrency to interleave requests, little enough to stay ordered in the logs.
  const concurrency = 4;
  for (let start = 0; start < requests.length; start += concurrency) {
    const slice = requests.slice(start, start + concurrency);
    const answers = await Promise.all(
      slice.map((request) =>
        request.raw !== undefined
          ? service.post(undefined, { raw: request.raw })
          : service.post(request.body),
      ),
    );
    slice.forEach((request, index) => check(request, answers[index]!));
  }

  t.diagnostic(`${requests.length} requests, by status: ${JSON.stringify(Object.fromEntries(statuses))}`);
  assert.deepEqual(failures, [], `${failures.length} of ${requests.length} requests were answered wrongly`);
  assert.ok(ok >= 20, `only ${ok} requests were accepted: the fuzzing hardly reached storage`);
  assert.deepEqual(
    service.logs.filter((line) => line.includes('"level":"error"')),
    [],
    'no request may fail with an error',
  );

  const final = await service.post(leadEvent('fuzz-final-lead', VALID_AT));
  assert.equal(final.status, 200);
  assert.equal(final.body.processed, 1);
  assert.equal((await eventRows(service.db, 'fuzz-final-lead')).length, 1);

  const cut = await eventRows(service.db, 'fuzz-cut-emoji');
  assert.equal(cut.length, 1, 'an action cut inside an emoji is stored');
  assert.equal(cut[0]!.hook_action, `${'x'.repeat(63)}\uFFFD`);

  const escaped = await eventRows(service.db, 'fuzz-esc-2');
  assert.equal(escaped.length, 1);
  assert.deepEqual(escaped[0]!.payload_raw, {
    id: 'fuzz-esc-2',
    hook_action: 'on_create_lead',
    attributes: { updated_at: VALID_AT, 'k\uFFFD': 1, '\uFFFD': { '\uFFFD\uFFFD': 'v' } },
  });
});
