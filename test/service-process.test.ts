// The service as operators run it: a real process, its log output, its signals.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { defer } from './helpers/cleanup.ts';
import { freshDatabase } from './helpers/database.ts';
import { runNode, spawnService } from './helpers/process.ts';
import { leadEvent, postWebhook } from './helpers/service.ts';

const SECRET = 'process-test-secret-5f2a9c';

test('a run logs no secret and no unmasked e-mail, phone or name from the payloads', async (t) => {
  const db = await freshDatabase(t);
  const service = await spawnService(t, { DB_URL: db.url, WEBHOOK_SECRET: SECRET });
  const personal = {
    name: 'Beatriz Quintanilha Duarte',
    email: 'beatriz.q.duarte@example.org',
    phone: '5521976543210',
  };
  const event = (leadId: string, updatedAt: string) =>
    leadEvent(leadId, updatedAt, { customer: personal, description: 'CPF 529.982.247-25' });

  await postWebhook(service.url, event('lead-p1', '2026-11-20T10:15:00Z'), { token: SECRET, via: 'query' });
  await postWebhook(service.url, event('lead-p1', '2026-11-20T10:15:00Z'), { token: SECRET });
  await postWebhook(service.url, [event('lead-p2', 'bad-date'), { customer: personal }], { token: SECRET });
  await postWebhook(service.url, undefined, {
    token: SECRET,
    raw: `{"email":"${personal.email}", "phone": "${personal.phone}"`,
  });
  await postWebhook(service.url, event('lead-p3', '2026-11-20T10:15:00Z'), { token: `${SECRET}-guess` });
  await fetch(`${service.url}/nope?token=${SECRET}`);
  assert.equal(await service.stop(), 0);

  const logs = service.output();
  assert.match(logs, /"accepted":1/); // the run did log its work
  for (const secretOrPersonal of [
    SECRET,
    personal.email,
    personal.phone,
    '976543210',
    personal.name,
    'Quintanilha',
    '52998224725',
    '529.982.247-25',
  ]) {
    assert.ok(!logs.includes(secretOrPersonal), `log output must not contain ${secretOrPersonal}`);
  }
  // Every line is JSON (no stray prints) and carries a request id where it is about a request.
  const lines = logs.split('\n').filter((line) => line !== '');
  assert.ok(lines.length > 5);
  for (const line of lines) assert.ok(line.startsWith('{') && line.endsWith('}'), `a stray print: ${line}`);
  const requestLines = lines
    .map((line) => JSON.parse(line) as { msg: string; requestId?: string })
    .filter((l) => l.msg === 'request');
  assert.ok(requestLines.length >= 6 && requestLines.every((l) => typeof l.requestId === 'string'));
});

test('SIGTERM lets a request in flight finish, then stops; a second signal exits at once', async (t) => {
  const db = await freshDatabase(t);
  const service = await spawnService(t, { DB_URL: db.url, WEBHOOK_SECRET: SECRET });
  const body = JSON.stringify(leadEvent('lead-inflight', '2026-11-20T10:15:00Z'));

  // Start a request, send half its body, signal the service, then send the rest.
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const url = new URL('/api/v1/webhooks/c2s', service.url);
    const req = request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'x-webhook-token': SECRET,
      },
    });
    req.once('response', (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.once('error', reject);
    req.write(body.slice(0, 40));
    setTimeout(() => {
      service.child.kill('SIGTERM');
      setTimeout(() => req.end(body.slice(40)), 300);
    }, 200);
  });
  const done = await answer;
  assert.equal(done.status, 200);
  assert.equal(JSON.parse(done.body).processed, 1);
  assert.equal(await service.exited, 0);
  const { rows } = await db.pool.query(
    `SELECT count(*)::int AS n FROM webhook_events WHERE lead_id = 'lead-inflight'`,
  );
  assert.equal(rows[0].n, 1);

  // A second signal does not wait for anything.
  const stuck = await spawnService(t, { DB_URL: db.url, WEBHOOK_SECRET: SECRET });
  const hanging = request(new URL('/api/v1/webhooks/c2s', stuck.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': '1000', 'x-webhook-token': SECRET },
  });
  hanging.on('error', () => {});
  hanging.write('{');
  // Nothing outside tells when the partial request has reached the server: give it a moment.
  await new Promise((resolve) => setTimeout(resolve, 200));
  stuck.child.kill('SIGTERM');
  // That the service has NOT exited is what is tested: it must still be draining a while later.
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(stuck.child.exitCode, null, 'still draining after the first signal');
  stuck.child.kill('SIGTERM');
  assert.equal(await stuck.exited, 130);
  hanging.destroy();
});

test('in production a missing configuration stops the boot with every problem listed', async () => {
  const result = await runNode(['src/main.ts'], {
    NODE_ENV: 'production',
    PORT: 'eighty',
    LOG_LEVEL: 'loud',
  });
  assert.equal(result.code, 78);
  for (const problem of [
    'PORT',
    'LOG_LEVEL',
    'WEBHOOK_SECRET',
    'ADMIN_TOKEN',
    'DB_URL',
    'C2S_TOKEN',
    'DIRETRIX_USER',
    'WORK_API',
  ]) {
    assert.ok(result.output.includes(problem), `the boot error names ${problem}`);
  }
  assert.equal(result.output.match(/^ {2}- /gm)?.length, 10, result.output);
});

test('Ctrl-C (SIGINT to the whole process group) stops the service and its embedded database quietly, in order', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'c2s-ctrl-c-'));
  defer(t, () => rmSync(dataDir, { recursive: true, force: true }));
  const service = await spawnService(t, { DATA_DIR: dataDir, WEBHOOK_SECRET: SECRET }, undefined, {
    ownProcessGroup: true,
  });
  const posted = await postWebhook(service.url, leadEvent('lead-ctrl-c', '2026-11-20T10:15:00Z'), {
    token: SECRET,
  });
  assert.equal(posted.status, 200);

  // What a terminal does on Ctrl-C: the signal goes to every process of the foreground group.
  process.kill(-service.child.pid!, 'SIGINT');
  assert.equal(await service.exited, 0, service.output());

  const output = service.output();
  const lines = output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: string; msg: string; time: string });
  // By time, not by position: the last lines are flushed at exit and may land out of order.
  const at = (msg: string) => {
    const line = lines.find((l) => l.msg === msg);
    assert.ok(line, `the log says "${msg}"`);
    return Date.parse(line.time);
  };
  assert.ok(at('shutting down') <= at('embedded PostgreSQL stopped'), output);
  assert.ok(at('embedded PostgreSQL stopped') <= at('stopped'), output);
  assert.ok(
    lines.findIndex((l) => l.msg === 'shutting down') <
      lines.findIndex((l) => l.msg === 'embedded PostgreSQL stopped'),
    output,
  );
  // The database was not interrupted under the service: none of its warnings, no failed stop.
  assert.doesNotMatch(output, /FATAL|PANIC|WARNING|terminating connection|error while stopping/);
  assert.deepEqual(
    lines.filter(
      (line) =>
        line.msg === 'embedded PostgreSQL' ||
        (['warn', 'error', 'fatal'].includes(line.level) && !line.msg.startsWith('DEMO MODE')),
    ),
    [],
  );
  assert.equal(existsSync(join(dataDir, 'embedded-postgres.lock')), false);
  assert.equal(existsSync(join(dataDir, 'postgres', 'postmaster.pid')), false, 'the server is down');
});
