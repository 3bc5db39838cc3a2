import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createTokenVerifier, generatedSecret, keptSecret, presentedToken } from './auth.ts';

const SECRETS = ['first-secret-0123456789', 'second-secret-abcdefghij', 'third-secret-ABCDEFGHIJ'];

test('the verifier accepts each of the rotated secrets', () => {
  const verify = createTokenVerifier(SECRETS);
  for (const secret of SECRETS) assert.equal(verify(secret), true, secret);
});

test('the verifier refuses wrong, empty, absent, truncated and extended tokens', () => {
  const verify = createTokenVerifier(SECRETS);
  for (const presented of [
    'wrong',
    '',
    undefined,
    'first-secret-012345678',
    'first',
    'first-secret-0123456789x',
    'first-secret-0123456789 ',
    'FIRST-SECRET-0123456789',
    SECRETS.join(','),
  ]) {
    assert.equal(verify(presented), false, String(presented));
  }
});

test('a verifier without secrets refuses everything', () => {
  const verify = createTokenVerifier([]);
  assert.equal(verify('anything'), false);
  assert.equal(verify(''), false);
  assert.equal(verify(undefined), false);
});

test('the X-Webhook-Token header wins over the query token', () => {
  assert.equal(presentedToken({ 'x-webhook-token': 'from-header' }, { token: 'from-query' }), 'from-header');
});

test('the query token is used when there is no header', () => {
  assert.equal(presentedToken({}, { token: 'from-query' }), 'from-query');
  assert.equal(presentedToken({ 'x-webhook-token': '' }, { token: 'from-query' }), 'from-query');
});

test('a repeated query token uses its first value', () => {
  assert.equal(presentedToken({}, { token: ['first', 'second'] }), 'first');
});

test('no token at all, or a token of the wrong type, is undefined', () => {
  assert.equal(presentedToken({}, undefined), undefined);
  assert.equal(presentedToken({}, {}), undefined);
  assert.equal(presentedToken({}, { token: 42 }), undefined);
  assert.equal(presentedToken({}, { token: [42] }), undefined);
  assert.equal(presentedToken({ 'x-webhook-token': ['a', 'b'] }, {}), undefined);
});

test('a generated secret is written once, kept with mode 0600 and returned again', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'c2s-auth-test-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dataDir = join(root, 'data', 'nested');

  assert.equal(keptSecret(dataDir), undefined);
  const { secret: first, created } = generatedSecret(dataDir);
  assert.equal(created, true);
  const file = join(dataDir, 'webhook-secret');
  assert.ok(first.length >= 32, 'long enough to be a production secret');
  assert.match(first, /^[\w-]+$/);
  assert.equal(readFileSync(file, 'utf8').trim(), first);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const writtenAt = statSync(file).mtimeMs;

  const second = generatedSecret(dataDir);
  assert.deepEqual(second, { secret: first, created: false }, 'read back, not generated again');
  assert.equal(keptSecret(dataDir), first);
  assert.equal(statSync(file).mtimeMs, writtenAt);
  assert.equal(readFileSync(file, 'utf8').trim(), first);
});

test('each data directory gets its own generated secret', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'c2s-auth-test-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  assert.notEqual(generatedSecret(join(root, 'a')).secret, generatedSecret(join(root, 'b')).secret);
});

test('an empty kept file is not a secret: a new one is generated', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'c2s-auth-test-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, 'webhook-secret'), '\n');
  assert.equal(keptSecret(root), undefined);
  const { secret, created } = generatedSecret(root);
  assert.equal(created, true);
  assert.equal(keptSecret(root), secret);
});
