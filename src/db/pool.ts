import pg from 'pg';
import type { Logger } from '../log/logger.ts';
import { redactUrl, scrubText } from '../log/mask.ts';

export interface PoolOptions {
  readonly url: string;
  readonly max: number;
  readonly connectTimeoutMs: number;
}

/** The process's one connection pool. Fails fast when the database is away, so callers can answer 503. */
export function createPool(options: PoolOptions, logger: Logger): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max,
    connectionTimeoutMillis: options.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: 'c2s-enricher',
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', (error) =>
    logger.warn({ err: { message: scrubText(error.message) } }, 'idle database connection lost'),
  );
  logger.debug({ database: redactUrl(options.url) }, 'database pool created');
  return pool;
}
