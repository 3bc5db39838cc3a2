import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import type pg from 'pg';
import type { RefusalCode } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics.ts';
import { createTokenVerifier, presentedToken } from './auth.ts';
import { allowListHook, rateLimitHook } from './inbound.ts';
import { createIngest, type IngestOptions } from './ingest.ts';
import { webhookResponses, type Refusal } from './schemas.ts';

export interface WebhookOptions {
  readonly db: pg.Pool;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly secrets: readonly string[];
  readonly bodyLimitBytes: number;
  readonly maxEventsPerRequest: number;
  readonly maxBacklog: number;
  readonly maxQueuedEvents: number;
  readonly rejectedKeep: number;
  readonly wake: IngestOptions['wake'];
  /** Clients (IPs, CIDR ranges) allowed to call; absent allows everyone. */
  readonly allowedIps?: readonly string[] | undefined;
  /** Requests per client IP per minute; 0 or absent turns the limit off. */
  readonly rateLimitPerMinute?: number;
}

/** Refusals Fastify raises before the handler runs, counted like the handler's own. */
const REFUSED_BY_FASTIFY: ReadonlyMap<string | undefined, RefusalCode> = new Map<string, RefusalCode>([
  ['FST_ERR_CTP_BODY_TOO_LARGE', 'payload_too_large'],
  ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 'unsupported_media_type'],
]);

export const WEBHOOK_PATH = '/api/v1/webhooks/c2s';

/** `POST /api/v1/webhooks/c2s`: authenticate, then hand the raw JSON text to ingest. */
export async function webhookRoutes(app: FastifyInstance, options: WebhookOptions) {
  const verify = createTokenVerifier(options.secrets);
  const ingest = createIngest(options);
  const { metrics } = options;
  const authenticate: onRequestAsyncHookHandler = async (request, reply) => {
    if (verify(presentedToken(request.headers, request.query))) return;
    metrics.webhookRequestsRefused.inc({ reason: 'unauthorized' });
    return reply.status(401).send({ error: 'unauthorized' } satisfies Refusal);
  };
  // In this order, all before the body is read: a stranger is refused without touching the
  // limiter, and the limiter runs ahead of the secret so it also slows down guessing it.
  const onRequest = [
    allowListHook(options.allowedIps, metrics),
    await rateLimitHook(app, options.rateLimitPerMinute ?? 0, metrics),
    authenticate,
  ].filter((hook) => hook !== undefined);

  app.addHook('onError', async (_request, _reply, error) => {
    const reason = REFUSED_BY_FASTIFY.get(error.code);
    if (reason !== undefined) metrics.webhookRequestsRefused.inc({ reason });
  });

  // Scoped to this plugin: the body stays text so ingest can parse it itself, report malformed
  // JSON without echoing it, and keep an excerpt of what was refused.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    /^application\/([\w.+-]+\+)?json\s*(;.*)?$/i,
    { parseAs: 'string' },
    (_req, body, done) => done(null, body),
  );

  app.post(WEBHOOK_PATH, {
    bodyLimit: options.bodyLimitBytes,
    schema: {
      summary: 'Receive C2S lead events: one event or an array (the body is read as JSON text)',
      description:
        'Each event is identified by (lead_id, updated_at) and stored once. Secret in X-Webhook-Token or ?token=.',
      tags: ['webhook'],
      security: [{ webhookToken: [] }],
      response: webhookResponses,
    },
    onRequest,
    handler: async (request, reply) => {
      const answer = await ingest(typeof request.body === 'string' ? request.body : '', request.id);
      if (answer.summary) request.logFields = answer.summary;
      return reply.status(answer.statusCode).send(answer.body);
    },
  });
}
