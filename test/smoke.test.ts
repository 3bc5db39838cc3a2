// The smoke subset: `npm start` as a newcomer runs it (embedded database, generated secret),
// checked with the eight smoke checks. CI also runs this file alone (`npm run test:smoke`).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { defer } from './helpers/cleanup.ts';
import { runSmokeChecks } from '../src/smoke.ts';
import { runNode, spawnService } from './helpers/process.ts';

test('npm start on an empty data directory serves the webhook on an embedded database', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'c2s-smoke-'));
  defer(t, () => rmSync(dataDir, { recursive: true, force: true }));

  const service = await spawnService(t, { DATA_DIR: dataDir });
  const hook = /(http:\/\/\S+\/api\/v1\/webhooks\/c2s)\?token=(\S+)/.exec(service.output());
  assert.ok(hook, 'the hook URL with its token is printed at startup');
  assert.match(service.output(), /No WEBHOOK_SECRET set: generated one and kept it in the data directory\./);
  const secret = hook[2]!;

  const checks = await runSmokeChecks(service.url, secret);
  assert.deepEqual(
    checks.filter((check) => !check.passed),
    [],
  );
  assert.equal(checks.length, 8);

  // The CLI an operator runs prints one line per check and exits 0.
  const cli = await runNode(['src/cli/smoke.ts', service.url], { WEBHOOK_SECRET: secret });
  assert.equal(cli.code, 0, cli.output);
  assert.equal(cli.output.match(/^PASS /gm)?.length, 8);
  // Without WEBHOOK_SECRET it finds the generated one in DATA_DIR, as the demo does.
  const kept = await runNode(['src/cli/smoke.ts', service.url], { DATA_DIR: dataDir });
  assert.equal(kept.code, 0, kept.output);
  assert.match(kept.output, /^8 passed, 0 failed$/m);
  const none = await runNode(['src/cli/smoke.ts', service.url], { DATA_DIR: join(dataDir, 'empty') });
  assert.equal(none.code, 2);
  assert.match(none.output, /without WEBHOOK_SECRET the secret is read from .*empty\/webhook-secret/);

  // The demo posts the sample leads and shows the notes the simulated C2S received.
  const demo = await runNode(['src/cli/demo.ts'], { DATA_DIR: dataDir });
  assert.equal(demo.code, 0, demo.output);
  assert.equal(demo.output.match(/^── .* · enriched$/gm)?.length, 5, demo.output);
  assert.match(demo.output, /^── no_match · .* · no_match$/m);
  assert.equal(demo.output.match(/^ref: enr-[0-9a-f]{16}$/gm)?.length, 5);
  assert.match(demo.output, /PESSOAS DIFERENTES/);
  assert.match(service.output(), /DEMO MODE: workapi has no credentials/);

  // A second process on the same data directory is refused, clearly.
  const second = await runNode(['src/main.ts'], { DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' });
  assert.notEqual(second.code, 0);
  assert.match(second.output, /data directory is in use by process \d+/);

  assert.equal(await service.stop('SIGTERM'), 0);
  assert.match(service.output(), /embedded PostgreSQL stopped/);
  assert.equal(existsSync(join(dataDir, 'embedded-postgres.lock')), false);

  // Restarted on the same directory: same secret, events still there.
  const again = await spawnService(t, { DATA_DIR: dataDir });
  assert.ok(again.output().includes(`?token=${secret}`), 'the generated secret is kept');
  // Read back, not generated: the banner says where it came from.
  assert.doesNotMatch(again.output(), /generated one/);
  assert.ok(
    again
      .output()
      .includes(`No WEBHOOK_SECRET set: using the one kept in ${join(dataDir, 'webhook-secret')}.`),
    again.output(),
  );
  const rerun = await runSmokeChecks(again.url, secret);
  assert.deepEqual(
    rerun.filter((check) => !check.passed),
    [],
  );
  assert.equal(await again.stop('SIGINT'), 0);
});

test('a killed service leaves no obstacle: the next start takes over its embedded database', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'c2s-smoke-'));
  defer(t, () => rmSync(dataDir, { recursive: true, force: true }));
  const first = await spawnService(t, { DATA_DIR: dataDir, WEBHOOK_SECRET: 'kill-test-secret' });
  await first.stop('SIGKILL');
  const second = await spawnService(t, { DATA_DIR: dataDir, WEBHOOK_SECRET: 'kill-test-secret' });
  const checks = await runSmokeChecks(second.url, 'kill-test-secret');
  assert.equal(checks.filter((check) => check.passed).length, 8);
  assert.equal(await second.stop(), 0);
});
