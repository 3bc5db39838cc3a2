// Crash safety and multi-process runs, with real processes killed with SIGKILL.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { startC2sSimulator } from '../src/simulators/c2s.ts';
import { defer } from './helpers/cleanup.ts';
import { freshDatabase } from './helpers/database.ts';
import { freePort, spawnService, type ServiceProcess } from './helpers/process.ts';
import { FAKE_PROVIDERS, leadEvent, postWebhook } from './helpers/service.ts';
import { settled } from './helpers/workflow.ts';

const SECRET = 'crash-test-secret-0123456789';
const FIXTURE = ['test/fixtures/note-service.ts'];

/** Delivers like C2S would: until the service answers 200 (it may be down, being restarted). */
async function deliver(url: () => string, body: unknown): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt++) {
    try {
      const answer = await postWebhook(url(), body, { token: SECRET });
      if (answer.status === 200) return;
    } catch {
      // connection refused or cut: the service is being killed or restarted
    }
    await sleep(50);
  }
  throw new Error('delivery never succeeded');
}

test('killed with SIGKILL at random moments, the service loses no event and posts one note per lead', async (t) => {
  const db = await freshDatabase(t);
  const c2s = await startC2sSimulator({ token: 'c2s-token' });
  defer(t, () => c2s.close());
  c2s.faults.set('*', { latencyMs: 5 });
  const port = await freePort();
  const env = {
    DB_URL: db.url,
    WEBHOOK_SECRET: SECRET,
    ...FAKE_PROVIDERS,
    C2S_BASE_URL: c2s.url,
    C2S_TOKEN: 'c2s-token',
    PORT: String(port),
    LOG_LEVEL: 'info',
    WORKER_LEASE_SECONDS: '4',
    RETRY_BASE_DELAY_MS: '100',
    COMPOSE_DELAY_MS: '40',
    // A post cut by a kill leaves its note claimed: it counts as in flight for 2 + 4 + 1 s.
    C2S_TIMEOUT_MS: '2000',
    NOTE_CLAIM_MARGIN_SECONDS: '1',
    NOTE_UNKNOWN_WAIT_SECONDS: '1',
  };
  let service: ServiceProcess = await spawnService(t, env, FIXTURE);

  // 150 leads, two updates each with the same contacts: 300 events, one note per lead.
  const events = Array.from({ length: 300 }, (_, n) =>
    leadEvent(
      `lead-${String(n % 150).padStart(3, '0')}`,
      n < 150 ? '2026-11-20T10:00:00Z' : '2026-11-20T10:05:00Z',
    ),
  );
  let posting = true;
  const poster = (async () => {
    for (let i = 0; i < events.length; i += 6) {
      await deliver(() => `http://127.0.0.1:${port}`, events.slice(i, i + 6));
    }
    posting = false;
  })();

  let kills = 0;
  while (posting || kills < 10) {
    await sleep(250 + Math.random() * 700);
    await service.stop('SIGKILL');
    kills++;
    service = await spawnService(t, env, FIXTURE);
  }
  await poster;

  const states = await settled(db, 120_000);
  const notes = c2s.notes();
  const perLead = new Map<string, number>();
  for (const note of notes) perLead.set(note.leadId, (perLead.get(note.leadId) ?? 0) + 1);
  const duplicates = [...perLead.values()].filter((count) => count > 1).length;
  t.diagnostic(
    `kills: ${kills}, events stored: ${states.length}, notes: ${notes.length}, leads with more than one note: ${duplicates}`,
  );

  assert.ok(kills >= 10);
  assert.equal(states.length, 300, 'every delivered event is stored');
  assert.deepEqual(
    states.filter((state) => !['completed', 'superseded'].includes(state.status)),
    [],
  );
  assert.equal(perLead.size, 150, 'every lead got a note');
  assert.equal(duplicates, 0, 'no lead got the same note twice');
  const { rows } = await db.pool.query(`SELECT state, count(*)::int AS n FROM notes GROUP BY state`);
  assert.deepEqual(rows, [{ state: 'sent', n: 150 }]);
  assert.equal(await service.stop('SIGTERM'), 0);
});

test('two worker processes on one database never run an event twice', async (t) => {
  const db = await freshDatabase(t);
  const c2s = await startC2sSimulator({ token: 'c2s-token' });
  defer(t, () => c2s.close());
  const env = {
    DB_URL: db.url,
    WEBHOOK_SECRET: SECRET,
    ...FAKE_PROVIDERS,
    C2S_BASE_URL: c2s.url,
    C2S_TOKEN: 'c2s-token',
    LOG_LEVEL: 'info',
    COMPOSE_DELAY_MS: '20',
  };
  const api = await spawnService(t, env, [...FIXTURE, '--role=api']);
  await spawnService(t, env, [...FIXTURE, '--role=worker']);
  await spawnService(t, env, [...FIXTURE, '--role=worker']);

  const events = Array.from({ length: 200 }, (_, n) => leadEvent(`lead-${n}`, '2026-11-20T10:00:00Z'));
  for (let i = 0; i < events.length; i += 20) await deliver(() => api.url, events.slice(i, i + 20));
  const states = await settled(db, 60_000);
  assert.equal(states.length, 200);
  assert.ok(states.every((state) => state.status === 'completed' && state.attempts === 1));

  const { rows } = await db.pool.query<{ attempts: number; pid: number }>(
    `SELECT attempts, (output->'output'->>'pid')::int AS pid FROM event_steps WHERE step = 'compose_note'`,
  );
  assert.equal(rows.length, 200);
  assert.ok(
    rows.every((row) => row.attempts === 1),
    'no step ran twice',
  );
  assert.equal(new Set(rows.map((row) => row.pid)).size, 2, 'both workers took part');
  assert.equal(c2s.notes().length, 200);
  assert.equal(new Set(c2s.notes().map((note) => note.leadId)).size, 200);
});
