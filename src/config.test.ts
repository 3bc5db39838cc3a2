import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { dataDirOf, environmentWithDotenv, loadConfig, type Env } from './config.ts';
import { ConfigError } from './errors.ts';
import { DEFAULT_RETRY_POLICY } from './workflow/retry.ts';

const PRODUCTION: Env = {
  NODE_ENV: 'production',
  WEBHOOK_SECRET: 'production-secret-0123456789',
  DB_URL: 'postgres://c2s:pw@db.internal:5432/c2s',
  C2S_TOKEN: 'c2s-token',
  DIRETRIX_BASE_URL: 'https://diretrix.example.com',
  DIRETRIX_USER: 'user',
  DIRETRIX_PASS: 'pass',
  WORK_API: 'work-token',
  ADMIN_TOKEN: 'production-admin-token-0123456789',
};

function configError(env: Env): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.equal(error.code, 'config_invalid');
    return error;
  }
  assert.fail('expected loadConfig to throw');
}

function assertDeepFrozen(value: object, path = 'config'): void {
  assert.ok(Object.isFrozen(value), `${path} is not frozen`);
  for (const [key, child] of Object.entries(value)) {
    if (child !== null && typeof child === 'object') assertDeepFrozen(child as object, `${path}.${key}`);
  }
}

test('an empty environment gives the documented defaults', () => {
  const config = loadConfig({});
  assert.equal(config.production, false);
  assert.equal(config.http.port, 8080);
  assert.equal(config.http.host, '0.0.0.0');
  assert.equal(config.dataDir, resolve('./data'));
  assert.equal(config.webhook.bodyLimitBytes, 1024 * 1024);
  assert.deepEqual(config.webhook.secrets, []);
  assert.equal(config.database.url, undefined);
  assert.equal(config.log.level, 'info');
  assert.equal(config.providers.c2s.baseUrl, 'https://api.contact2sale.com');
  assert.equal(config.providers.workApi.baseUrl, 'https://completa.workbuscas.com');
});

test('the retry settings default to the retry policy whose schedule retry.test.ts checks', () => {
  // What production runs is the configuration's policy: the default policy, unless set.
  assert.deepEqual(loadConfig({}).workflow.retry, DEFAULT_RETRY_POLICY);
  assert.deepEqual(loadConfig({}).workflow.retry, {
    baseDelayMs: 5000,
    maxDelayMs: 30 * 60_000,
    windowMs: 12 * 3_600_000,
    maxAttempts: 60,
  });
  assert.deepEqual(
    loadConfig({ RETRY_BASE_DELAY_MS: '100', RETRY_WINDOW_MINUTES: '5', RETRY_MAX_ATTEMPTS: '3' }).workflow
      .retry,
    { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, windowMs: 300_000, maxAttempts: 3 },
  );
});

test('DATA_DIR is resolved to an absolute path', () => {
  assert.equal(loadConfig({ DATA_DIR: 'var/c2s' }).dataDir, resolve('var/c2s'));
});

test('WEBHOOK_SECRET is a comma-separated list, trimmed, without empty entries', () => {
  assert.deepEqual(loadConfig({ WEBHOOK_SECRET: 'a, b ,,c' }).webhook.secrets, ['a', 'b', 'c']);
  assert.deepEqual(loadConfig({ WEBHOOK_SECRET: ' , ' }).webhook.secrets, []);
});

test('DATABASE_URL is used when DB_URL is absent, and DB_URL wins when both are set', () => {
  assert.equal(loadConfig({ DATABASE_URL: 'postgresql://h/db' }).database.url, 'postgresql://h/db');
  assert.equal(
    loadConfig({ DB_URL: 'postgres://h/one', DATABASE_URL: 'postgres://h/two' }).database.url,
    'postgres://h/one',
  );
  assert.equal(
    loadConfig({ DB_URL: '  ', DATABASE_URL: 'postgres://h/two' }).database.url,
    'postgres://h/two',
  );
});

test('every problem is reported together in one ConfigError', () => {
  const error = configError({ PORT: 'eighty', LOG_LEVEL: 'loud', DB_URL: 'mysql://root:hunter2@db/app' });
  assert.equal(error.problems.length, 3, error.problems.join('\n'));
  assert.ok(
    error.problems.some((problem) => problem.startsWith('PORT must be a whole number from 0 to 65535')),
  );
  assert.ok(error.problems.some((problem) => problem.startsWith('LOG_LEVEL must be one of')));
  assert.ok(error.problems.includes('DB_URL must be a postgres: or postgresql: URL'));
  for (const problem of error.problems) assert.ok(error.message.includes(problem));
  assert.ok(!error.message.includes('hunter2'), 'a database password must not be echoed');
});

