import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type pg from 'pg';
import { migrationsApplied } from '../db/migrate.ts';
import type { Metrics } from '../metrics.ts';

const READY_TIMEOUT_MS = 2000;

const Health = Type.Object({ status: Type.Literal('ok') });
const Readiness = Type.Object({ status: Type.String(), reason: Type.Optional(Type.String()) });

/** Liveness, readiness and metrics: what orchestrators and Prometheus poll. */
export async function healthRoutes(app: FastifyInstance, options: { db: pg.Pool; metrics: Metrics }) {
  app.get('/health', { schema: { response: { 200: Health } } }, async () => ({ status: 'ok' }));

  app.get('/ready', { schema: { response: { 200: Readiness, 503: Readiness } } }, async (_request, reply) => {
    const reason = await unreadyReason(options.db);
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
    (error: { code?: string }) => (error.code === '42P01' ? 'migrations_pending' : 'database_unavailable'),
  );
  try {
    return await Promise.race([check, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
