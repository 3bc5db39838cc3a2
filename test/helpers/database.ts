import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import pg from 'pg';
import { defer } from './cleanup.ts';

export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  /** A pool for assertions on rows. */
  readonly pool: pg.Pool;
  drop(): Promise<void>;
}

/**
 * A database of its own for a test, cloned from the migrated template (fast, isolated); with `t`,
 * dropped when the test ends, after everything registered later has stopped.
 */
export async function freshDatabase(t?: TestContext): Promise<TestDatabase> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  const template = process.env.TEST_TEMPLATE_DATABASE;
  if (!serverUrl || !template)
    throw new Error('run tests through `npm test` (global setup prepares the database)');
  const name = `c2s_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(serverUrl, `CREATE DATABASE ${name} TEMPLATE ${template}`);
  const url = urlOf(serverUrl, name);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => {}); // an idle assertion connection cut at drop time is expected
  const database: TestDatabase = {
    url,
    name,
    pool,
    drop: async () => {
      await pool.end();
      // pg's pool.end() resolves before its sockets are closed: let them go before dropping,
      // so no connection of the test is killed mid-flight (which would surface as an error).
      await waitForDisconnect(serverUrl, name);
      await adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
  if (t) defer(t, () => database.drop());
  return database;
}

export function urlOf(serverUrl: string, database: string): string {
  const parsed = new URL(serverUrl);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function adminQuery(serverUrl: string, sql: string): Promise<void> {
  // Several test files clone the template at once; PostgreSQL refuses a clone while another
  // session is connected to the template, so a refused attempt is retried briefly.
  for (let attempt = 0; ; attempt++) {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(sql);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== '55006' || attempt >= 20) throw error;
    } finally {
      await client.end();
    }
    await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
  }
}

async function waitForDisconnect(serverUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    for (let waited = 0; waited < 5000; waited += 50) {
      const { rows } = await client.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1',
        [database],
      );
      if (rows[0]?.n === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await client.end();
  }
}
