import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { environmentWithDotenv, loadConfig, type Env } from './config.ts';
import { ConfigError } from './errors.ts';

const PRODUCTION: Env = {
  NODE_ENV: 'production',
  WEBHOOK_SECRET: 'production-secret-0123456789',
  DB_URL: 'postgres://c2s:pw@db.internal:5432/c2s',
  C2S_TOKEN: 'c2s-token',
  DIRETRIX_BASE_URL: 'https://diretrix.example.com',
  DIRETRIX_USER: 'user',
  DIRETRIX_PASS: 'pass',
  WORK_API: 'work-token',
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
