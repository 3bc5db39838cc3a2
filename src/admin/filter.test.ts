import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdminInputError } from './errors.ts';
import {
  filterConditions,
  isEmptyFilter,
  parseFilter,
  parseInstant,
  PHASE,
  type RawFilter,
} from './filter.ts';

function refusal(raw: RawFilter): AdminInputError {
  try {
    parseFilter(raw);
  } catch (error) {
    assert.ok(error instanceof AdminInputError, `expected an AdminInputError, got ${String(error)}`);
    assert.equal(error.status, 400);
    assert.equal(error.code, 'bad_request');
    return error;
  }
  assert.fail(`expected ${JSON.stringify(raw)} to be refused`);
}

test('an empty filter is accepted and is empty', () => {
  const filter = parseFilter({});
  assert.deepEqual(filter, {});
  assert.equal(isEmptyFilter(filter), true);
  assert.equal(isEmptyFilter(parseFilter({ status: undefined })), true);
  assert.equal(isEmptyFilter(parseFilter({ status: 'failed' })), false);
});

test('every field is checked and typed', () => {
  const { since, until, ...rest } = parseFilter({
    status: 'failed',
    outcome: 'no_match',
    lead_id: 'lead-1',
    error_code: 'c2s_not_found',
    hook_action: 'on_update_lead',
    since: '2026-12-01T09:00:00Z',
    until: '2026-12-01T09:00:00.000001-03:00',
  });
  assert.deepEqual(rest, {
    status: 'failed',
    outcome: 'no_match',
    leadId: 'lead-1',
    errorCode: 'c2s_not_found',
    hookAction: 'on_update_lead',
  });
  assert.ok(since instanceof Date && until instanceof Date);
  assert.equal(since.toISOString(), '2026-12-01T09:00:00.000Z');
  assert.equal(until.toISOString(), '2026-12-01T12:00:00.000Z');
  for (const status of ['received', 'processing', 'completed', 'failed', 'stale', 'superseded'])
    assert.equal(parseFilter({ status }).status, status);
  for (const outcome of ['enriched', 'no_match', 'unchanged', 'closed'])
    assert.equal(parseFilter({ outcome }).outcome, outcome);
  assert.equal(parseFilter({ lead_id: 'x'.repeat(200) }).leadId?.length, 200);
  assert.equal(
    parseFilter({ since: '2026-12-01 09:00:00+00:00' }).since?.toISOString(),
    '2026-12-01T09:00:00.000Z',
  );
});

test('instants keep their microseconds (received times have them; Date stops at milliseconds)', () => {
  assert.equal(parseInstant('since', '2026-12-01T09:00:00.123456Z').micros, '2026-12-01T09:00:00.123456Z');
  assert.equal(
    parseInstant('since', '2026-12-01T06:00:00.1234567-03:00').micros,
    '2026-12-01T09:00:00.123456Z',
  );
  assert.equal(parseInstant('since', '2026-12-01t09:00:00.5z').micros, '2026-12-01T09:00:00.500000Z');
  assert.equal(parseInstant('since', '2026-12-01T09:00:00+01:00').micros, '2026-12-01T08:00:00.000000Z');
  // Within one millisecond, since must still come before until.
  assert.ok(parseFilter({ since: '2026-12-01T09:00:00.123456Z', until: '2026-12-01T09:00:00.123457Z' }));
  assert.equal(
    refusal({ since: '2026-12-01T09:00:00.123457Z', until: '2026-12-01T09:00:00.123456Z' }).message,
    'since must be before until',
  );
  const values: unknown[] = [];
  filterConditions(
    parseFilter({ since: '2026-12-01T09:00:00.123456Z', until: '2026-12-01T10:00:00Z' }),
    values,
  );
  assert.deepEqual(values, ['2026-12-01T09:00:00.123456Z', '2026-12-01T10:00:00.000000Z']);
  // A plain Date (a caller building its own filter) is taken to the millisecond.
  const plain: unknown[] = [];
  filterConditions({ since: new Date('2026-12-01T09:00:00.123Z') }, plain);
  assert.deepEqual(plain, ['2026-12-01T09:00:00.123000Z']);
});

