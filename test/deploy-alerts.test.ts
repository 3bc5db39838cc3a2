// The alert rules and the Grafana dashboard watch metrics the service really exports: a rule on a
// metric that does not exist never fires, silently. The names come from the running service's
// /metrics (role `all`, with the enrichment workflow, so the providers' metrics are there too).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { parse } from 'yaml';
import { startEnrichment } from './helpers/enrichment.ts';
import { exportedNames, metricNames } from './helpers/promql.ts';
import { ROOT } from './helpers/process.ts';

const PROMETHEUS = join(ROOT, 'deploy', 'prometheus');
const DASHBOARD = join(ROOT, 'deploy', 'grafana', 'dashboards', 'c2s-enricher.json');
const RUNBOOK = join(ROOT, 'docs', 'runbook.md');

/** Series Prometheus makes itself for every target. */
const SYNTHETIC = new Set(['up']);

interface Rule {
  readonly alert: string;
  readonly expr: string;
  readonly annotations?: Record<string, string>;
}

function rules(): Rule[] {
  const file = parse(readFileSync(join(PROMETHEUS, 'alerts.yml'), 'utf8')) as {
    groups: Array<{ rules: Rule[] }>;
  };
  return file.groups.flatMap((group) => group.rules);
}

interface Panel {
  readonly title?: string;
  readonly type: string;
  readonly datasource?: { uid: string };
  readonly targets?: Array<{ expr: string }>;
  readonly panels?: Panel[];
}

function panelQueries(): Array<{ panel: string; expr: string; datasource: string | undefined }> {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[] };
  const all = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
  return all.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({
      panel: panel.title ?? panel.type,
      expr: target.expr,
      datasource: panel.datasource?.uid,
    })),
  );
}

/**
 * The names the service exports, scraped from a real `role: all` service with reconciliation on
 * (its gauges exist only then; the first run is a minute away, after the test).
 */
async function exported(t: TestContext): Promise<Set<string>> {
  const rig = await startEnrichment(t, { RECONCILE_INTERVAL_MINUTES: '15' });
  const text = await (await fetch(`${rig.service.url}/metrics`)).text();
  const names = exportedNames(text);
  for (const name of SYNTHETIC) names.add(name);
  return names;
}

/** Each query's metrics that the service does not export, as `where: name` lines. */
function unknown(queries: Array<{ where: string; expr: string }>, names: Set<string>): string[] {
  return queries.flatMap(({ where, expr }) =>
    metricNames(expr)
      .filter((name) => !names.has(name))
      .map((name) => `${where}: ${name}`),
  );
}

test('every metric an alert rule uses is one the service exports', async (t) => {
  const names = await exported(t);
  const all = rules();
  assert.ok(all.length >= 8, 'the rules were read');
  const used = all.flatMap((rule) => metricNames(rule.expr));
  assert.ok(used.includes('workflow_oldest_waiting_seconds') && used.includes('provider_breaker_state'));
  assert.deepEqual(
    unknown(
      all.map((rule) => ({ where: rule.alert, expr: rule.expr })),
      names,
    ),
    [],
  );
});

test('every metric a dashboard panel queries is one the service exports', async (t) => {
  const names = await exported(t);
  const queries = panelQueries();
  assert.ok(queries.length >= 20, 'the panels were read');
  assert.deepEqual(
    unknown(
      queries.map((query) => ({ where: query.panel, expr: query.expr })),
      names,
    ),
    [],
  );
  const provisioned = parse(
    readFileSync(join(ROOT, 'deploy', 'grafana', 'provisioning', 'datasources', 'prometheus.yml'), 'utf8'),
  ) as { datasources: Array<{ uid: string }> };
  const uid = provisioned.datasources[0]!.uid;
  assert.deepEqual(
    queries.filter((query) => query.datasource !== uid).map((query) => query.panel),
    [],
    `every panel reads the provisioned data source (uid ${uid})`,
  );
});

test('every alert names its section of the runbook, and that section exists', () => {
  const runbook = readFileSync(RUNBOOK, 'utf8');
  // GitHub's anchors: a heading's text, lowercased, without punctuation.
  const anchors = new Set(
    [...runbook.matchAll(/^#+ (.+)$/gm)].map((m) =>
      m[1]!
        .toLowerCase()
        .replace(/[^a-z0-9 -]/g, '')
        .replace(/ /g, '-'),
    ),
  );
  for (const rule of rules()) {
    const link = rule.annotations?.runbook ?? '';
    assert.match(link, /^docs\/runbook\.md#/, `${rule.alert} has a runbook annotation`);
    assert.ok(
      anchors.has(link.split('#')[1]!),
      `${rule.alert}: docs/runbook.md has a section #${link.split('#')[1]}`,
    );
  }
});

const promtool = spawnSync('promtool', ['--version']).status === 0;

test(
  'promtool: the rules and the configuration are valid, and the rules pass their tests',
  { skip: promtool ? false : 'promtool is not on PATH (Debian: apt-get install prometheus)' },
  () => {
    const run = (...args: string[]) => execFileSync('promtool', args, { cwd: PROMETHEUS, encoding: 'utf8' });
    assert.match(run('check', 'rules', 'alerts.yml'), /SUCCESS/);
    assert.match(run('check', 'config', 'prometheus.yml'), /SUCCESS: prometheus\.yml is valid/);
    // Exits non-zero, and execFileSync throws with promtool's report, when a rule test fails.
    assert.match(run('test', 'rules', 'alerts.test.yml'), /SUCCESS/);
  },
);
