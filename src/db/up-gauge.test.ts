import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { freshDatabase } from '../../test/helpers/database.ts';
import { createMetrics } from '../metrics.ts';
import { registerDatabaseGauge } from './up-gauge.ts';

async function databaseUp(pool: pg.Pool): Promise<number> {
  const metrics = createMetrics();
  registerDatabaseGauge(metrics, pool, 0);
  const text = await metrics.registry.metrics();
  const value = /^database_up (\d+)$/m.exec(text)?.[1];
  assert.ok(value !== undefined, 'database_up is exported');
  return Number(value);
}

test('database_up is 1 while the database answers', async (t) => {
  const database = await freshDatabase(t);
  assert.equal(await databaseUp(database.pool), 1);
});

test('database_up is 0 when the database cannot be reached, and the scrape still answers', async () => {
  // Port 9 (discard) is closed here: the connection is refused at once.
  const pool = new pg.Pool({
    connectionString: 'postgres://nobody@127.0.0.1:9/none',
    connectionTimeoutMillis: 500,
  });
  pool.on('error', () => {});
  try {
    assert.equal(await databaseUp(pool), 0);
  } finally {
    await pool.end();
  }
});
