import type { TestContext } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log/logger.ts';
import { startService as startRealService, type Role, type WorkflowDeps } from '../../src/service.ts';
import type { Step } from '../../src/workflow/runner.ts';
import { WEBHOOK_PATH } from '../../src/webhooks/routes.ts';
import { ENRICHMENT_STEP_ORDER } from '../../src/enrichment/workflow.ts';
import { defer } from './cleanup.ts';
import { freshDatabase, type TestDatabase } from './database.ts';

export const SECRET = 'test-secret-do-not-use-0123456789';
export const ADMIN_TOKEN = 'test-admin-token-do-not-use-0123';
export const SUPPRESSION_SECRET = 'test-suppression-key-do-not-use-0123';

/**
 * A full set of fake provider credentials: the service refuses a partial set, and with none it
 * would start the simulators. Every URL is a closed local port, so a test that does not point a
 * provider at its own simulator can never reach a real one.
 */
export const FAKE_PROVIDERS: Readonly<Record<string, string>> = {
  C2S_TOKEN: 'fake-c2s-token',
  C2S_BASE_URL: 'http://127.0.0.1:9',
  DIRETRIX_BASE_URL: 'http://127.0.0.1:9',
  DIRETRIX_USER: 'fake-user',
  DIRETRIX_PASS: 'fake-pass',
  WORK_API: 'fake-work-token',
  WORK_API_BASE_URL: 'http://127.0.0.1:9',
};

export interface TestService {
  readonly url: string;
  readonly db: TestDatabase;
  /** Every log line the service wrote, as JSON text. */
  readonly logs: string[];
  post(body: unknown, options?: PostOptions): Promise<Answer>;
  stop(): Promise<void>;
}

export interface PostOptions {
  readonly token?: string | null;
  readonly via?: 'header' | 'query';
  readonly contentType?: string | null;
  /** Send this text as the body instead of JSON-encoding `body`. */
  readonly raw?: string;
}

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  /** The JSON answer, whose shape is what the test asserts. */
  readonly body: any;
}

export interface StartOptions {
  /** Overrides configuration as the environment would. */
  readonly env?: Record<string, string>;
  /** Use this database instead of a fresh one (not dropped at the end). */
  readonly db?: TestDatabase;
  /** `api` (default) stores and queues; `all` and `worker` also run `workflow`. */
  readonly role?: Role;
  readonly workflow?: (deps: WorkflowDeps) => readonly Step[];
  /** The retention job's timing (hourly, first run a minute after start, by default). */
  readonly retentionTiming?: { readonly intervalMs?: number; readonly firstRunMs?: number };
  /**
   * Reconciliation's timing. Off unless the test's env sets RECONCILE_INTERVAL_MINUTES (then
   * every that many minutes, first run a minute after start, unless given here).
   */
  readonly reconcileTiming?: {
    readonly intervalMs?: number;
    readonly firstRunMs?: number;
    readonly overlapMs?: number;
  };
}

/**
 * The real service (src/service.ts) on 127.0.0.1:0 over a fresh database of its own; stopped
 * when the test ends.
 */
export async function startService(t: TestContext, options: StartOptions = {}): Promise<TestService> {
  const database = options.db ?? (await freshDatabase(t));
  const logs: string[] = [];
  const logger = createLogger('debug', { write: (line: string) => void logs.push(line) });
  const config = loadConfig({
    WEBHOOK_SECRET: SECRET,
    DB_URL: database.url,
    HOST: '127.0.0.1',
    PORT: '0',
    ADMIN_TOKEN,
    SUPPRESSION_SECRET,
    ...FAKE_PROVIDERS,
    // Reconciliation lists C2S and stores what it finds: only in the tests that want it.
    RECONCILE_INTERVAL_MINUTES: '0',
    ...options.env,
  });
  const service = await startRealService(config, logger, {
    role: options.role ?? 'api',
    secrets: config.webhook.secrets,
    workflow: options.workflow ?? (() => []),
    adminToken: config.adminToken,
    suppressionKey: config.suppressionSecret,
    stepOrder: ENRICHMENT_STEP_ORDER,
    retentionTiming: options.retentionTiming,
    reconcileTiming: options.reconcileTiming,
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await service.stop();
  };
  defer(t, stop);
  const url = service.address;
  return { url, db: database, logs, stop, post: (body, postOptions) => postWebhook(url, body, postOptions) };
}

export async function postWebhook(
  baseUrl: string,
  body: unknown,
  options: PostOptions = {},
): Promise<Answer> {
  const token = options.token === undefined ? SECRET : options.token;
  const via = options.via ?? 'header';
  const headers: Record<string, string> = {};
  const contentType = options.contentType === undefined ? 'application/json' : options.contentType;
  if (contentType !== null) headers['content-type'] = contentType;
  if (token !== null && via === 'header') headers['x-webhook-token'] = token;
  const query = token !== null && via === 'query' ? `?token=${encodeURIComponent(token)}` : '';
  const response = await fetch(`${baseUrl}${WEBHOOK_PATH}${query}`, {
    method: 'POST',
    headers,
    body: options.raw ?? JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** A C2S-like event in envelope A (the default shape), with a customer carrying personal data. */
export function leadEvent(leadId: string, updatedAt: string, extra: Record<string, unknown> = {}) {
  return {
    id: leadId,
    hook_action: 'on_create_lead',
    attributes: {
      description: 'Apartamento 3 quartos - Vila Mariana',
      customer: { name: 'Ana Souza Lima', email: 'ana.lima@example.com', phone: '5511987654321' },
      created_at: updatedAt,
      updated_at: updatedAt,
      ...extra,
    },
  };
}

export async function eventRows(db: TestDatabase, leadId?: string) {
  const { rows } = await db.pool.query<{
    id: string;
    lead_id: string;
    updated_at: Date;
    hook_action: string | null;
    status: string;
    payload_raw: unknown;
  }>(
    `SELECT id, lead_id, updated_at, hook_action, status, payload_raw FROM webhook_events
     WHERE $1::text IS NULL OR lead_id = $1 ORDER BY lead_id, updated_at`,
    [leadId ?? null],
  );
  return rows;
}

/** One admin API call with the test token; answers the status and the parsed body. */
export async function adminRequest(url: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${url}/api/v1/admin${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}
