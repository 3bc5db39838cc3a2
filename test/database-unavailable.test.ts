import assert from 'node:assert/strict';
import pg from 'pg';
import { test } from 'node:test';
import { defer } from './helpers/cleanup.ts';
import { createPool } from '../src/db/pool.ts';
import { buildApp } from '../src/http/app.ts';
import { createLogger } from '../src/log/logger.ts';
import { createMetrics } from '../src/metrics.ts';
import { freePort } from './helpers/process.ts';
import { leadEvent, postWebhook, SECRET, startService } from './helpers/service.ts';

test('with the database unreachable the webhook answers 503 with Retry-After and claims nothing', async (t) => {
  // The HTTP app over a pool whose database is not there (the service itself would not boot).
  const logger = createLogger('silent');
  const pool = createPool(
    {
      url: `postgres://postgres@127.0.0.1:${await freePort()}/nowhere`,
      max: 2,
      connectTimeoutMs: 500,
      statementTimeoutMs: 2000,
    },
    logger,
  );
  const webhook = {
    secrets: [SECRET],
    bodyLimitBytes: 1 << 20,
    maxEventsPerRequest: 10,
    maxBacklog: 10,
    maxQueuedEvents: 100,
    rejectedKeep: 10,
  };
  const app = await buildApp({
    db: pool,
    logger,
    metrics: createMetrics(),
    webhook: {
      ...webhook,
      wake: async () => {},
    },
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(async () => {
    await app.close();
    await pool.end();
  });
  const service = { url };
  const answer = await postWebhook(url, leadEvent('lead-down', '2026-11-20T10:15:00Z'));
  assert.equal(answer.status, 503);
  assert.equal(answer.body.error, 'database_unavailable');
  assert.ok(Number(answer.headers.get('retry-after')) > 0);
  assert.equal(answer.body.processed, undefined);

  const ready = await fetch(`${service.url}/ready`);
  assert.equal(ready.status, 503);
  assert.deepEqual(await ready.json(), { status: 'unavailable', reason: 'database_unavailable' });
  const health = await fetch(`${service.url}/health`);
  assert.equal(health.status, 200);
});

test('a database that goes away mid-run gives 503, and 200 again once it is back', async (t) => {
  const service = await startService(t);
  assert.equal((await service.post(leadEvent('lead-1', '2026-11-20T10:15:00Z'))).status, 200);
  // Cut every connection of the service to its database, and refuse new ones for a moment.
  const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await admin.connect();
  defer(t, () => admin.end());
  await admin.query(`ALTER DATABASE ${service.db.name} ALLOW_CONNECTIONS false`);
  await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [
    service.db.name,
  ]);
  const down = await service.post(leadEvent('lead-2', '2026-11-20T10:15:00Z'));
  assert.equal(down.status, 503);
  await admin.query(`ALTER DATABASE ${service.db.name} ALLOW_CONNECTIONS true`);
  const back = await service.post(leadEvent('lead-2', '2026-11-20T10:15:00Z'));
  assert.equal(back.status, 200);
  assert.equal(back.body.processed, 1);
});
