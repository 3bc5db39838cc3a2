// Nothing waits forever: database statements and queries have deadlines, and ingest holds a
// bounded number of events in memory while the database is slow.
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { test } from 'node:test';
import pg from 'pg';
import { createPool } from '../src/db/pool.ts';
import { createLogger } from '../src/log/logger.ts';
import { defer } from './helpers/cleanup.ts';
import { freshDatabase } from './helpers/database.ts';
import { eventRows, leadEvent, startService } from './helpers/service.ts';
import { until } from './helpers/wait.ts';

const logger = createLogger('silent');

test('a statement running past DB_STATEMENT_TIMEOUT_MS is cancelled by the server', async (t) => {
  const db = await freshDatabase(t);
  const pool = createPool({ url: db.url, max: 1, connectTimeoutMs: 2000, statementTimeoutMs: 300 }, logger);
  defer(t, () => pool.end());
  const started = Date.now();
  await assert.rejects(pool.query('SELECT pg_sleep(5)'), { code: '57014' }); // query_canceled
  assert.ok(Date.now() - started < 3000, 'cancelled near the timeout, not after the sleep');
  assert.deepEqual(
    (await pool.query('SELECT 1 AS one')).rows,
    [{ one: 1 }],
    'the connection is usable again',
  );
});

/** A TCP relay to PostgreSQL that can be frozen: the database is then silent, as behind a partition. */
async function freezableRelay(target: URL) {
  const sockets: Socket[] = [];
  let frozen = false;
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.push(client, upstream);
    client.on('data', (chunk) => frozen || upstream.write(chunk));
    upstream.on('data', (chunk) => frozen || client.write(chunk));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    freeze: () => (frozen = true),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

test('a query to a database that went silent fails by its deadline instead of hanging', async (t) => {
  const db = await freshDatabase(t);
  const target = new URL(db.url);
  const relay = await freezableRelay(target);
  defer(t, () => relay.close());
  const url = new URL(db.url);
  url.host = `127.0.0.1:${relay.port}`;
  const pool = createPool(
    { url: url.toString(), max: 1, connectTimeoutMs: 1000, statementTimeoutMs: 500 },
    logger,
  );
  pool.on('error', () => {});
  defer(t, () => pool.end().catch(() => {}));
  assert.deepEqual((await pool.query('SELECT 1 AS one')).rows, [{ one: 1 }]);

  relay.freeze(); // the server can no longer answer, nor even cancel the statement
  const started = Date.now();
  await assert.rejects(pool.query('SELECT 2'), /timeout/i);
  const waited = Date.now() - started;
  assert.ok(waited >= 500 && waited < 10_000, `gave up after ${waited} ms`);
});

test('over INGEST_MAX_QUEUED_EVENTS waiting for the database, requests get 503 with Retry-After and lose nothing', async (t) => {
  const service = await startService(t, { env: { INGEST_MAX_QUEUED_EVENTS: '3' } });
  // Hold the events table so that inserts wait, as a slow database would make them.
  const blocker = new pg.Client({ connectionString: service.db.url });
  await blocker.connect();
  defer(t, () => blocker.end());
  await blocker.query('BEGIN');
  await blocker.query('LOCK TABLE webhook_events IN SHARE ROW EXCLUSIVE MODE');

  const answers = Promise.all(
    Array.from({ length: 10 }, (_, n) => service.post(leadEvent(`lead-${n}`, '2026-11-20T10:00:00Z'))),
  );
  // Both group-commit transactions wait on the lock; the requests behind them fill the queue, and
  // the queue refuses what it cannot hold. Then the database goes on.
  await until(
    'both group-commit transactions to wait on the lock',
    async () => {
      const { rows } = await service.db.pool.query(
        `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
         WHERE c.relname = 'webhook_events' AND NOT l.granted`,
      );
      return rows[0].n >= 2;
    },
    5000,
  );
  await until(
    'a request refused as ingest_overloaded',
    async () =>
      /webhook_requests_refused_total\{reason="ingest_overloaded"\} [1-9]/.test(
        await (await fetch(`${service.url}/metrics`)).text(),
      ),
    5000,
  );
  await blocker.query('COMMIT');

  const results = await answers;
  const refused = results.filter((answer) => answer.status === 503);
  const accepted = results.filter((answer) => answer.status === 200);
  assert.equal(refused.length + accepted.length, 10);
  assert.ok(refused.length >= 1, 'some requests were refused while the queue was full');
  assert.ok(accepted.length >= 3, 'the queue took what it could hold');
  for (const answer of refused) {
    assert.equal(answer.body.error, 'ingest_overloaded');
    assert.ok(answer.headers.get('retry-after'));
  }
  // Exactly the accepted events are stored.
  const stored = (await eventRows(service.db)).map((row) => row.lead_id).toSorted();
  const acceptedLeads = accepted.map((answer) => answer.body.results[0].lead_id as string).toSorted();
  assert.deepEqual(stored, acceptedLeads);
  const metrics = await (await fetch(`${service.url}/metrics`)).text();
  assert.match(
    metrics,
    new RegExp(`webhook_requests_refused_total\\{reason="ingest_overloaded"\\} ${refused.length}`),
  );
});
