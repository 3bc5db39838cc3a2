import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import pg from 'pg';
import { migrationsApplied } from '../db/migrate.ts';
import { sharedRead } from '../db/shared-read.ts';
import type { Logger } from '../log/logger.ts';
import { redactUrl } from '../log/mask.ts';
import type { Metrics } from '../metrics.ts';

const READY_TIMEOUT_MS = 2000;
/** Readiness is checked at most this often; callers meanwhile share the last answer. */
const READY_MAX_AGE_MS = 1000;

/** The health pool: two connections (readiness and the state gauges each read one at a time). */
const HEALTH_POOL_MAX = 2;
const HEALTH_CONNECT_TIMEOUT_MS = 1000;
const HEALTH_STATEMENT_TIMEOUT_MS = 2000;

const Health = Type.Object({ status: Type.Literal('ok') });
const Readiness = Type.Object({ status: Type.String(), reason: Type.Optional(Type.String()) });

/**
 * A small pool of its own for `/ready` and the state gauges of `/metrics`, so that however often
 * they are polled they never take a connection the workers need (to renew their leases, above
 * all). Short connect and statement timeouts: a probe answers "unavailable" rather than wait.
 */
export function createHealthPool(
  options: { url: string; connectTimeoutMs: number },
  logger: Logger,
): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: HEALTH_POOL_MAX,
    connectionTimeoutMillis: Math.min(options.connectTimeoutMs, HEALTH_CONNECT_TIMEOUT_MS),
    idleTimeoutMillis: 30_000,
    statement_timeout: HEALTH_STATEMENT_TIMEOUT_MS,
    query_timeout: HEALTH_STATEMENT_TIMEOUT_MS + 500,
    application_name: 'c2s-enricher-health',
  });
  pool.on('error', (error) => logger.warn({ err: error }, 'idle health connection lost'));
  logger.debug({ database: redactUrl(options.url) }, 'health pool created');
  return pool;
}

/** Liveness, readiness and metrics: what orchestrators and Prometheus poll. */
export async function healthRoutes(app: FastifyInstance, options: { db: pg.Pool; metrics: Metrics }) {
  const { db } = options;
  // A flood of probes costs at most one check a second, whatever their number.
  const readiness = sharedRead(() => unreadyReason(db), READY_MAX_AGE_MS);

  app.get('/health', { schema: { response: { 200: Health } } }, async () => ({ status: 'ok' }));

  app.get('/ready', { schema: { response: { 200: Readiness, 503: Readiness } } }, async (_request, reply) => {
    const reason = await readiness();
    if (reason === undefined) return { status: 'ready' };
    return reply.status(503).header('retry-after', '5').send({ status: 'unavailable', reason });
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await options.metrics.registry.metrics();
    return reply.type(options.metrics.registry.contentType).send(text);
  });
}

async function unreadyReason(db: pg.Pool): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve('database_timeout'), READY_TIMEOUT_MS);
  });
  const check = migrationsApplied(db).then(
    (applied) => (applied ? undefined : 'migrations_pending'),
    (error: { code?: string }) => {
      if (error.code === '42P01') return 'migrations_pending';
      // 57014: the statement timeout cancelled the check.
      return error.code === '57014' ? 'database_timeout' : 'database_unavailable';
    },
  );
  try {
    return await Promise.race([check, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
