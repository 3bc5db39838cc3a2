// The image, compose.yaml and Prometheus's configuration agree with the service and with each
// other: the image runs the service as `npm start` does, never takes local data or secrets, and
// every process compose starts is scraped.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { ROOT } from './helpers/process.ts';

const read = (...path: string[]) => readFileSync(join(ROOT, ...path), 'utf8');

/** The Dockerfile's instructions, continuation lines joined. */
function instructions(): Array<{ keyword: string; args: string }> {
  return read('Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'))
    .map((line) => {
      const [keyword, ...rest] = line.trim().split(/\s+/);
      return { keyword: keyword!.toUpperCase(), args: rest.join(' ') };
    });
}

test('the image starts the service with the Node flags of `npm start`, under tini, as a non-root user', () => {
  const steps = instructions();
  const start = (JSON.parse(read('package.json')) as { scripts: { start: string } }).scripts.start;
  const entrypoint = JSON.parse(steps.findLast((step) => step.keyword === 'ENTRYPOINT')!.args) as string[];
  assert.deepEqual(entrypoint.slice(0, 2), ['/usr/bin/tini', '--'], 'tini is PID 1');
  assert.equal(entrypoint.slice(2).join(' '), start, 'node, its flags and the entry point, as npm start');

  const runtime = steps.slice(steps.findLastIndex((step) => step.keyword === 'FROM'));
  assert.equal(runtime.findLast((step) => step.keyword === 'USER')?.args, 'node');
  assert.ok(runtime.some((step) => step.keyword === 'HEALTHCHECK' && step.args.includes('/health')));
  assert.ok(runtime.some((step) => step.keyword === 'EXPOSE' && step.args === '8080'));
  assert.match(steps.find((step) => step.keyword === 'ARG')!.args, /^NODE_IMAGE=node:24-slim$/);
  assert.ok(
    steps.some((step) => step.keyword === 'RUN' && /npm ci --omit=dev\b/.test(step.args)),
    'production dependencies only',
  );
});

test('.dockerignore keeps the database, secrets, installs and test output out of the image', () => {
  const ignored = read('.dockerignore')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  for (const entry of ['data/', '.env', 'deploy/.env', 'node_modules/', 'test-artifacts/', 'test/'])
    assert.ok(ignored.includes(entry), `${entry} is ignored`);
  assert.ok(!ignored.some((entry) => entry.startsWith('!')), 'nothing is let back in');
});

interface Service {
  readonly image?: string;
  readonly command?: string[];
  readonly entrypoint?: string[];
  readonly depends_on?: Record<string, { condition: string }>;
  readonly env_file?: string;
  readonly volumes?: string[];
}

test('compose: migrations once, then one API and two workers of one image; every process scraped', () => {
  const { services } = parse(read('compose.yaml'), { merge: true }) as { services: Record<string, Service> };
  const enricher = Object.entries(services).filter(([, service]) =>
    service.image?.startsWith('c2s-enricher:'),
  );
  const roles = Object.fromEntries(
    enricher
      .filter(([name]) => name !== 'migrate')
      .map(([name, service]) => [name, service.command?.find((arg) => arg.startsWith('--role='))]),
  );
  assert.deepEqual(roles, { api: '--role=api', 'worker-1': '--role=worker', 'worker-2': '--role=worker' });

  const migrate = services.migrate!;
  assert.deepEqual(
    [...migrate.entrypoint!.slice(-2), ...migrate.command!],
    ['node', 'src/cli/main.ts', 'migrate'],
  );
  assert.deepEqual(migrate.depends_on, { postgres: { condition: 'service_healthy' } });
  for (const [name, service] of enricher) {
    assert.equal(service.env_file, 'deploy/.env', `${name} reads the deployment's env file`);
    if (name !== 'migrate')
      assert.deepEqual(
        service.depends_on,
        { migrate: { condition: 'service_completed_successfully' } },
        name,
      );
  }
  assert.equal(services.postgres!.image, 'postgres:18');

  const prometheus = parse(read('deploy', 'prometheus', 'prometheus.yml')) as {
    scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
  };
  const job = prometheus.scrape_configs.find((config) => config.job_name === 'c2s-enricher')!;
  const targets = job.static_configs.flatMap((config) => config.targets).sort();
  const processes = Object.keys(roles)
    .map((name) => `${name}:8080`)
    .sort();
  assert.deepEqual(targets, processes, 'Prometheus scrapes each process compose starts');
});

test('the env file example names every secret the production boot requires, with no real value', () => {
  const example = read('deploy', '.env.example');
  const values = Object.fromEntries(
    [...example.matchAll(/^([A-Z_0-9]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]),
  );
  for (const name of [
    'WEBHOOK_SECRET',
    'ADMIN_TOKEN',
    'SUPPRESSION_SECRET',
    'POSTGRES_PASSWORD',
    'GRAFANA_ADMIN_PASSWORD',
  ])
    assert.match(values[name] ?? '', /^change-me/, `${name} is there, as a placeholder`);
  for (const name of ['C2S_TOKEN', 'DIRETRIX_BASE_URL', 'DIRETRIX_USER', 'DIRETRIX_PASS', 'WORK_API'])
    assert.ok(name in values, `${name} is there`);
  assert.ok(read('.gitignore').split('\n').includes('deploy/.env'), 'the real one is never committed');
});
