import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import { ClientRateLimitedError } from '../errors.ts';
import { createIpMatcher } from '../http/ip-list.ts';
import type { Metrics } from '../metrics.ts';
import type { Refusal } from './schemas.ts';

/**
 * The webhook's inbound protection, run before authentication and before the body is read:
 * who may call it at all, and how often. `request.ip` is the socket's address unless the direct
 * peer is one of TRUSTED_PROXIES (Fastify's `trustProxy`, see buildApp), so a forged
 * `X-Forwarded-For` from anyone else changes nothing.
 */

/** Refuses, with 403, a client outside WEBHOOK_ALLOWED_IPS; undefined when the list is unset. */
export function allowListHook(
  allowedIps: readonly string[] | undefined,
  metrics: Metrics,
): onRequestAsyncHookHandler | undefined {
  if (allowedIps === undefined) return undefined;
  const allowed = createIpMatcher(allowedIps);
  return async (request, reply) => {
    if (allowed(request.ip)) return;
    metrics.webhookRequestsRefused.inc({ reason: 'forbidden' });
    return reply.status(403).send({
      error: 'forbidden',
      message: 'this client address may not call the webhook',
    } satisfies Refusal);
  };
}

/**
 * Per-client-IP limit over a one-minute window (WEBHOOK_RATE_LIMIT_PER_MINUTE); undefined when 0.
 * Checked before the secret, it also slows down guessing the secret. Answers 429 with
 * `Retry-After` (seconds until the window resets).
 */
export async function rateLimitHook(
  app: FastifyInstance,
  perMinute: number,
  metrics: Metrics,
): Promise<onRequestAsyncHookHandler | undefined> {
  if (perMinute === 0) return undefined;
  // Not global: the hook below is placed explicitly, ahead of authentication.
  await app.register(fastifyRateLimit, { global: false });
  const hook: onRequestAsyncHookHandler = app.rateLimit({
    max: perMinute,
    timeWindow: 60_000,
    onExceeded: () => metrics.webhookRequestsRefused.inc({ reason: 'rate_limited' }),
    errorResponseBuilder: (_request, context) =>
      // 429 through the app's error handler: a stable code, like every other refusal.
      new ClientRateLimitedError(
        `over ${context.max} requests a minute from this client; retry in ${context.after}`,
      ),
  });
  return hook;
}