test('out-of-range and non-integer numbers are refused', () => {
  for (const PORT of ['65536', '-1', '80.5', '1e3', '0x50']) {
    const error = configError({ PORT });
    assert.equal(error.problems.length, 1, PORT);
    assert.match(error.problems[0]!, /^PORT must be a whole number/);
  }
  assert.equal(loadConfig({ PORT: ' 3000 ' }).http.port, 3000);
});

test('a URL that does not parse is reported without its value', () => {
  const error = configError({ DB_URL: 'not a url with secret-pw' });
  assert.deepEqual(error.problems, ['DB_URL is not a valid URL']);
  assert.ok(!error.message.includes('secret-pw'));
});

test('production with nothing set lists every missing setting', () => {
  const error = configError({ NODE_ENV: 'production' });
  assert.deepEqual([...error.problems].sort(), [
    'ADMIN_TOKEN is required when NODE_ENV=production',
    'C2S_TOKEN is required when NODE_ENV=production',
    'DB_URL (or DATABASE_URL) is required when NODE_ENV=production',
    'DIRETRIX_BASE_URL is required when NODE_ENV=production',
    'DIRETRIX_PASS is required when NODE_ENV=production',
    'DIRETRIX_USER is required when NODE_ENV=production',
    'WEBHOOK_SECRET is required when NODE_ENV=production',
    'WORK_API is required when NODE_ENV=production',
  ]);
});

test('production refuses a short webhook secret, even among long ones', () => {
  const error = configError({ ...PRODUCTION, WEBHOOK_SECRET: 'production-secret-0123456789,short' });
  assert.deepEqual(error.problems, [
    'WEBHOOK_SECRET: each secret must be at least 16 characters in production',
  ]);
  assert.ok(!error.message.includes('production-secret-0123456789'), 'secrets must not be echoed');
});

test('a complete production environment loads', () => {
  const config = loadConfig(PRODUCTION);
  assert.equal(config.production, true);
  assert.deepEqual(config.webhook.secrets, ['production-secret-0123456789']);
  assert.equal(config.providers.workApi.token, 'work-token');
});

test('production refuses provider URLs that are not https:, naming each variable', () => {
  const error = configError({
    ...PRODUCTION,
    C2S_BASE_URL: 'http://api.contact2sale.com',
    C2S_GATEWAY_URL: 'http://gateway.example.com',
    DIRETRIX_BASE_URL: 'http://diretrix.example.com',
    WORK_API_BASE_URL: 'ftp://completa.workbuscas.com',
  });
  assert.deepEqual(error.problems, [
    'C2S_BASE_URL must be a https: URL when NODE_ENV=production',
    'C2S_GATEWAY_URL must be a https: URL when NODE_ENV=production',
    'DIRETRIX_BASE_URL must be a https: URL when NODE_ENV=production',
    'WORK_API_BASE_URL must be a https: URL when NODE_ENV=production',
  ]);
  const config = loadConfig({ ...PRODUCTION, C2S_GATEWAY_URL: 'https://gateway.example.com' });
  assert.equal(config.providers.c2s.gatewayUrl, 'https://gateway.example.com');
  // Outside production a local simulator over http: is fine.
  const local = loadConfig({ ...PRODUCTION, NODE_ENV: 'test', C2S_BASE_URL: 'http://127.0.0.1:4010' });
  assert.equal(local.providers.c2s.baseUrl, 'http://127.0.0.1:4010');
});

test('without any provider credential, outside production, the providers are the simulators', () => {
  assert.equal(loadConfig({}).providers.demo, true);
  assert.equal(
    loadConfig({ NODE_ENV: 'development', C2S_BASE_URL: 'http://127.0.0.1:1' }).providers.demo,
    true,
  );
  const { NODE_ENV: _production, ...complete } = PRODUCTION;
  assert.equal(loadConfig(complete).providers.demo, false);
  assert.equal(loadConfig(PRODUCTION).providers.demo, false);
});

