import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics.ts';
import { createTokenVerifier, presentedToken } from './auth.ts';
import { createIngest, type IngestOptions } from './ingest.ts';
import { webhookResponses } from './schemas.ts';

export interface WebhookOptions {
  readonly db: pg.Pool;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly secrets: readonly string[];
  readonly bodyLimitBytes: number;
  readonly maxEventsPerRequest: number;
  readonly maxBacklog: number;
  readonly rejectedKeep: number;
  readonly wake: IngestOptions['wake'];
}

export const WEBHOOK_PATH = '/api/v1/webhooks/c2s';

/** `POST /api/v1/webhooks/c2s`: authenticate, then hand the raw JSON text to ingest. */
export async function webhookRoutes(app: FastifyInstance, options: WebhookOptions) {
  const verify = createTokenVerifier(options.secrets);
  const ingest = createIngest(options);

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
    schema: { response: webhookResponses },
    // Before the body is read: a caller without the secret costs us no parsing.
    onRequest: async (request, reply) => {
      if (verify(presentedToken(request.headers, request.query))) return;
      options.metrics.webhookRequestsRefused.inc({ reason: 'unauthorized' });
      return reply.status(401).send({ error: 'unauthorized' });
    },
    handler: async (request, reply) => {
      const answer = await ingest(typeof request.body === 'string' ? request.body : '', request.id);
      if (answer.summary) request.logFields = answer.summary;
      return reply.status(answer.statusCode).send(answer.body);
    },
  });
}