test('values outside their lists, malformed codes and over-long lead ids are refused, naming the field', () => {
  assert.match(refusal({ status: 'done' }).message, /^status must be one of received, processing/);
  assert.match(refusal({ status: 'Failed' }).message, /^status must be one of/);
  assert.match(refusal({ outcome: 'failed' }).message, /^outcome must be one of enriched/);
  assert.match(refusal({ hook_action: 'on_delete_lead' }).message, /^hook_action must be one of/);
  assert.match(refusal({ lead_id: '' }).message, /^lead_id must be 1 to 200 characters/);
  assert.match(refusal({ lead_id: 'x'.repeat(201) }).message, /^lead_id/);
  assert.match(refusal({ error_code: 'C2S-Not-Found' }).message, /^error_code must be a code/);
  assert.match(refusal({ error_code: '' }).message, /^error_code/);
  assert.match(refusal({ error_code: 'a'.repeat(65) }).message, /^error_code/);
});

test('since and until must be RFC 3339 date-times, since before until', () => {
  for (const since of [
    '2026-12-01',
    '2026-12-01T09:00:00',
    '2026-12-01T09:00Z',
    'yesterday',
    '2026-13-01T09:00:00Z',
    '2026-12-01T09:60:00Z',
    '2026-12-01T09:00:00+99:99',
    '',
  ])
    assert.match(refusal({ since }).message, /^since must be an RFC 3339 date-time/, since);
  assert.match(refusal({ until: '1733043600' }).message, /^until must be an RFC 3339 date-time/);
  const at = '2026-12-01T09:00:00Z';
  assert.equal(refusal({ since: at, until: at }).message, 'since must be before until');
  assert.equal(refusal({ since: at, until: '2026-12-01T08:59:59Z' }).message, 'since must be before until');
  assert.ok(parseFilter({ since: at, until: '2026-12-01T09:00:00.001Z' }).until);
  // Days and hours that do not exist are refused, not rolled over into the next month or day.
  for (const value of [
    '2026-02-29T00:00:00Z',
    '2026-02-30T00:00:00Z',
    '2026-04-31T10:00:00Z',
    '2026-12-01T24:00:00Z',
  ])
    assert.throws(() => parseInstant('at', value), /^AdminError: at must be an RFC 3339/, value);
  assert.equal(parseInstant('at', '2028-02-29T23:59:59Z').toISOString(), '2028-02-29T23:59:59.000Z');
});

test('filterConditions: an unfinished status is matched on the phase expression', () => {
  const values: unknown[] = [];
  assert.deepEqual(filterConditions({ status: 'failed' }, values), [`${PHASE} = $1`]);
  assert.deepEqual(values, ['failed']);
  assert.equal(PHASE, `(CASE WHEN status = 'completed' THEN outcome ELSE status END)`);
});

test('filterConditions: completed is matched on the status, with no value', () => {
  const values: unknown[] = [];
  assert.deepEqual(filterConditions({ status: 'completed' }, values), [`status = 'completed'`]);
  assert.deepEqual(values, []);
});

test('filterConditions: an outcome is matched on the phase expression', () => {
  const values: unknown[] = [];
  assert.deepEqual(filterConditions({ status: 'completed', outcome: 'enriched' }, values), [
    `status = 'completed'`,
    `${PHASE} = $1`,
  ]);
  assert.deepEqual(values, ['enriched']);
});

test('filterConditions: every field, placeholders following the values already given', () => {
  const since = new Date('2026-12-01T09:00:00Z');
  const until = new Date('2026-12-02T09:00:00Z');
  const values: unknown[] = ['earlier'];
  const conditions = filterConditions(
    {
      status: 'stale',
      outcome: 'closed',
      leadId: 'lead-1',
      errorCode: 'workapi_timeout',
      hookAction: 'on_close_lead',
      since,
      until,
    },
    values,
  );
  assert.deepEqual(conditions, [
    `${PHASE} = $2`,
    `${PHASE} = $3`,
    'lead_id = $4',
    'error_code = $5',
    'hook_action = $6',
    'received_at >= $7',
    'received_at < $8',
  ]);
  assert.deepEqual(values, [
    'earlier',
    'stale',
    'closed',
    'lead-1',
    'workapi_timeout',
    'on_close_lead',
    '2026-12-01T09:00:00.000000Z',
    '2026-12-02T09:00:00.000000Z',
  ]);
  assert.deepEqual(filterConditions({}, []), []);
});