test('partial provider credentials are refused in every environment, naming what is missing', () => {
  const all: Env = {
    C2S_TOKEN: 'c2s-token',
    DIRETRIX_BASE_URL: 'https://diretrix.example.com',
    DIRETRIX_USER: 'user',
    DIRETRIX_PASS: 'pass',
    WORK_API: 'work-token',
  };
  const without = (...names: string[]): Env =>
    Object.fromEntries(Object.entries(all).filter(([name]) => !names.includes(name)));
  const cases: Array<[Env, string]> = [
    // The case that posted notes built from simulated people to a real CRM.
    [{ C2S_TOKEN: 'c2s-token' }, 'DIRETRIX_BASE_URL, DIRETRIX_USER, DIRETRIX_PASS, WORK_API'],
    [without('WORK_API'), 'WORK_API'],
    [
      without('DIRETRIX_BASE_URL', 'DIRETRIX_USER', 'DIRETRIX_PASS'),
      'DIRETRIX_BASE_URL, DIRETRIX_USER, DIRETRIX_PASS',
    ],
    [without('DIRETRIX_PASS'), 'DIRETRIX_PASS'],
    [without('DIRETRIX_BASE_URL'), 'DIRETRIX_BASE_URL'],
    [without('C2S_TOKEN'), 'C2S_TOKEN'],
    [{ WORK_API: 'work-token' }, 'C2S_TOKEN, DIRETRIX_BASE_URL, DIRETRIX_USER, DIRETRIX_PASS'],
    [{ DIRETRIX_USER: 'user' }, 'C2S_TOKEN, DIRETRIX_BASE_URL, DIRETRIX_PASS, WORK_API'],
  ];
  for (const [env, missing] of cases) {
    for (const NODE_ENV of [undefined, 'development', 'test']) {
      const error = configError({ ...env, ...(NODE_ENV ? { NODE_ENV } : {}) });
      assert.deepEqual(
        error.problems,
        [`provider credentials must be set all together, or none of them for demo mode; missing: ${missing}`],
        `${Object.keys(env).join('+')} (${String(NODE_ENV)})`,
      );
    }
  }
  // In production each missing one is named as required.
  const error = configError({ ...PRODUCTION, WORK_API: '', DIRETRIX_PASS: ' ' });
  assert.deepEqual(error.problems, [
    'DIRETRIX_PASS is required when NODE_ENV=production',
    'WORK_API is required when NODE_ENV=production',
  ]);
});

test('WEBHOOK_ALLOWED_IPS and TRUSTED_PROXIES are lists of IPs and CIDR ranges', () => {
  const config = loadConfig({
    WEBHOOK_ALLOWED_IPS: '203.0.113.0/24, 2001:db8::1',
    TRUSTED_PROXIES: '10.0.0.0/8,::1',
  });
  assert.deepEqual(config.webhook.allowedIps, ['203.0.113.0/24', '2001:db8::1']);
  assert.deepEqual(config.webhook.trustedProxies, ['10.0.0.0/8', '::1']);
  assert.equal(loadConfig({}).webhook.allowedIps, undefined);
  assert.deepEqual(loadConfig({}).webhook.trustedProxies, []);

  const error = configError({
    WEBHOOK_ALLOWED_IPS: '203.0.113.0/24, 203.0.113.0/40, c2s.example.com',
    TRUSTED_PROXIES: '10.0.0.1, 10.0.0',
  });
  assert.deepEqual(error.problems, [
    'WEBHOOK_ALLOWED_IPS must list IP addresses or CIDR ranges (not: 203.0.113.0/40, c2s.example.com)',
    'TRUSTED_PROXIES must list IP addresses or CIDR ranges (not: 10.0.0)',
  ]);
  assert.deepEqual(configError({ WEBHOOK_ALLOWED_IPS: ' , ' }).problems, [
    'WEBHOOK_ALLOWED_IPS lists no address',
  ]);
});

test('the webhook rate limit defaults to 6000 a minute, 0 turns it off; the request timeout to 30 s', () => {
  const defaults = loadConfig({});
  assert.equal(defaults.webhook.rateLimitPerMinute, 6000);
  assert.equal(defaults.webhook.requestTimeoutMs, 30_000);
  assert.equal(loadConfig({ WEBHOOK_RATE_LIMIT_PER_MINUTE: '0' }).webhook.rateLimitPerMinute, 0);
  assert.equal(loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '5000' }).webhook.requestTimeoutMs, 5000);
  const error = configError({ WEBHOOK_RATE_LIMIT_PER_MINUTE: '-5', HTTP_REQUEST_TIMEOUT_MS: '0' });
  assert.deepEqual(error.problems, [
    'WEBHOOK_RATE_LIMIT_PER_MINUTE must be a whole number from 0 to 10000000 (got "-5")',
    'HTTP_REQUEST_TIMEOUT_MS must be a whole number from 100 to 600000 (got "0")',
  ]);
});

