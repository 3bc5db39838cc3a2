import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CircuitState } from 'cockatiel';
import type pg from 'pg';
import { freshDatabase } from '../../test/helpers/database.ts';
import { createHealthRecorder, reportHealth } from './health.ts';

/** A clock the test moves. */
function clock(start: string) {
  let at = Date.parse(start);
  return {
    now: () => at,
    set: (iso: string) => void (at = Date.parse(iso)),
  };
}

/** A breaker whose state the test sets. */
function breaker(state = CircuitState.Closed) {
  return { state };
}

const byKey = (rows: ReadonlyArray<{ provider: string; minute: string }>) =>
  [...rows].sort((a, b) => `${a.provider}|${a.minute}`.localeCompare(`${b.provider}|${b.minute}`));

test('calls and errors are counted per provider and minute; the last error is kept', () => {
  const time = clock('2026-11-20T13:15:42.500Z');
  const health = createHealthRecorder(time.now);
  health.call('c2s');
  health.call('c2s', 'c2s_timeout');
  time.set('2026-11-20T13:15:59.999Z');
  health.call('c2s');
  health.call('diretrix', 'diretrix_server_error');
  time.set('2026-11-20T13:16:00.000Z');
  health.call('c2s', 'c2s_rate_limited');
  health.call('workapi');

  assert.deepEqual(byKey(health.drain()), [
    { provider: 'c2s', minute: '2026-11-20T13:15:00.000Z', calls: 3, errors: 1 },
    { provider: 'c2s', minute: '2026-11-20T13:16:00.000Z', calls: 1, errors: 1 },
    { provider: 'diretrix', minute: '2026-11-20T13:15:00.000Z', calls: 1, errors: 1 },
    { provider: 'workapi', minute: '2026-11-20T13:16:00.000Z', calls: 1, errors: 0 },
  ]);
  assert.deepEqual(health.lastError('c2s'), {
    code: 'c2s_rate_limited',
    at: new Date('2026-11-20T13:16:00.000Z'),
  });
  assert.deepEqual(health.lastError('diretrix'), {
    code: 'diretrix_server_error',
    at: new Date('2026-11-20T13:15:59.999Z'),
  });
  assert.equal(health.lastError('workapi'), undefined);
  assert.equal(health.lastError('c2s_gateway'), undefined);
});

test('drain takes the counts once; restore puts them back, added to calls made since', () => {
  const time = clock('2026-11-20T13:15:00Z');
  const health = createHealthRecorder(time.now);
  health.call('workapi');
  health.call('workapi', 'workapi_timeout');
  const drained = health.drain();
  assert.deepEqual(drained, [
    { provider: 'workapi', minute: '2026-11-20T13:15:00.000Z', calls: 2, errors: 1 },
  ]);
  assert.deepEqual(health.drain(), [], 'drained counts are gone');

  health.call('workapi'); // made while the failed report was in flight
  time.set('2026-11-20T13:17:10Z');
  health.call('workapi');
  health.restore(drained);
  assert.deepEqual(byKey(health.drain()), [
    { provider: 'workapi', minute: '2026-11-20T13:15:00.000Z', calls: 3, errors: 1 },
    { provider: 'workapi', minute: '2026-11-20T13:17:00.000Z', calls: 1, errors: 0 },
  ]);
  // The last error is kept across drains: it is state, not a count.
  assert.equal(health.lastError('workapi')?.code, 'workapi_timeout');
});

test("a provider's breaker state is the worst of its breakers", () => {
  const health = createHealthRecorder();
  assert.deepEqual([...health.breakerStates()], [], 'no breaker watched, no state');
  const reads = breaker();
  const listing = breaker();
  health.watch('c2s', reads);
  health.watch('c2s', listing);
  const dossier = breaker();
  health.watch('workapi', dossier);
  const states = () => Object.fromEntries(health.breakerStates());

  assert.deepEqual(states(), { c2s: 'closed', workapi: 'closed' });
  listing.state = CircuitState.HalfOpen;
  assert.deepEqual(states(), { c2s: 'half_open', workapi: 'closed' });
  reads.state = CircuitState.Open;
  assert.deepEqual(states(), { c2s: 'open', workapi: 'closed' }, 'open is worse than half open');
  reads.state = CircuitState.Closed;
  listing.state = CircuitState.Closed;
  dossier.state = CircuitState.Isolated;
  assert.deepEqual(states(), { c2s: 'closed', workapi: 'open' }, 'an isolated breaker lets nothing through');
  dossier.state = CircuitState.HalfOpen;
  assert.deepEqual(states(), { c2s: 'closed', workapi: 'half_open' });
});

