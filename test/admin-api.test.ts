import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../src/config.ts';
import { ENRICHMENT_STEP_ORDER, enrichmentWorkflow } from '../src/enrichment/workflow.ts';
import type { WorkflowDeps } from '../src/service.ts';
import { startEnrichment } from './helpers/enrichment.ts';
import { ADMIN_TOKEN, startService, type TestService } from './helpers/service.ts';
import { settled } from './helpers/workflow.ts';

const ADMIN = '/api/v1/admin';

interface AdminAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: any;
}

/** An admin call, with the admin token unless `authorization` says otherwise (null: no header). */
async function admin(
  service: TestService,
  path: string,
  options: { authorization?: string | null; method?: string; body?: unknown } = {},
): Promise<AdminAnswer> {
  const headers: Record<string, string> = {};
  const authorization = options.authorization === undefined ? `Bearer ${ADMIN_TOKEN}` : options.authorization;
  if (authorization !== null) headers.authorization = authorization;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${service.url}${ADMIN}${path}`, {
    method: options.method ?? 'GET',
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, text, body };
}

const SUMMARY_FIELDS = [
  'id',
  'lead_id',
  'updated_at',
  'hook_action',
  'status',
  'outcome',
  'attempts',
  'error_code',
  'received_at',
  'finished_at',
];

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

// ---------------------------------------------------------------------------------------------
// Authentication

test('every admin route wants the admin token as a bearer token', async (t) => {
  const service = await startService(t);
  const routes: Array<{ path: string; method?: string; body?: unknown; ok: number }> = [
    { path: '/events', ok: 200 },
    { path: '/events/00000000-0000-4000-8000-000000000000', ok: 404 },
    { path: '/leads/lead-nobody', ok: 404 },
    { path: '/stats', ok: 200 },
    { path: '/openapi.json', ok: 200 },
    { path: '/replay', method: 'POST', body: { filter: { status: 'failed' }, dry_run: true }, ok: 200 },
    { path: '/events/00000000-0000-4000-8000-000000000000/reprocess', method: 'POST', body: {}, ok: 404 },
  ];
  const refused: Array<[string, string | null]> = [
    ['no header', null],
    ['a wrong token', 'Bearer wrong-token'],
    ['a wrong token of the same length', `Bearer ${'x'.repeat(ADMIN_TOKEN.length)}`],
    ['the token with a suffix', `Bearer ${ADMIN_TOKEN}x`],
    ['the token cut short', `Bearer ${ADMIN_TOKEN.slice(0, -1)}`],
    ['an empty bearer token', 'Bearer '],
    ['the token without a scheme', ADMIN_TOKEN],
    ['the Basic scheme', `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`],
    ['the token under the Basic scheme', `Basic ${ADMIN_TOKEN}`],
  ];
  for (const route of routes) {
    const call = { ...(route.method ? { method: route.method } : {}), body: route.body };
    for (const [what, authorization] of refused) {
      const answer = await admin(service, route.path, { ...call, authorization });
      assert.equal(answer.status, 401, `${route.path} with ${what}`);
      assert.equal(answer.body.error, 'unauthorized', `${route.path} with ${what}`);
      assert.equal(typeof answer.body.message, 'string');
      assert.ok(!answer.text.includes(ADMIN_TOKEN), 'the token is never echoed');
    }
    const allowed = await admin(service, route.path, call);
    assert.equal(allowed.status, route.ok, `${route.path} with the token: ${allowed.text}`);
  }
  // The token in the query string (as C2S sends the webhook secret) is not a way in.
  const query = await fetch(`${service.url}${ADMIN}/events?token=${ADMIN_TOKEN}`);
  assert.equal(query.status, 401);
});

// ---------------------------------------------------------------------------------------------
// Event lists

interface Seeded {
  readonly id: string;
  readonly lead_id: string;
  readonly status: string;
  readonly outcome: string | null;
  readonly error_code: string | null;
  readonly hook_action: string | null;
  readonly received_at: Date;
}

const STATUSES = [
  'completed',
  'failed',
  'completed',
  'received',
  'processing',
  'completed',
  'stale',
  'superseded',
];
const OUTCOMES = ['enriched', 'no_match', 'unchanged', 'closed'];
const ACTIONS = ['on_create_lead', 'on_update_lead', 'on_close_lead', null];
const LEADS = ['lead-a', 'lead-b', 'lead-c', 'lead-d', 'lead-e'];
const T0 = Date.parse('2026-11-10T12:00:00Z');

/**
 * 30 events with every status, outcome (completed ones only, as the workflow sets them), error
 * code and hook action, received 5 minutes apart with microseconds, newest first by index, and
 * three received in the same microsecond (sorted by id): a page of 7 ends among them.
 */
async function seedEvents(service: TestService): Promise<Seeded[]> {
  const rows: Seeded[] = [];
  let completed = 0;
  for (let i = 0; i < 30; i++) {
    const status = STATUSES[i % STATUSES.length]!;
    const outcome = status === 'completed' ? OUTCOMES[completed++ % OUTCOMES.length]! : null;
    const error_code =
      status === 'failed'
        ? i % 3 === 0
          ? 'c2s_not_found'
          : 'workapi_timeout'
        : status === 'processing'
          ? 'diretrix_server_error'
          : null;
    const minutesBefore = [7, 8].includes(i) ? 6 * 5 : i * 5;
    const received = new Date(T0 - minutesBefore * 60_000);
    const micros = [7, 8].includes(i) || i === 6 ? 123_456 : (i * 37_123) % 1_000_000;
    const receivedAt = `${received.toISOString().slice(0, 19)}.${String(micros).padStart(6, '0')}Z`;
    const { rows: inserted } = await service.db.pool.query<Seeded>(
      `INSERT INTO webhook_events (lead_id, updated_at, hook_action, payload_raw, received_at, status, outcome,
         error_code, error_message, attempts, processed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
               CASE WHEN $6 IN ('completed', 'failed', 'stale', 'superseded') THEN $5::timestamptz + interval '2 seconds' END)
       RETURNING id, lead_id, status, outcome, error_code, hook_action, received_at`,
      [
        LEADS[i % LEADS.length],
        new Date(T0 - i * 60_000 - 3_600_000),
        ACTIONS[i % ACTIONS.length],
        JSON.stringify({ id: LEADS[i % LEADS.length], attributes: { seq: i } }),
        receivedAt,
        status,
        outcome,
        error_code,
        error_code ? `failed with ${error_code}` : null,
        status === 'received' ? 0 : 1 + (i % 3),
      ],
    );
    rows.push(inserted[0]!);
  }
  return rows;
}

/** Ids in list order, as SQL itself gives them for a condition. */
async function expectedIds(service: TestService, where: string, values: unknown[] = []): Promise<string[]> {
  const { rows } = await service.db.pool.query<{ id: string }>(
    `SELECT id FROM webhook_events WHERE ${where} ORDER BY received_at DESC, id DESC`,
    values,
  );
  return rows.map((row) => row.id);
}

/** Every page of a query, following next_cursor. */
async function allPages(service: TestService, query: string, limit: number) {
  const pages: Array<{ events: Array<Record<string, unknown>>; next_cursor: string | null }> = [];
  let cursor: string | null = null;
  do {
    const parameters = new URLSearchParams(query);
    parameters.set('limit', String(limit));
    if (cursor !== null) parameters.set('cursor', cursor);
    const answer = await admin(service, `/events?${parameters.toString()}`);
    assert.equal(answer.status, 200, answer.text);
    pages.push(answer.body);
    cursor = answer.body.next_cursor;
    assert.ok(pages.length <= 100, 'the cursor must end');
  } while (cursor !== null);
  return pages;
}

test('GET /events: pages, filters and refusals', async (t) => {
  const service = await startService(t);
  const seeded = await seedEvents(service);
  const everyId = await expectedIds(service, 'true');
  assert.equal(everyId.length, 30);

  await t.test('pages of 7 through next_cursor list every event once, newest first', async () => {
    const pages = await allPages(service, '', 7);
    assert.deepEqual(
      pages.map((page) => page.events.length),
      [7, 7, 7, 7, 2],
    );
    assert.ok(pages.slice(0, -1).every((page) => typeof page.next_cursor === 'string'));
    assert.equal(pages.at(-1)!.next_cursor, null);
    const listed = pages.flatMap((page) => page.events);
    assert.deepEqual(
      listed.map((event) => event.id),
      everyId,
    );
    assert.equal(new Set(listed.map((event) => event.id)).size, 30);
    // Newest first: received_at never increases, and ties go by id, descending.
    for (let i = 1; i < listed.length; i++) {
      const [before, after] = [listed[i - 1]!, listed[i]!];
      assert.ok(
        (before.received_at as string) > (after.received_at as string) ||
          (before.received_at === after.received_at && (before.id as string) > (after.id as string)),
        `${i}: ${JSON.stringify([before, after])}`,
      );
    }
    // The three events received in the same microsecond straddle the first page's end.
    const tied = listed.filter((event) => event.received_at === listed[6]!.received_at);
    assert.equal(tied.length, 3);
    // An exact multiple: the last full page says there is nothing more.
    const exact = await allPages(service, '', 10);
    assert.deepEqual(
      exact.map((page) => [page.events.length, page.next_cursor === null]),
      [
        [10, false],
        [10, false],
        [10, true],
      ],
    );
    const whole = await admin(service, '/events');
    assert.equal(whole.body.events.length, 30, 'default limit 50');
    assert.equal(whole.body.next_cursor, null);
  });

  await t.test('an event summary has exactly the spec fields, as stored', async () => {
    const { body } = await admin(service, '/events?limit=500');
    const { rows } = await service.db.pool.query(
      `SELECT id, lead_id, updated_at, hook_action, status, outcome, attempts, error_code, received_at,
              processed_at AS finished_at FROM webhook_events`,
    );
    const stored = new Map(rows.map((row) => [row.id, row]));
    for (const event of body.events) {
      assert.deepEqual(Object.keys(event).sort(), [...SUMMARY_FIELDS].sort());
      const row = stored.get(event.id)!;
      assert.equal(event.lead_id, row.lead_id);
      assert.equal(event.hook_action, row.hook_action);
      assert.equal(event.status, row.status);
      assert.equal(event.outcome, row.outcome);
      assert.equal(event.attempts, row.attempts);
      assert.equal(event.error_code, row.error_code);
      assert.match(event.received_at, RFC3339_UTC);
      assert.match(event.updated_at, RFC3339_UTC);
      assert.equal(new Date(event.updated_at).getTime(), row.updated_at.getTime());
      assert.equal(new Date(event.received_at).getTime(), row.received_at.getTime());
      if (row.finished_at === null) assert.equal(event.finished_at, null);
      else assert.equal(new Date(event.finished_at).getTime(), row.finished_at.getTime());
      assert.ok(!('error_message' in event) && !('payload' in event));
    }
  });

  await t.test('each filter alone lists exactly the matching events', async () => {
    const cases: Array<[string, string, unknown[]]> = [
      ['status=failed', `status = 'failed'`, []],
      ['status=completed', `status = 'completed'`, []],
      ['status=received', `status = 'received'`, []],
      ['status=processing', `status = 'processing'`, []],
      ['status=stale', `status = 'stale'`, []],
      ['status=superseded', `status = 'superseded'`, []],
      ['outcome=enriched', `outcome = 'enriched'`, []],
      ['outcome=no_match', `outcome = 'no_match'`, []],
      ['outcome=unchanged', `outcome = 'unchanged'`, []],
      ['outcome=closed', `outcome = 'closed'`, []],
      ['lead_id=lead-c', `lead_id = 'lead-c'`, []],
      ['error_code=workapi_timeout', `error_code = 'workapi_timeout'`, []],
      ['error_code=diretrix_server_error', `error_code = 'diretrix_server_error'`, []],
      ['hook_action=on_update_lead', `hook_action = 'on_update_lead'`, []],
      ['hook_action=on_close_lead', `hook_action = 'on_close_lead'`, []],
    ];
    for (const [query, where, values] of cases) {
      const expected = await expectedIds(service, where, values);
      assert.ok(
        expected.length > 0 && expected.length < 30,
        `${query} must be a real test: ${expected.length}`,
      );
      const { status, body, text } = await admin(service, `/events?${query}&limit=500`);
      assert.equal(status, 200, text);
      assert.deepEqual(
        body.events.map((event: { id: string }) => event.id),
        expected,
        query,
      );
      // Paged, the same events.
      const paged = (await allPages(service, query, 3)).flatMap((page) =>
        page.events.map((event) => event.id),
      );
      assert.deepEqual(paged, expected, `${query}, paged by 3`);
    }
    // A filter nothing matches is an empty page, not an error.
    for (const query of ['lead_id=lead-nobody', 'error_code=c2s_unauthorized']) {
      const { status, body } = await admin(service, `/events?${query}`);
      assert.equal(status, 200);
      assert.deepEqual(body, { events: [], next_cursor: null });
    }
  });

  await t.test('since is inclusive and until exclusive, on the received time', async () => {
    const byTime = [...seeded].sort((a, b) => a.received_at.getTime() - b.received_at.getTime());
    const from = byTime[5]!;
    const to = byTime[20]!;
    // RFC 3339 with an offset names the same instants.
    const sinceText = formatMicros(from.received_at, await microsOf(service, from.id), '-03:00');
    const untilText = formatMicros(to.received_at, await microsOf(service, to.id), 'Z');
    const query = `since=${encodeURIComponent(sinceText)}&until=${encodeURIComponent(untilText)}&limit=500`;
    const { status, body, text } = await admin(service, `/events?${query}`);
    assert.equal(status, 200, text);
    const ids = body.events.map((event: { id: string }) => event.id);
    assert.deepEqual(
      ids,
      await expectedIds(
        service,
        'received_at >= (SELECT received_at FROM webhook_events WHERE id = $1) AND received_at < (SELECT received_at FROM webhook_events WHERE id = $2)',
        [from.id, to.id],
      ),
    );
    assert.ok(ids.includes(from.id), 'the event received exactly at since is listed');
    assert.ok(!ids.includes(to.id), 'the event received exactly at until is not');
    assert.equal(ids.length, 15);

    // A microsecond either side moves each boundary by one event.
    const later = formatMicros(from.received_at, (await microsOf(service, from.id)) + 1, 'Z');
    const after = await admin(
      service,
      `/events?since=${encodeURIComponent(later)}&until=${encodeURIComponent(untilText)}&limit=500`,
    );
    assert.equal(after.body.events.length, 14);
    assert.ok(!after.body.events.some((event: { id: string }) => event.id === from.id));
    const justAfterTo = formatMicros(to.received_at, (await microsOf(service, to.id)) + 1, 'Z');
    const upTo = await admin(service, `/events?until=${encodeURIComponent(justAfterTo)}&limit=500`);
    assert.ok(upTo.body.events.some((event: { id: string }) => event.id === to.id));
    assert.deepEqual(
      upTo.body.events.map((event: { id: string }) => event.id),
      await expectedIds(service, 'received_at <= (SELECT received_at FROM webhook_events WHERE id = $1)', [
        to.id,
      ]),
    );
  });

  await t.test('filters combine (all must hold)', async () => {
    const middle = new Date(T0 - 70 * 60_000).toISOString();
    const cases: Array<[string, string, unknown[]]> = [
      ['status=completed&outcome=enriched', `status = 'completed' AND outcome = 'enriched'`, []],
      [
        'status=completed&hook_action=on_create_lead',
        `status = 'completed' AND hook_action = 'on_create_lead'`,
        [],
      ],
      ['status=failed&error_code=c2s_not_found', `status = 'failed' AND error_code = 'c2s_not_found'`, []],
      [
        `lead_id=lead-a&since=${encodeURIComponent(middle)}`,
        `lead_id = 'lead-a' AND received_at >= $1`,
        [middle],
      ],
      [
        `hook_action=on_update_lead&until=${encodeURIComponent(middle)}`,
        `hook_action = 'on_update_lead' AND received_at < $1`,
        [middle],
      ],
    ];
    for (const [query, where, values] of cases) {
      const expected = await expectedIds(service, where, values);
      assert.ok(expected.length > 0, `${query} must match something`);
      const { body } = await admin(service, `/events?${query}&limit=500`);
      assert.deepEqual(
        body.events.map((event: { id: string }) => event.id),
        expected,
        query,
      );
    }
    // Contradictions match nothing.
    for (const query of ['status=failed&outcome=enriched', 'status=completed&error_code=workapi_timeout']) {
      const { status, body } = await admin(service, `/events?${query}`);
      assert.equal(status, 200);
      assert.deepEqual(body.events, [], query);
    }
  });

  await t.test('bad input is refused with 400, a stable code and a message', async () => {
    const first = await admin(service, '/events?limit=7');
    const cursor: string = first.body.next_cursor;
    const uuid = seeded[0]!.id;
    const cursorOf = (text: string) => Buffer.from(text).toString('base64url');
    const cases: Array<[string, string, RegExp?]> = [
      ['status=done', 'bad_request', /status/],
      ['outcome=failed', 'bad_request', /outcome/],
      ['hook_action=on_delete_lead', 'bad_request', /hook_action/],
      ['since=2026-12-01', 'bad_request', /since/],
      ['since=2026-02-30T00:00:00Z', 'bad_request', /since/],
      ['until=yesterday', 'bad_request', /until/],
      ['since=2026-12-01T09:00:00Z&until=2026-12-01T09:00:00Z', 'bad_request', /since must be before until/],
      ['since=2026-12-02T09:00:00Z&until=2026-12-01T09:00:00Z', 'bad_request', /since must be before until/],
      ['limit=0', 'bad_request', /limit/],
      ['limit=501', 'bad_request', /limit/],
      ['limit=ten', 'bad_request', /limit/],
      ['error_code=Not-A-Code', 'bad_request', /error_code/],
      ['staus=failed', 'bad_request', /unknown parameter: staus/],
      ['status=failed&page=2', 'bad_request', /unknown parameter: page/],
      [`cursor=${cursor.slice(0, -3)}xyz`, 'invalid_cursor'],
      ['cursor=not-a-cursor', 'invalid_cursor'],
      [`cursor=${cursorOf(`2026-11-10T12:00:00.000000Z|${uuid}x`)}`, 'invalid_cursor'],
      // Shaped like one of ours, but no instant and no uuid: still the client's mistake.
      [`cursor=${cursorOf(`2026-13-45T99:99:99.000000Z|${uuid}`)}`, 'invalid_cursor'],
      [`cursor=${cursorOf(`2026-11-10T12:00:00.000000Z|${'-'.repeat(36)}`)}`, 'invalid_cursor'],
    ];
    for (const [query, code, message] of cases) {
      const answer = await admin(service, `/events?${query}`);
      assert.equal(answer.status, 400, `${query}: ${answer.text}`);
      assert.equal(answer.body.error, code, query);
      assert.equal(typeof answer.body.message, 'string', query);
      assert.ok(answer.body.message.length > 0);
      if (message) assert.match(answer.body.message, message, query);
    }
    // The cursor really is read: a good one still works after all that.
    const next = await admin(service, `/events?limit=7&cursor=${cursor}`);
    assert.equal(next.status, 200);
    assert.equal(next.body.events[0].id, everyId[7]);
  });
});

/** The microseconds past the second of an event's received time (JS dates stop at milliseconds). */
async function microsOf(service: TestService, id: string): Promise<number> {
  const { rows } = await service.db.pool.query<{ us: number }>(
    `SELECT (extract(microseconds FROM received_at)::bigint % 1000000)::int AS us FROM webhook_events WHERE id = $1`,
    [id],
  );
  return rows[0]!.us;
}

/** `at` (whole seconds taken from it) plus `micros`, in RFC 3339 at the given offset. */
function formatMicros(at: Date, micros: number, offset: 'Z' | '-03:00'): string {
  const shift = offset === 'Z' ? 0 : -3 * 3_600_000;
  const second = Math.floor(at.getTime() / 1000) * 1000 + Math.floor(micros / 1_000_000) * 1000;
  const local = new Date(second + shift).toISOString().slice(0, 19);
  return `${local}.${String(micros % 1_000_000).padStart(6, '0')}${offset}`;
}

// ---------------------------------------------------------------------------------------------
// One event, a lead's history

/** `+55 11 9****-4321` from any form of a Brazilian mobile number. */
function maskedMobile(phone: string): string {
  const national = phone.replace(/\D/g, '').replace(/^55/, '');
  assert.equal(national.length, 11, `a mobile: ${phone}`);
  return `+55 ${national.slice(0, 2)} ${national[2]}****-${national.slice(-4)}`;
}

test('an enriched event in detail, and its lead history', async (t) => {
  const rig = await startEnrichment(t);
  const created = rig.lead('same_person');
  const { leadId, sample } = created;
  const { name, phone, email } = sample.attributes.customer;
  assert.ok(name && phone && email, 'the sample has every contact');
  await rig.service.post(created.event);
  const [first] = await settled(rig.service.db);
  assert.deepEqual([first!.status, first!.outcome], ['completed', 'enriched']);
  const service = rig.service;

  await t.test('GET /events/{id}: summary, steps in workflow order, the note, a masked payload', async () => {
    const answer = await admin(service, `/events/${first!.id}`);
    assert.equal(answer.status, 200, answer.text);
    const detail = answer.body;
    assert.deepEqual(
      Object.keys(detail).sort(),
      [...SUMMARY_FIELDS, 'error_message', 'payload', 'steps', 'note'].sort(),
    );
    assert.equal(detail.id, first!.id);
    assert.equal(detail.lead_id, leadId);
    assert.equal(detail.status, 'completed');
    assert.equal(detail.outcome, 'enriched');
    assert.equal(detail.hook_action, 'on_create_lead');
    assert.equal(detail.attempts, 1);
    assert.equal(detail.error_code, null);
    assert.equal(detail.error_message, null);
    assert.match(detail.finished_at, RFC3339_UTC);
    assert.ok(detail.finished_at >= detail.received_at);

    // Every step ran once and succeeded, listed in the workflow's order.
    assert.deepEqual(
      detail.steps.map((step: { step: string }) => step.step),
      [...ENRICHMENT_STEP_ORDER],
    );
    const { rows: stored } = await service.db.pool.query(
      `SELECT step, status, attempts, duration_ms, started_at, finished_at FROM event_steps WHERE event_id = $1`,
      [first!.id],
    );
    assert.equal(stored.length, ENRICHMENT_STEP_ORDER.length);
    for (const step of detail.steps) {
      assert.deepEqual(Object.keys(step).sort(), [
        'attempts',
        'duration_ms',
        'error_code',
        'error_message',
        'finished_at',
        'started_at',
        'status',
        'step',
      ]);
      const row = stored.find((candidate) => candidate.step === step.step)!;
      assert.equal(step.status, 'succeeded', step.step);
      assert.equal(step.attempts, 1, step.step);
      assert.equal(step.error_code, null);
      assert.equal(step.error_message, null);
      assert.ok(
        Number.isInteger(step.duration_ms) && step.duration_ms >= 0,
        `${step.step}: ${step.duration_ms}`,
      );
      assert.equal(step.duration_ms, row.duration_ms);
      assert.match(step.started_at, RFC3339_UTC);
      assert.match(step.finished_at, RFC3339_UTC);
      assert.ok(step.finished_at >= step.started_at);
      assert.equal(new Date(step.started_at).getTime(), row.started_at.getTime());
    }

    // The note this event posted, as the ledger and C2S have it.
    const { rows: notes } = await service.db.pool.query(
      `SELECT ref, state, sent_at FROM notes WHERE lead_id = $1`,
      [leadId],
    );
    assert.equal(notes.length, 1);
    assert.deepEqual(Object.keys(detail.note).sort(), ['ref', 'sent_at', 'state']);
    assert.equal(detail.note.ref, notes[0].ref);
    assert.match(detail.note.ref, /^enr-[0-9a-f]{16}$/);
    assert.equal(detail.note.state, 'sent');
    assert.match(detail.note.sent_at, RFC3339_UTC);
    assert.equal(new Date(detail.note.sent_at).getTime(), notes[0].sent_at.getTime());
    const posted = rig.c2s.notes(leadId);
    assert.equal(posted.length, 1);
    assert.ok(posted[0]!.body.endsWith(`ref: ${detail.note.ref}`));

    // The payload: shaped as received, its personal data masked.
    const text = answer.text;
    const national = phone.replace(/\D/g, '').replace(/^55/, '');
    const [firstName, ...otherNames] = name.split(' ');
    // (Surnames long enough not to be a particle, `da`, found in ordinary words.)
    const surnames = otherNames.filter((part) => part.length > 3);
    assert.ok(surnames.length > 0);
    for (const raw of [phone, national, national.slice(-8), email, email.split('@')[0]!, name, ...surnames])
      assert.ok(!text.includes(raw), `${raw} is shown raw`);
    const customer = detail.payload.attributes.customer;
    assert.equal(customer.phone, maskedMobile(phone));
    assert.equal(customer.email, `${email[0]}***@${email.split('@')[1]}`);
    assert.equal(
      customer.name,
      [firstName, ...otherNames.map((part) => `${part[0]!.toUpperCase()}.`)].join(' '),
    );
    assert.equal(detail.payload.id, leadId, 'the lead id is kept');
    assert.equal(detail.payload.hook_action, 'on_create_lead');
    assert.equal(
      detail.payload.attributes.updated_at,
      (created.event.attributes as { updated_at: string }).updated_at,
    );
    assert.deepEqual(detail.payload.attributes.product, sample.attributes.product);
    assert.deepEqual(detail.payload.attributes.lead_source, sample.attributes.lead_source);
    // The seller is a person too.
    assert.ok(!text.includes(sample.attributes.seller.email));
  });

  await t.test('GET /events/{id} is 404 for an unknown id, a uuid or not', async () => {
    for (const id of ['8d3c1e5a-0b7f-4c2e-9a61-3f0d2b4c5e6f', 'not-a-uuid', '1', `${first!.id}0`]) {
      const answer = await admin(service, `/events/${id}`);
      assert.equal(answer.status, 404, `${id}: ${answer.text}`);
      assert.equal(answer.body.error, 'not_found');
      assert.equal(typeof answer.body.message, 'string');
    }
  });

  await t.test('GET /leads/{lead_id}: events newest first and the notes', async () => {
    // An update with the same contacts: completed as unchanged, no second note.
    const same = rig.lead('same_person', {
      leadId,
      updatedAt: '2026-11-20T11:00:00.000-03:00',
      action: 'on_update_lead',
    });
    await service.post(same.event);
    const states = await settled(service.db, 30_000, leadId);
    assert.deepEqual(
      states.map((state) => state.outcome),
      ['enriched', 'unchanged'],
    );
    const second = states[1]!;

    const answer = await admin(service, `/leads/${leadId}`);
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(Object.keys(answer.body).sort(), ['events', 'lead_id', 'notes']);
    assert.equal(answer.body.lead_id, leadId);
    assert.deepEqual(
      answer.body.events.map((event: { id: string; hook_action: string; outcome: string }) => [
        event.id,
        event.hook_action,
        event.outcome,
      ]),
      [
        [second.id, 'on_update_lead', 'unchanged'],
        [first!.id, 'on_create_lead', 'enriched'],
      ],
    );
    for (const event of answer.body.events)
      assert.deepEqual(Object.keys(event).sort(), [...SUMMARY_FIELDS].sort());
    // The same summaries as the list filtered on the lead.
    const listed = await admin(service, `/events?lead_id=${leadId}`);
    assert.deepEqual(answer.body.events, listed.body.events);
    assert.equal(answer.body.notes.length, 1);
    const detail = await admin(service, `/events/${first!.id}`);
    assert.deepEqual(answer.body.notes[0], detail.body.note);
    assert.equal(rig.c2s.notes(leadId).length, 1);

    // The unchanged event points at the note the first one posted.
    const unchanged = await admin(service, `/events/${second.id}`);
    assert.equal(unchanged.status, 200);
    assert.deepEqual(unchanged.body.note, detail.body.note);
    const names = unchanged.body.steps.map((step: { step: string }) => step.step);
    const order = names.map((step: string) => ENRICHMENT_STEP_ORDER.indexOf(step as never));
    assert.ok(
      order.every((index: number, i: number) => index >= 0 && (i === 0 || index > order[i - 1])),
      names.join(),
    );
  });

  await t.test('GET /leads/{lead_id} is 404 for a lead never seen', async () => {
    const answer = await admin(service, '/leads/lead-never-seen');
    assert.equal(answer.status, 404);
    assert.equal(answer.body.error, 'not_found');
    assert.equal(typeof answer.body.message, 'string');
  });
});

test('ENRICHMENT_STEP_ORDER names the enrichment workflow steps, in order', () => {
  // The steps only keep their dependencies when built: configuration is all they read.
  const deps = { config: loadConfig({}) } as unknown as WorkflowDeps;
  assert.deepEqual(
    enrichmentWorkflow(deps).map((step) => step.name),
    [...ENRICHMENT_STEP_ORDER],
  );
});

// ---------------------------------------------------------------------------------------------
// The OpenAPI document and the reference page

test('GET /openapi.json is the OpenAPI 3.1 document of the webhook and admin routes', async (t) => {
  const service = await startService(t);
  const answer = await admin(service, '/openapi.json');
  assert.equal(answer.status, 200, answer.text);
  const document = answer.body;
  assert.equal(document.openapi, '3.1.0');
  const paths = Object.keys(document.paths);
  for (const path of [
    '/api/v1/webhooks/c2s',
    '/api/v1/admin/events',
    '/api/v1/admin/events/{id}',
    '/api/v1/admin/events/{id}/reprocess',
    '/api/v1/admin/replay',
    '/api/v1/admin/leads/{lead_id}',
    '/api/v1/admin/stats',
  ])
    assert.ok(paths.includes(path), `${path} in ${paths.join(', ')}`);
  assert.ok(document.paths['/api/v1/webhooks/c2s'].post, 'the webhook is a POST');

  // The admin operations say they want the bearer token.
  assert.equal(document.components.securitySchemes.adminToken.scheme, 'bearer');
  for (const [path, item] of Object.entries<Record<string, { security?: unknown }>>(document.paths)) {
    if (!path.startsWith('/api/v1/admin/')) continue;
    for (const operation of Object.values(item))
      assert.deepEqual(operation.security, [{ adminToken: [] }], path);
  }

  // EventSummary as the list answers it, and the detail on top of it.
  const list = document.paths['/api/v1/admin/events'].get;
  const page = list.responses['200'].content['application/json'].schema;
  assert.deepEqual(Object.keys(page.properties).sort(), ['events', 'next_cursor']);
  const summary = page.properties.events.items;
  assert.deepEqual(Object.keys(summary.properties).sort(), [...SUMMARY_FIELDS].sort());
  assert.deepEqual([...summary.required].sort(), [...SUMMARY_FIELDS].sort());
  const detail =
    document.paths['/api/v1/admin/events/{id}'].get.responses['200'].content['application/json'].schema;
  assert.deepEqual(
    Object.keys(detail.properties).sort(),
    [...SUMMARY_FIELDS, 'error_message', 'payload', 'steps', 'note'].sort(),
  );
  // The list's filters are documented as its parameters.
  const parameters = list.parameters.map(
    (parameter: { name: string; in: string }) => `${parameter.in}:${parameter.name}`,
  );
  for (const name of [
    'status',
    'outcome',
    'lead_id',
    'error_code',
    'hook_action',
    'since',
    'until',
    'limit',
    'cursor',
  ])
    assert.ok(parameters.includes(`query:${name}`), `${name} in ${parameters.join(', ')}`);
  assert.ok(list.responses['401'] && list.responses['400']);
});

test('/docs is a reference page served with its own assets, no CDN', async (t) => {
  const service = await startService(t);
  const page = await fetch(`${service.url}/docs`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  const html = await page.text();
  assert.match(html, /swagger-ui/i);
  const sources = [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"/gi)].map(
    (match) => match[1]!,
  );
  assert.ok(sources.length > 0, 'the page loads assets');
  assert.ok(!/https?:\/\//.test(sources.join(' ')), `external asset in ${sources.join(', ')}`);
  assert.ok(!/(src|href)="(https?:)?\/\//i.test(html), 'no external URL as a src or href');
  const scripts = sources.filter((source) => source.endsWith('.js'));
  assert.ok(scripts.length > 0, `a script in ${sources.join(', ')}`);
  for (const script of scripts) {
    const asset = await fetch(new URL(script, page.url));
    assert.equal(asset.status, 200, script);
    assert.match(asset.headers.get('content-type') ?? '', /javascript/, script);
    assert.ok((await asset.text()).length > 1000, `${script} is the real asset`);
  }
});