test('reconciliation runs every 15 minutes looking back 24 hours at first; 0 turns the schedule off', () => {
  const defaults = loadConfig({});
  assert.deepEqual(defaults.reconcile, { intervalMs: 15 * 60_000, lookbackMs: 24 * 3_600_000 });
  assert.deepEqual(
    loadConfig({ RECONCILE_INTERVAL_MINUTES: '0', RECONCILE_LOOKBACK_HOURS: '72' }).reconcile,
    {
      intervalMs: 0,
      lookbackMs: 72 * 3_600_000,
    },
  );
  const error = configError({
    RECONCILE_INTERVAL_MINUTES: '1441',
    RECONCILE_LOOKBACK_HOURS: '0',
    C2S_LIST_RATE_PER_MINUTE: 'ten',
    C2S_LIST_PENALTY_SECONDS: '0',
  });
  assert.deepEqual(error.problems, [
    'C2S_LIST_RATE_PER_MINUTE must be a whole number from 0 to 60000 (got "ten")',
    'C2S_LIST_PENALTY_SECONDS must be a whole number from 1 to 3600 (got "0")',
    'RECONCILE_INTERVAL_MINUTES must be a whole number from 0 to 1440 (got "1441")',
    'RECONCILE_LOOKBACK_HOURS must be a whole number from 1 to 720 (got "0")',
  ]);
  assert.equal(configError({ RECONCILE_INTERVAL_MINUTES: '2.5' }).problems.length, 1);
});

test('C2S listing is paced under its documented limit of about 10 calls a minute, 65 s after a 429', () => {
  const { c2s } = loadConfig({}).providers;
  assert.equal(c2s.listRatePerMinute, 9);
  assert.equal(c2s.listPenaltyMs, 65_000);
  const tuned = loadConfig({ C2S_LIST_RATE_PER_MINUTE: '0', C2S_LIST_PENALTY_SECONDS: '120' }).providers.c2s;
  assert.deepEqual([tuned.listRatePerMinute, tuned.listPenaltyMs], [0, 120_000]);
});

test('dataDirOf resolves DATA_DIR as loadConfig does', () => {
  assert.equal(dataDirOf({}), resolve('./data'));
  assert.equal(dataDirOf({ DATA_DIR: ' var/c2s ' }), loadConfig({ DATA_DIR: 'var/c2s' }).dataDir);
  assert.equal(dataDirOf({ DATA_DIR: '' }), resolve('./data'));
});

test('trailing slashes are removed from URLs', () => {
  assert.equal(
    loadConfig({ C2S_BASE_URL: 'https://c2s.example.com/api//' }).providers.c2s.baseUrl,
    'https://c2s.example.com/api',
  );
});

test('the configuration is deeply frozen', () => {
  const config = loadConfig({ ...PRODUCTION, NODE_ENV: 'development', WEBHOOK_SECRET: 'a,b' });
  assertDeepFrozen(config);
  // Test modules run in strict mode: writing a frozen property throws.
  assert.throws(() => {
    (config.http as { port: number }).port = 1;
  }, TypeError);
  assert.throws(() => {
    (config.webhook.secrets as string[]).push('c');
  }, TypeError);
  assert.throws(() => {
    (config.providers.c2s as { token?: string }).token = 'stolen';
  }, TypeError);
  assert.equal(config.http.port, 8080);
});

test('.env values fill the environment, and variables already set win', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'c2s-config-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, '.env'), '# comment\nPORT=9090\nLOG_LEVEL=debug\nWEBHOOK_SECRET="from-file"\n');

  const env = environmentWithDotenv({ LOG_LEVEL: 'warn', OTHER: 'x' }, dir);
  assert.equal(env.PORT, '9090');
  assert.equal(env.LOG_LEVEL, 'warn');
  assert.equal(env.WEBHOOK_SECRET, 'from-file');
  assert.equal(env.OTHER, 'x');

  const config = loadConfig(env);
  assert.equal(config.http.port, 9090);
  assert.equal(config.log.level, 'warn');
});

test('without a .env file the environment is used as it is', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'c2s-config-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const env: Env = { PORT: '1234' };
  assert.equal(environmentWithDotenv(env, dir), env);
});

test('production without an ADMIN_TOKEN (or with a short one) does not load', () => {
  const production: Env = { ...PRODUCTION, ADMIN_TOKEN: undefined };
  const refusal = (env: Env) => {
    try {
      loadConfig(env);
    } catch (error) {
      assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
      return error;
    }
    assert.fail('expected loadConfig to throw');
  };
  assert.deepEqual(refusal(production).problems, ['ADMIN_TOKEN is required when NODE_ENV=production']);
  assert.deepEqual(refusal({ ...production, ADMIN_TOKEN: '  ' }).problems, [
    'ADMIN_TOKEN is required when NODE_ENV=production',
  ]);
  const short = refusal({ ...production, ADMIN_TOKEN: 'short-token' });
  assert.deepEqual(short.problems, ['ADMIN_TOKEN must be at least 16 characters in production']);
  assert.ok(!short.message.includes('short-token'), 'the token is not echoed');
  const token = 'production-admin-token-0123456789';
  assert.equal(loadConfig({ ...production, ADMIN_TOKEN: token }).adminToken, token);
  // Outside production the service runs without one (it generates its own).
  assert.equal(loadConfig({ ...production, NODE_ENV: 'development' }).adminToken, undefined);
});