test('reportHealth writes provider_calls (added up across reports) and provider_health rows', async (t) => {
  const db = await freshDatabase(t);
  const time = clock('2026-11-20T13:15:10Z');
  const health = createHealthRecorder(time.now);
  const c2s = breaker();
  health.watch('c2s', c2s);
  health.watch('diretrix', breaker());
  health.call('c2s');
  health.call('c2s', 'c2s_timeout');
  health.call('diretrix');
  time.set('2026-11-20T13:16:05Z');
  health.call('c2s');

  await reportHealth(db.pool, health, 'proc-a');
  assert.deepEqual(health.drain(), [], 'reported counts are not reported again');

  time.set('2026-11-20T13:16:30Z');
  health.call('c2s', 'c2s_server_error');
  health.call('c2s');
  c2s.state = CircuitState.Open;
  await reportHealth(db.pool, health, 'proc-a');

  const calls = await db.pool.query<{ provider: string; minute: Date; calls: number; errors: number }>(
    'SELECT provider, minute, calls, errors FROM provider_calls ORDER BY provider, minute',
  );
  assert.deepEqual(
    calls.rows.map((row) => ({ ...row, minute: row.minute.toISOString() })),
    [
      { provider: 'c2s', minute: '2026-11-20T13:15:00.000Z', calls: 2, errors: 1 },
      { provider: 'c2s', minute: '2026-11-20T13:16:00.000Z', calls: 3, errors: 1 },
      { provider: 'diretrix', minute: '2026-11-20T13:15:00.000Z', calls: 1, errors: 0 },
    ],
  );

  // A second process adds to the same minutes and has rows of its own.
  const other = createHealthRecorder(clock('2026-11-20T13:16:59Z').now);
  other.watch('c2s', breaker(CircuitState.HalfOpen));
  other.call('c2s');
  await reportHealth(db.pool, other, 'proc-b');

  const added = await db.pool.query<{ calls: number }>(
    `SELECT calls FROM provider_calls WHERE provider = 'c2s' AND minute = '2026-11-20T13:16:00Z'`,
  );
  assert.equal(added.rows[0]?.calls, 4);
  const states = await db.pool.query<{
    provider: string;
    process: string;
    breaker: string;
    last_error_code: string | null;
    last_error_at: Date | null;
    fresh: boolean;
  }>(
    `SELECT provider, process, breaker, last_error_code, last_error_at,
            updated_at > now() - interval '1 minute' AS fresh
     FROM provider_health ORDER BY provider, process`,
  );
  assert.deepEqual(
    states.rows.map((row) => ({ ...row, last_error_at: row.last_error_at?.toISOString() ?? null })),
    [
      {
        provider: 'c2s',
        process: 'proc-a',
        breaker: 'open',
        last_error_code: 'c2s_server_error',
        last_error_at: '2026-11-20T13:16:30.000Z',
        fresh: true,
      },
      {
        provider: 'c2s',
        process: 'proc-b',
        breaker: 'half_open',
        last_error_code: null,
        last_error_at: null,
        fresh: true,
      },
      {
        provider: 'diretrix',
        process: 'proc-a',
        breaker: 'closed',
        last_error_code: null,
        last_error_at: null,
        fresh: true,
      },
    ],
  );
});

test('a report that fails keeps its counts for the next one', async () => {
  const time = clock('2026-11-20T13:15:10Z');
  const health = createHealthRecorder(time.now);
  health.call('workapi', 'workapi_timeout');
  const failing = {
    query: async () => {
      throw new Error('connection refused');
    },
  } as unknown as pg.Pool;
  await assert.rejects(reportHealth(failing, health, 'proc-a'), /connection refused/);
  assert.deepEqual(health.drain(), [
    { provider: 'workapi', minute: '2026-11-20T13:15:00.000Z', calls: 1, errors: 1 },
  ]);
});
