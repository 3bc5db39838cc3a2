// Runs once per `node --test` run: makes sure a PostgreSQL server is there (TEST_DATABASE_URL, or an
// embedded one started here) and prepares a migrated template database that every test file clones.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../src/db/embedded.ts';
import { migrate } from '../src/db/migrate.ts';
import { createLogger } from '../src/log/logger.ts';

let embedded: EmbeddedDatabase | undefined;
let embeddedDir: string | undefined;
let template: string | undefined;

export async function globalSetup(): Promise<void> {
  const logger = createLogger('warn');
  if (!process.env.TEST_DATABASE_URL) {
    embeddedDir = mkdtempSync(join(tmpdir(), 'c2s-test-pg-'));
    embedded = await startEmbeddedDatabase({
      dataDir: embeddedDir,
      logger,
      // A throwaway server: durability off for speed, room for parallel test files.
      settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '400' },
    });
    process.env.TEST_DATABASE_URL = embedded.adminUrl;
  }
  template = `c2s_test_template_${process.pid}`;
  const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${template}`);
    await admin.query(`CREATE DATABASE ${template}`);
  } finally {
    await admin.end();
  }
  const client = new pg.Client({ connectionString: withDatabase(process.env.TEST_DATABASE_URL, template) });
  await client.connect();
  try {
    await migrate(client, logger);
  } finally {
    await client.end();
  }
  process.env.TEST_TEMPLATE_DATABASE = template;
}

export async function globalTeardown(): Promise<void> {
  if (template && process.env.TEST_DATABASE_URL) {
    const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`).catch(() => {});
    await admin.end();
  }
  await embedded?.stop();
  if (embeddedDir) rmSync(embeddedDir, { recursive: true, force: true });
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
