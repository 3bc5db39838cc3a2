import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { Static } from 'typebox';
import { createTokenVerifier } from '../webhooks/auth.ts';
import { AdminError, AdminInputError } from './errors.ts';
import { eventDetail, failureGroups, leadHistory, listEvents } from './events.ts';
import { parseFilter, type RawFilter } from './filter.ts';
import { replayEvents, reprocessEvent, reprocessRefusal, type RequeueFrom } from './requeue.ts';
import * as schemas from './schemas.ts';
import { readStats } from './stats.ts';

export const ADMIN_PREFIX = '/api/v1/admin';

export interface AdminOptions {
  readonly db: pg.Pool;
  /** The admin token (configured, or generated outside production). */
  readonly token: string;
  /** The workflow's steps in order, for event timelines. */
  readonly stepOrder: readonly string[];
  /** Tells idle workers that events were queued (they poll anyway). */
  readonly wake: () => Promise<void>;
}

const LIST_PARAMETERS = new Set(Object.keys(schemas.ListQuery.properties));
const SECURITY = [{ adminToken: [] }];

/** Refusals as every admin route answers them. */
const errorResponses = {
  400: schemas.AdminErrorBody,
  401: schemas.AdminErrorBody,
  404: schemas.AdminErrorBody,
  409: schemas.AdminErrorBody,
};

/**
 * The admin API under `/api/v1/admin` (register with that prefix): events, one event, reprocess,
 * replay, a lead's history, stats and the OpenAPI document. Every route wants the admin token as
 * a bearer token, compared in constant time.
 */
export async function adminRoutes(app: FastifyInstance, options: AdminOptions) {
  const { db } = options;
  const verify = createTokenVerifier([options.token]);

  app.addHook('onRequest', async (request, reply) => {
    const header = request.headers.authorization;
    const token = typeof header === 'string' && /^bearer /i.test(header) ? header.slice(7).trim() : undefined;
    if (verify(token)) return;
    return reply
      .status(401)
      .send({ error: 'unauthorized', message: 'send the admin token as Authorization: Bearer <token>' });
  });

  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof AdminError)
      return reply.status(error.status).send({ error: error.code, message: error.message });
    throw error; // the application's handler answers the rest
  });

  app.get<{ Querystring: Static<typeof schemas.ListQuery> }>(
    '/events',
    {
      schema: {
        summary: 'Events, newest first, filtered and paged by cursor',
        tags: ['admin'],
        security: SECURITY,
        querystring: schemas.ListQuery,
        response: { 200: schemas.EventPage, ...errorResponses },
      },
    },
    async (request) => {
      refuseUnknownParameters(request);
      const { limit, cursor, ...raw } = request.query;
      return listEvents(db, parseFilter(raw as RawFilter), { limit, cursor });
    },
  );

  app.get<{ Params: Static<typeof schemas.EventParams> }>(
    '/events/:id',
    {
      schema: {
        summary: 'One event: its step timeline, masked payload and note',
        tags: ['admin'],
        security: SECURITY,
        params: schemas.EventParams,
        response: { 200: schemas.EventDetail, ...errorResponses },
      },
    },
    async (request) => {
      const detail = await eventDetail(db, request.params.id, options.stepOrder);
      if (!detail) throw new AdminError('not_found', 404, 'no event has that id');
      return detail;
    },
  );

  app.post<{ Params: Static<typeof schemas.EventParams>; Body: Static<typeof schemas.ReprocessBody> }>(
    '/events/:id/reprocess',
    {
      schema: {
        summary: 'Queue one event again, from the step that failed or from the start',
        tags: ['admin'],
        security: SECURITY,
        params: schemas.EventParams,
        body: schemas.ReprocessBody,
        response: { 202: schemas.Reprocessed, ...errorResponses },
      },
    },
    async (request, reply) => {
      const from = (request.body?.from ?? 'failed_step') as RequeueFrom; // validated by the schema
      const result = await reprocessEvent(db, request.params.id, from);
      if (result !== 'queued') throw reprocessRefusal(result);
      await options.wake();
      return reply.status(202).send({ event_id: request.params.id, status: 'received' });
    },
  );

  app.post<{ Body: Static<typeof schemas.ReplayBody> }>(
    '/replay',
    {
      schema: {
        summary: 'Queue again every event matching a filter (dry_run: count only)',
        tags: ['admin'],
        security: SECURITY,
        body: schemas.ReplayBody,
        response: { 200: schemas.Replayed, ...errorResponses },
      },
    },
    async (request) => {
      const { filter, dry_run: dryRun = false } = request.body;
      const from = (request.body.from ?? 'failed_step') as RequeueFrom; // validated by the schema
      const result = await replayEvents(db, { filter: parseFilter(filter as RawFilter), dryRun, from });
      if (!dryRun && result.scheduled > 0) await options.wake();
      return result;
    },
  );

  app.get<{ Params: Static<typeof schemas.LeadParams> }>(
    '/leads/:lead_id',
    {
      schema: {
        summary: "A lead's events and notes",
        tags: ['admin'],
        security: SECURITY,
        params: schemas.LeadParams,
        response: { 200: schemas.LeadHistory, ...errorResponses },
      },
    },
    async (request) => {
      const history = await leadHistory(db, request.params.lead_id);
      if (history.events.length === 0 && history.notes.length === 0)
        throw new AdminError('not_found', 404, 'no event of that lead was ever received');
      return history;
    },
  );

  app.get(
    '/failures',
    {
      schema: {
        summary: 'Failed events grouped by error code, most frequent first',
        tags: ['admin'],
        security: SECURITY,
        response: { 200: schemas.Failures, 401: schemas.AdminErrorBody },
      },
    },
    async () => ({ failures: await failureGroups(db) }),
  );

  app.get(
    '/stats',
    {
      schema: {
        summary: 'Counts, outcomes, per-minute series, backlog, provider health',
        tags: ['admin'],
        security: SECURITY,
        response: { 200: schemas.Stats, 401: schemas.AdminErrorBody },
      },
    },
    async () => readStats(db),
  );

  app.get(
    '/openapi.json',
    { schema: { summary: 'This document', tags: ['admin'], security: SECURITY } },
    async (_request: FastifyRequest, reply: FastifyReply) => reply.send(app.swagger()),
  );
}

/** A misspelt filter (`?staus=failed`) would silently list everything: refuse it instead. */
function refuseUnknownParameters(request: FastifyRequest): void {
  const given = new URL(request.url, 'http://admin').searchParams;
  for (const name of given.keys()) {
    if (!LIST_PARAMETERS.has(name)) throw new AdminInputError(`unknown parameter: ${name}`);
  }
}
