// Scale-out, small: two API processes and one, then two, worker processes on one database, a
// burst of 300 leads, providers answering in 0.2–1.5 s. The 2,000-lead version is the bench's
// `scaleout` scenario (bench/scaleout.ts, the same code).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { scaleoutScenario } from '../bench/scaleout.ts';
import { freshDatabase } from './helpers/database.ts';
import { ROOT } from './helpers/process.ts';

/** The service as `npm start` runs it: the start script's Node flags and entry point. */
const SERVICE = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }
).scripts.start
  .split(/\s+/)
  .slice(1);

test('a second worker process nearly doubles throughput when providers are the limit; no event runs twice, no note is posted twice', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'c2s-scaleout-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const [one, two] = await scaleoutScenario({
    leads: 300,
    workers: [1, 2],
    concurrency: 32,
    freshDatabase: async () => (await freshDatabase(t)).url,
    service: SERVICE,
    dataDir,
    log: (line) => t.diagnostic(line),
    timeoutMs: 120_000,
  });
  for (const run of [one!, two!]) {
    assert.deepEqual(run.outcomes, { enriched: 300 }, `${run.workers} worker(s): every lead enriched`);
    assert.equal(
      run.duplicateRuns,
      0,
      `${run.workers} worker(s): every event claimed once, every step run once`,
    );
    assert.equal(run.duplicateNotes, 0, `${run.workers} worker(s): one note per lead at C2S`);
    assert.equal(run.missingNotes, 0, `${run.workers} worker(s): every enriched lead has its note`);
    assert.equal(run.duplicateLookups, 0, `${run.workers} worker(s): one Work API lookup per CPF`);
  }
  // Providers, not the CPU, are the limit: each worker's 32 runs in flight mostly wait on them.
  assert.ok(
    two!.leadsPerSecond >= 1.4 * one!.leadsPerSecond,
    `2 workers: ${two!.leadsPerSecond} leads/s, 1 worker: ${one!.leadsPerSecond} leads/s`,
  );
});
