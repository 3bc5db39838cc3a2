import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyError } from 'fastify';
import type pg from 'pg';
import { AppError, RefusalError, type RefusalCode } from '../errors.ts';
import { withStack, type Logger } from '../log/logger.ts';
import { requestPath } from '../log/mask.ts';
import type { Metrics } from '../metrics.ts';
import { webhookRoutes, type WebhookOptions } from '../webhooks/routes.ts';
import { healthRoutes } from './health.ts';
import { adminRoutes, ADMIN_PREFIX, type AdminOptions } from '../admin/routes.ts';
import { DOCS_UI, OPENAPI } from './api-docs.ts';
import { dashboardRoutes } from '../dashboard/routes.ts';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';

export type App = Awaited<ReturnType<typeof buildApp>>;

declare module 'fastify' {
  interface FastifyRequest {
    /** Fields a handler adds to the request's one log line (never personal data). */
    logFields: Record<string, unknown> | null;
  }
}

export interface AppDeps {
  readonly db: pg.Pool;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Absent for a worker-only process: it serves health and metrics, not the webhook. */
  readonly webhook: Omit<WebhookOptions, 'db' | 'metrics' | 'logger'> | undefined;
  /** Absent: no admin API (a worker-only process). */
  readonly admin?: Omit<AdminOptions, 'db'> | undefined;
  /** Readiness reads through this pool, so probes never take the workers' connections (default `db`). */
  readonly healthDb?: pg.Pool;
  readonly server?: {
    /** Whole-request and idle-connection timeout. */
    readonly requestTimeoutMs: number;
    /** Peers whose X-Forwarded-For is believed (Fastify's trustProxy). */
    readonly trustedProxies: readonly string[];
  };
}

/** Routes whose every call would drown the log; logged at debug. */
const QUIET_ROUTES = new Set(['/health', '/ready', '/metrics']);
const REQUEST_ID = /^[\w.:-]{1,64}$/;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Above the usual 60 s idle timeout of load balancers, so they, not we, close idle connections. */
const KEEP_ALIVE_TIMEOUT_MS = 72_000;

/** The HTTP application, without listen(): tests and main wire it the same way. */
export async function buildApp(deps: AppDeps) {
  const { logger, metrics } = deps;
  const timeoutMs = deps.server?.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const trustedProxies = deps.server?.trustedProxies ?? [];
  const app = Fastify({
    // A client that sends its headers and then trickles or withholds its body holds a socket
    // and a parser: the whole request must arrive within `timeoutMs` (else 408), and a socket
    // silent that long is closed. Node checks the request deadline every
    // `connectionsCheckingInterval` (30 s by default, far too coarse for this).
    requestTimeout: timeoutMs,
    connectionTimeout: timeoutMs,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    http: {
      requestTimeout: timeoutMs,
      headersTimeout: Math.min(60_000, timeoutMs),
      connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(timeoutMs / 4))),
    },
    // X-Forwarded-For is believed only from these peers; anyone else's `request.ip` is its socket.
    trustProxy: trustedProxies.length > 0 ? [...trustedProxies] : false,
    loggerInstance: logger,
    // One line per response (onResponse below) instead of Fastify's, which would log `?token=`.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
  });

  app.decorateRequest('logFields', null);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { route, method: request.method, status: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
    const line = {
      method: request.method,
      // The path only: a query string may carry the secret, in any spelling (`?%74oken=`).
      url: requestPath(request.url),
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      ...request.logFields,
    };
    if (QUIET_ROUTES.has(route) && reply.statusCode < 400) request.log.debug(line, 'request');
    else request.log.info(line, 'request');
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const answer = errorAnswer(error);
    if (answer.status >= 500 && !(error instanceof AppError && error.retryable)) {
      // An unexpected error's text may quote what it failed on: the serializer masks it, stack too.
      request.log.error({ err: withStack(error) }, 'request failed');
    } else if (answer.status >= 500) {
      // Only the stable code: a message is for the client, the log needs no free text.
      request.log.warn({ code: answer.body.error }, 'request refused for now');
    }
    if (answer.status === 503) void reply.header('retry-after', '5');
    return reply.status(answer.status).send(answer.body);
  });

  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({
      error: 'not_found',
      message: `no route ${request.method} ${requestPath(request.url)}`,
    } satisfies ErrorAnswer['body']),
  );

  // First: the document is gathered from the routes registered after it.
  await app.register(swagger, OPENAPI);
  await app.register(swaggerUi, DOCS_UI);
  await app.register(healthRoutes, { db: deps.healthDb ?? deps.db, metrics });
  if (deps.webhook) await app.register(webhookRoutes, { ...deps.webhook, db: deps.db, metrics, logger });
  if (deps.admin) {
    await app.register(adminRoutes, { ...deps.admin, db: deps.db, prefix: ADMIN_PREFIX });
    await app.register(dashboardRoutes);
  }
  return app;
}

interface ErrorAnswer {
  readonly status: number;
  readonly body: { readonly error: RefusalCode; readonly message: string };
}

/**
 * Maps an error to the answer a client gets: stable codes, no internals. Only refusals carry their
 * own code out; any other error (ours included) is an internal error.
 */
function errorAnswer(error: FastifyError): ErrorAnswer {
  if (error instanceof RefusalError) {
    return { status: error.statusCode, body: { error: error.code, message: error.message } };
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        status: 413,
        body: { error: 'payload_too_large', message: 'the request body is over the size limit' },
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        status: 415,
        body: { error: 'unsupported_media_type', message: 'send the events as application/json' },
      };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return {
        status: 400,
        body: { error: 'bad_request', message: 'the content length does not match the body' },
      };
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return { status: error.statusCode, body: { error: 'bad_request', message: error.message } };
  }
  return {
    status: 500,
    body: { error: 'internal_error', message: 'the request failed; it has been logged' },
  };
}
