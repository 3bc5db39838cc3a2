import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { ConfigError } from './errors.ts';
import { parseIpList } from './http/ip-list.ts';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './workflow/retry.ts';

export type Env = Readonly<Record<string, string | undefined>>;

export interface Config {
  readonly production: boolean;
  readonly dataDir: string;
  readonly log: { readonly level: string };
  readonly http: {
    readonly host: string;
    readonly port: number;
    /** Base URL C2S reaches the service at; only used to print the hook URL. */
    readonly publicUrl: string | undefined;
  };
  readonly database: {
    /** Unset: an embedded PostgreSQL in `dataDir`. */
    readonly url: string | undefined;
    readonly poolMax: number;
    readonly connectTimeoutMs: number;
    /** A statement running longer is cancelled by the server; the client gives up a little later. */
    readonly statementTimeoutMs: number;
  };
  readonly webhook: {
    /** Empty outside production means "generate one and keep it in the data directory". */
    readonly secrets: readonly string[];
    readonly bodyLimitBytes: number;
    readonly maxEventsPerRequest: number;
    /** Invalid events kept for inspection; older ones are trimmed. */
    readonly rejectedKeep: number;
    /** Events waiting to be processed above which the webhook answers 503. */
    readonly maxBacklog: number;
    /** Events waiting in this process for the next group commit, above which requests get 503. */
    readonly maxQueuedEvents: number;
    /** Clients (IPs, CIDR ranges) the webhook serves; undefined serves everyone. */
    readonly allowedIps: readonly string[] | undefined;
    /** Direct peers whose `X-Forwarded-For` names the client; empty trusts no one. */
    readonly trustedProxies: readonly string[];
    /** Webhook requests per client IP per minute; 0 turns the limit off. */
    readonly rateLimitPerMinute: number;
    /** A request must arrive whole within this; an idle connection is closed after it too. */
    readonly requestTimeoutMs: number;
  };
  readonly workflow: {
    /** Events a worker process runs at once (different leads; one lead runs one at a time). */
    readonly concurrency: number;
    /** A worker that stops renewing its events' lease this long is presumed dead; they run again. */
    readonly leaseSeconds: number;
    /** How long a running step may take to finish after a stop signal. */
    readonly drainTimeoutMs: number;
    /** Added to the C2S timeout and the lease: how long another attempt's note claim counts as in flight. */
    readonly noteClaimMarginMs: number;
    /** After a post whose outcome is unknown, how long before the lead is read to find out. */
    readonly noteUnknownWaitMs: number;
    readonly retry: RetryPolicy;
  };
  readonly providers: {
    /** No provider credentials at all (outside production): the three built-in simulators. */
    readonly demo: boolean;
    readonly c2s: ProviderSettings & {
      readonly token?: string;
      readonly baseUrl: string;
      readonly gatewayUrl?: string;
      /** Read the lead from C2S and use its contacts, not the payload's (a leaked hook URL cannot spend lookups). */
      readonly verifyLead: boolean;
      /** Listing calls per minute (C2S allows about 10, then 429 for about 65 s); 0 turns pacing off. */
      readonly listRatePerMinute: number;
      /** How long to wait after a listing 429 that carries no Retry-After. */
      readonly listPenaltyMs: number;
    };
    readonly diretrix: ProviderSettings & {
      readonly baseUrl?: string;
      readonly user?: string;
      readonly pass?: string;
    };
    readonly workApi: ProviderSettings & { readonly token?: string; readonly baseUrl: string };
  };
  readonly enrichment: {
    /** A person's dossier is reused for this long instead of asking the Work API again. */
    readonly dossierCacheMs: number;
    /** Our own records answer "whose phone/e-mail is this" for this long after an enrichment. */
    readonly contactMatchMs: number;
    /** Post a short note when no CPF is found. */
    readonly noteOnNoMatch: boolean;
    /** DRY_RUN: run everything but the post; keep each note in the ledger (state `dry_run`). */
    readonly dryRun: boolean;
    readonly note: {
      readonly incomeMultiplier: number;
      readonly maskCpf: boolean;
      readonly includeMother: boolean;
      readonly maxLength: number;
    };
  };
  readonly retention: {
    /** Finished events lose their raw payload and step outputs, rejected input goes, after this. */
    readonly eventDays: number;
    /** A person not found for any lead (nor updated) for this long is deleted. */
    readonly peopleDays: number;
  };
  /** Reconciliation of missed webhooks: C2S's lead listing, compared with the events stored. */
  readonly reconcile: {
    /** How often the service reconciles; 0 turns the schedule off (the command still works). */
    readonly intervalMs: number;
    /** The first run's window reaches this far back; later runs start where the last succeeded one ended. */
    readonly lookbackMs: number;
  };
  readonly adminToken: string | undefined;
  /** The key of the suppression list's hashes (`erase --suppress`); generated outside production. */
  readonly suppressionSecret: string | undefined;
}

