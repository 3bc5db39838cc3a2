import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import pg from 'pg';
import { BacklogFullError, ProviderUnauthorizedError } from '../errors.ts';
import { createLogger } from '../log/logger.ts';
import { createMetrics } from '../metrics.ts';
import { buildApp } from './app.ts';

test('an unexpected error answers 500 without internals and is logged masked', async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  // The pool is never used by this route; it connects lazily.
  const db = new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none' });
  const app = await buildApp({
    db,
    logger: createLogger('info', sink),
    metrics: createMetrics(),
    webhook: undefined,
  });
  app.get('/boom', async () => {
    throw new Error('duplicate key: cpf 52998224725, e-mail ana.souza@example.com, phone +55 11 98765-4321');
  });
  const response = await app.inject({ method: 'GET', url: '/boom' });
  await app.close();
  await db.end();

  assert.equal(response.statusCode, 500);
  assert.doesNotMatch(response.body, /52998224725|ana\.souza|98765/);
  const failure = lines.find((line) => line.includes('request failed'));
  assert.ok(failure, 'the failure is logged');
  for (const secret of ['52998224725', 'ana.souza@example.com', '98765-4321']) {
    assert.ok(!lines.join('').includes(secret), `the log does not show ${secret}`);
  }
  assert.match(failure, /duplicate key/, 'the rest of the message stays readable');
});

test('refusals answer their own code and status; any other error of ours is an internal error', async () => {
  const db = new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none' });
  const app = await buildApp({
    db,
    logger: createLogger('silent'),
    metrics: createMetrics(),
    webhook: undefined,
  });
  app.get('/full', async () => {
    throw new BacklogFullError('too many events are waiting to be processed; retry later');
  });
  app.get('/provider', async () => {
    throw new ProviderUnauthorizedError('c2s', { status: 401 });
  });
  const full = await app.inject({ method: 'GET', url: '/full' });
  const provider = await app.inject({ method: 'GET', url: '/provider' });
  const missing = await app.inject({ method: 'GET', url: '/nowhere' });
  await app.close();
  await db.end();

  assert.equal(full.statusCode, 503);
  assert.equal(full.headers['retry-after'], '5');
  assert.equal(full.json<{ error: string }>().error, 'backlog_full');
  // A provider's failure is no answer of ours: its code and message stay inside.
  assert.equal(provider.statusCode, 500);
  assert.deepEqual(provider.json(), {
    error: 'internal_error',
    message: 'the request failed; it has been logged',
  });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json<{ error: string }>().error, 'not_found');
});
