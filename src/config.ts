import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { ConfigError } from './errors.ts';
import type { RetryPolicy } from './workflow/retry.ts';

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
  };
  readonly workflow: {
    /** Events a worker process runs at once (different leads; one lead runs one at a time). */
    readonly concurrency: number;
    /** A worker that stops renewing its events' lease this long is presumed dead; they run again. */
    readonly leaseSeconds: number;
    /** How long a running step may take to finish after a stop signal. */
    readonly drainTimeoutMs: number;
    readonly retry: RetryPolicy;
  };
  readonly providers: {
    readonly c2s: ProviderSettings & {
      readonly token?: string;
      readonly baseUrl: string;
      readonly gatewayUrl?: string;
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
    readonly note: {
      readonly incomeMultiplier: number;
      readonly maskCpf: boolean;
      readonly includeMother: boolean;
      readonly maxLength: number;
    };
  };
  readonly adminToken: string | undefined;
}

export interface ProviderSettings {
  readonly timeoutMs: number;
  /** Calls per minute through this process's limiter; 0 turns the limiter off. */
  readonly ratePerMinute: number;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

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
  const url = (name: string, fallback?: string, protocols = ['http:', 'https:']): string | undefined => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    try {
      const parsed = new URL(raw);
      if (!protocols.includes(parsed.protocol)) {
        problems.push(`${name} must be a ${protocols.join(' or ')} URL`);
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
    },
    webhook: {
      secrets,
      bodyLimitBytes: integer('WEBHOOK_BODY_LIMIT', 1024 * 1024, 1024, 64 * 1024 * 1024),
      maxEventsPerRequest: integer('WEBHOOK_MAX_EVENTS', 1000, 1, 100000),
      rejectedKeep: integer('REJECTED_EVENTS_KEEP', 10000, 0, 10_000_000),
      maxBacklog: integer('INGEST_MAX_BACKLOG', 100000, 1, 100_000_000),
    },
    workflow: {
      concurrency: integer('WORKER_CONCURRENCY', 8, 1, 256),
      leaseSeconds: integer('WORKER_LEASE_SECONDS', 15, 2, 3600),
      drainTimeoutMs: integer('WORKER_DRAIN_SECONDS', 15, 0, 3600) * 1000,
      retry: {
        baseDelayMs: integer('RETRY_BASE_DELAY_MS', 5000, 1, 3_600_000),
        maxDelayMs: integer('RETRY_MAX_DELAY_MS', 30 * 60_000, 1, 24 * 3_600_000),
        windowMs: integer('RETRY_WINDOW_MINUTES', 12 * 60, 1, 30 * 24 * 60) * 60_000,
        maxAttempts: integer('RETRY_MAX_ATTEMPTS', 60, 1, 10_000),
      },
    },
    providers: {
      c2s: {
        ...provider('C2S', 15_000, 120),
        token: text('C2S_TOKEN'),
        baseUrl: url('C2S_BASE_URL', 'https://api.contact2sale.com') as string,
        gatewayUrl: url('C2S_GATEWAY_URL'),
      },
      diretrix: {
        ...provider('DIRETRIX', 30_000, 120),
        baseUrl: url('DIRETRIX_BASE_URL'),
        user: text('DIRETRIX_USER'),
        pass: text('DIRETRIX_PASS'),
      },
      workApi: {
        ...provider('WORK_API', 30_000, 120),
        token: text('WORK_API'),
        baseUrl: url('WORK_API_BASE_URL', 'https://completa.workbuscas.com') as string,
      },
    },
    enrichment: {
      dossierCacheMs: integer('DOSSIER_CACHE_HOURS', 24, 0, 24 * 365) * 3_600_000,
      contactMatchMs: integer('CONTACT_MATCH_DAYS', 30, 0, 3650) * 86_400_000,
      noteOnNoMatch: flag('NOTE_ON_NO_MATCH', false),
      note: {
        incomeMultiplier: decimal('INCOME_MULTIPLIER', 1.9, 0, 100),
        maskCpf: flag('NOTE_MASK_CPF', false),
        includeMother: flag('NOTE_INCLUDE_MOTHER', true),
        maxLength: integer('NOTE_MAX_LENGTH', 5000, 200, 100_000),
      },
    },
    adminToken: text('ADMIN_TOKEN'),
  };

  required('C2S_TOKEN', config.providers.c2s.token);
  required('DIRETRIX_BASE_URL', config.providers.diretrix.baseUrl);
  required('DIRETRIX_USER', config.providers.diretrix.user);
  required('DIRETRIX_PASS', config.providers.diretrix.pass);
  required('WORK_API', config.providers.workApi.token);

  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (child !== null && typeof child === 'object') deepFreeze(child as object);
  }
  return Object.freeze(value);
}
