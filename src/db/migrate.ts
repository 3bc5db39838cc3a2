import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type pg from 'pg';
import type { Logger } from '../log/logger.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
export const MIGRATIONS_TABLE = 'schema_migrations';

/** Names of the migrations this build ships, in order (file names without `.sql`). */
export const shippedMigrations: readonly string[] = readdirSync(MIGRATIONS_DIR)
  .filter((file) => file.endsWith('.sql'))
  .sort()
  .map((file) => file.slice(0, -'.sql'.length));

/**
 * Applies pending migrations. node-pg-migrate holds an advisory lock meanwhile, so several
 * instances booting together apply each migration once.
 */
export async function migrate(client: pg.ClientBase, logger: Logger): Promise<string[]> {
  const applied = await runner({
    dbClient: client,
    dir: MIGRATIONS_DIR,
    migrationsTable: MIGRATIONS_TABLE,
    direction: 'up',
    checkOrder: true,
    singleTransaction: true,
    log: (message: string) => logger.debug({ migration: message }, 'migration'),
  });
  const names = applied.map((migration) => migration.name);
  if (names.length > 0) logger.info({ applied: names }, 'migrations applied');
  return names;
}

/** Whether every migration this build ships is applied (readiness). */
export async function migrationsApplied(db: pg.Pool): Promise<boolean> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT name FROM ${MIGRATIONS_TABLE} WHERE name = ANY($1::text[])`,
    [shippedMigrations],
  );
  return rows.length === shippedMigrations.length;
}
