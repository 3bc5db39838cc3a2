import pg from 'pg';
import type { Logger } from '../log/logger.ts';
import { redactUrl } from '../log/mask.ts';

export interface PoolOptions {
  readonly url: string;
  readonly max: number;
  readonly connectTimeoutMs: number;
  /** The server cancels a statement running longer; the client gives up a little after. */
  readonly statementTimeoutMs: number;
}

/** How long the client waits past the statement timeout for the server's own cancellation. */
const CLIENT_GRACE_MS = 5000;

/**
 * The process's connection pool. Fails fast when the database is away, so callers can answer 503,
 * and nothing waits on it forever: statements have a server-side timeout, every query a client
 * deadline past it (a partitioned server never answers), a transaction left idle is ended, and
 * TCP keepalive finds a dead peer on an idle connection.
 */
export function createPool(options: PoolOptions, logger: Logger): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max,
    connectionTimeoutMillis: options.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: 'c2s-enricher',
    statement_timeout: options.statementTimeoutMs,
    query_timeout: options.statementTimeoutMs + CLIENT_GRACE_MS,
    idle_in_transaction_session_timeout: options.statementTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', (error) => logger.warn({ err: error }, 'idle database connection lost'));
  logger.debug({ database: redactUrl(options.url) }, 'database pool created');
  return pool;
}
