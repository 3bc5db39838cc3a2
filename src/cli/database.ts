import type pg from 'pg';
import { openDatabaseForCommand } from '../db/database.ts';
import { createPool } from '../db/pool.ts';
import type { CommandContext } from './command.ts';

/**
 * Runs `use` on a small pool over the service's database (the configured one, else the embedded
 * one of this data directory), and closes both whatever happens.
 */
export async function withDatabase<T>(
  context: Pick<CommandContext, 'config' | 'logger'>,
  use: (db: pg.Pool) => Promise<T>,
): Promise<T> {
  const { config, logger } = context;
  const server = await openDatabaseForCommand(config, logger);
  try {
    const pool = createPool(
      {
        url: server.url,
        max: 2,
        connectTimeoutMs: config.database.connectTimeoutMs,
        statementTimeoutMs: config.database.statementTimeoutMs,
      },
      logger,
    );
    try {
      return await use(pool);
    } finally {
      await pool.end();
    }
  } finally {
    await server.stop();
  }
}