export interface ProviderSettings {
  readonly timeoutMs: number;
  /** Calls per minute through this process's limiter; 0 turns the limiter off. */
  readonly ratePerMinute: number;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Every provider credential. All or none: a real CRM must never receive a note built from the
 * simulators' synthetic people, which is what a C2S token without the others would do.
 */
const PROVIDER_CREDENTIALS = [
  'C2S_TOKEN',
  'DIRETRIX_BASE_URL',
  'DIRETRIX_USER',
  'DIRETRIX_PASS',
  'WORK_API',
] as const;

/** The data directory (embedded database, generated secret), for commands that need only it. */
export function dataDirOf(env: Env): string {
  return resolve(env.DATA_DIR?.trim() || './data');
}

/** Reads `.env` in `dir` (if any) under the real environment: variables already set win. */
export function environmentWithDotenv(env: Env = process.env, dir = process.cwd()): Env {
  const file = resolve(dir, '.env');
  if (!existsSync(file)) return env;
  return { ...parseEnv(readFileSync(file, 'utf8')), ...env };
}

/**
 * Turns the environment into one validated, frozen configuration. Every problem is collected
 * so an operator fixes them all in one go instead of one restart per mistake.
 */
export function loadConfig(env: Env): Config {
  const problems: string[] = [];
  const production = env.NODE_ENV === 'production';
  const text = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  };
  const url = (
    name: string,
    fallback?: string,
    protocols = ['http:', 'https:'],
    why = '',
  ): string | undefined => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    try {
      const parsed = new URL(raw);
      if (!protocols.includes(parsed.protocol)) {
        problems.push(`${name} must be a ${protocols.join(' or ')} URL${why}`);
      }
    } catch {
      // The value may carry credentials: name the variable, never echo it.
      problems.push(`${name} is not a valid URL`);
    }
    return raw.replace(/\/+$/, '');
  };
  const flag = (name: string, fallback: boolean): boolean => {
    const raw = text(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['true', '1', 'yes', 'on'].includes(raw)) return true;
    if (['false', '0', 'no', 'off'].includes(raw)) return false;
    problems.push(`${name} must be true or false (got "${raw}")`);
    return fallback;
  };
  const decimal = (name: string, fallback: number, min: number, max: number): number => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const value = Number(raw.replace(',', '.'));
    if (!Number.isFinite(value) || value < min || value > max) {
      problems.push(`${name} must be a number from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  };
  const provider = (prefix: string, timeoutMs: number, ratePerMinute: number): ProviderSettings => ({
    timeoutMs: integer(`${prefix}_TIMEOUT_MS`, timeoutMs, 100, 300_000),
    ratePerMinute: integer(`${prefix}_RATE_PER_MINUTE`, ratePerMinute, 0, 1_000_000),
  });
  const required = (name: string, value: unknown): void => {
    if (production && value === undefined) problems.push(`${name} is required when NODE_ENV=production`);
  };
  // Tokens and personal data travel to the providers: never in clear text in production.
  const providerUrl = (name: string, fallback?: string) =>
    production ? url(name, fallback, ['https:'], ' when NODE_ENV=production') : url(name, fallback);
  const ipList = (name: string): readonly string[] | undefined => {
    const raw = text(name);
    if (raw === undefined) return undefined;
    const { entries, invalid } = parseIpList(raw);
    if (invalid.length > 0) {
      problems.push(`${name} must list IP addresses or CIDR ranges (not: ${invalid.join(', ')})`);
    } else if (entries.length === 0) problems.push(`${name} lists no address`);
    return entries;
  };

  const dbUrl =
    url('DB_URL', undefined, ['postgres:', 'postgresql:']) ??
    url('DATABASE_URL', undefined, ['postgres:', 'postgresql:']);
  required('DB_URL (or DATABASE_URL)', dbUrl);

  const secrets = (text('WEBHOOK_SECRET') ?? '')
    .split(',')
    .map((secret) => secret.trim())
    .filter((secret) => secret !== '');
  if (production && secrets.length === 0)
    problems.push('WEBHOOK_SECRET is required when NODE_ENV=production');
  if (production && secrets.some((secret) => secret.length < 16)) {
    problems.push('WEBHOOK_SECRET: each secret must be at least 16 characters in production');
  }

  const level = text('LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(level)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  const missingCredentials = PROVIDER_CREDENTIALS.filter((name) => text(name) === undefined);
  const demo = !production && missingCredentials.length === PROVIDER_CREDENTIALS.length;

  const config: Config = {
    production,
    dataDir: resolve(text('DATA_DIR') ?? './data'),
    log: { level },
    http: {
      host: text('HOST') ?? '0.0.0.0',
      port: integer('PORT', 8080, 0, 65535),
      publicUrl: url('PUBLIC_URL'),
    },
    database: {
      url: dbUrl,
      poolMax: integer('DB_POOL_MAX', 10, 1, 500),
      connectTimeoutMs: integer('DB_CONNECT_TIMEOUT_MS', 3000, 100, 60000),
      statementTimeoutMs: integer('DB_STATEMENT_TIMEOUT_MS', 30_000, 100, 3_600_000),
    },
    webhook: {
      secrets,
      bodyLimitBytes: integer('WEBHOOK_BODY_LIMIT', 1024 * 1024, 1024, 64 * 1024 * 1024),
      maxEventsPerRequest: integer('WEBHOOK_MAX_EVENTS', 1000, 1, 100000),
      rejectedKeep: integer('REJECTED_EVENTS_KEEP', 10000, 0, 10_000_000),
      maxBacklog: integer('INGEST_MAX_BACKLOG', 100000, 1, 100_000_000),
      maxQueuedEvents: integer('INGEST_MAX_QUEUED_EVENTS', 20_000, 1, 10_000_000),
      allowedIps: ipList('WEBHOOK_ALLOWED_IPS'),
      trustedProxies: ipList('TRUSTED_PROXIES') ?? [],
      rateLimitPerMinute: integer('WEBHOOK_RATE_LIMIT_PER_MINUTE', 6000, 0, 10_000_000),
      requestTimeoutMs: integer('HTTP_REQUEST_TIMEOUT_MS', 30_000, 100, 600_000),
    },
    workflow: {
      concurrency: integer('WORKER_CONCURRENCY', 8, 1, 256),
      leaseSeconds: integer('WORKER_LEASE_SECONDS', 15, 2, 3600),
      drainTimeoutMs: integer('WORKER_DRAIN_SECONDS', 15, 0, 3600) * 1000,
      noteClaimMarginMs: integer('NOTE_CLAIM_MARGIN_SECONDS', 15, 0, 3600) * 1000,
      noteUnknownWaitMs: integer('NOTE_UNKNOWN_WAIT_SECONDS', 60, 0, 86_400) * 1000,
      retry: {
        baseDelayMs: integer('RETRY_BASE_DELAY_MS', DEFAULT_RETRY_POLICY.baseDelayMs, 1, 3_600_000),
        maxDelayMs: integer('RETRY_MAX_DELAY_MS', DEFAULT_RETRY_POLICY.maxDelayMs, 1, 24 * 3_600_000),
        windowMs:
          integer('RETRY_WINDOW_MINUTES', DEFAULT_RETRY_POLICY.windowMs / 60_000, 1, 30 * 24 * 60) * 60_000,
        maxAttempts: integer('RETRY_MAX_ATTEMPTS', DEFAULT_RETRY_POLICY.maxAttempts, 1, 10_000),
      },
    },
    providers: {
      demo,
      c2s: {
        ...provider('C2S', 15_000, 120),
        token: text('C2S_TOKEN'),
        baseUrl: providerUrl('C2S_BASE_URL', 'https://api.contact2sale.com') as string,
        gatewayUrl: providerUrl('C2S_GATEWAY_URL'),
        verifyLead: flag('C2S_VERIFY_LEAD', false),
        // 9, not 10: one call of slack under the documented limit, for clocks and network jitter.
        listRatePerMinute: integer('C2S_LIST_RATE_PER_MINUTE', 9, 0, 60_000),
        listPenaltyMs: integer('C2S_LIST_PENALTY_SECONDS', 65, 1, 3600) * 1000,
      },
      diretrix: {
        ...provider('DIRETRIX', 30_000, 120),
        baseUrl: providerUrl('DIRETRIX_BASE_URL'),
        user: text('DIRETRIX_USER'),
        pass: text('DIRETRIX_PASS'),
      },
      workApi: {
        ...provider('WORK_API', 30_000, 120),
        token: text('WORK_API'),
        baseUrl: providerUrl('WORK_API_BASE_URL', 'https://completa.workbuscas.com') as string,
      },
    },
    enrichment: {
      dossierCacheMs: integer('DOSSIER_CACHE_HOURS', 24, 0, 24 * 365) * 3_600_000,
      contactMatchMs: integer('CONTACT_MATCH_DAYS', 30, 0, 3650) * 86_400_000,
      noteOnNoMatch: flag('NOTE_ON_NO_MATCH', false),
      dryRun: flag('DRY_RUN', false),
      note: {
        incomeMultiplier: decimal('INCOME_MULTIPLIER', 1.9, 0, 100),
        maskCpf: flag('NOTE_MASK_CPF', false),
        includeMother: flag('NOTE_INCLUDE_MOTHER', true),
        maxLength: integer('NOTE_MAX_LENGTH', 5000, 200, 100_000),
      },
    },
    retention: {
      eventDays: integer('RETENTION_DAYS', 30, 1, 3650),
      peopleDays: integer('PEOPLE_RETENTION_DAYS', 365, 1, 36_500),
    },
    reconcile: {
      intervalMs: integer('RECONCILE_INTERVAL_MINUTES', 15, 0, 1440) * 60_000,
      lookbackMs: integer('RECONCILE_LOOKBACK_HOURS', 24, 1, 720) * 3_600_000,
    },
    adminToken: text('ADMIN_TOKEN'),
    suppressionSecret: text('SUPPRESSION_SECRET'),
  };

  const adminToken = text('ADMIN_TOKEN');
  if (production && adminToken === undefined)
    problems.push('ADMIN_TOKEN is required when NODE_ENV=production');
  if (production && adminToken !== undefined && adminToken.length < 16)
    problems.push('ADMIN_TOKEN must be at least 16 characters in production');

  const suppressionSecret = text('SUPPRESSION_SECRET');
  if (suppressionSecret !== undefined && suppressionSecret.length < 16)
    problems.push('SUPPRESSION_SECRET must be at least 16 characters');

  if (production) for (const name of missingCredentials) required(name, undefined);
  else if (missingCredentials.length > 0 && !demo) {
    problems.push(
      `provider credentials must be set all together, or none of them for demo mode; missing: ${missingCredentials.join(', ')}`,
    );
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (child !== null && typeof child === 'object') deepFreeze(child as object);
  }
  return Object.freeze(value);
}
