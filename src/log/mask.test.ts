import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maskCpf, maskEmail, maskName, maskPhone, redactUrl, requestPath } from './mask.ts';

function assertHides(masked: string, ...secrets: string[]): void {
  for (const secret of secrets) assert.ok(!masked.includes(secret), `"${masked}" reveals "${secret}"`);
}

test('an e-mail keeps its first letters and top-level domain only', () => {
  const email = 'ana.lima@example.com';
  const masked = maskEmail(email);
  assert.equal(masked, 'a***@e***.com');
  assertHides(masked, email, 'ana.lima', 'example');
});

test('an e-mail without a usable @ is fully masked', () => {
  for (const email of ['no-at-sign', '@example.com', '']) assert.equal(maskEmail(email), '***', email);
  assert.equal(maskEmail('a@localhost'), 'a***@l***');
});

test('a phone keeps its last four digits whatever its formatting', () => {
  for (const phone of ['5511987654321', '+55 (11) 98765-4321', '11 98765 4321']) {
    const masked = maskPhone(phone);
    assert.equal(masked, '***4321', phone);
    assertHides(masked, phone, '98765', '987654321');
  }
});

test('a phone too short to mask safely is fully masked', () => {
  for (const phone of ['1234567', '', 'not a phone']) assert.equal(maskPhone(phone), '***', phone);
});

test('a CPF keeps only its middle digits', () => {
  for (const cpf of ['52998224725', '529.982.247-25']) {
    const masked = maskCpf(cpf);
    assert.equal(masked, '***.982.247-**', cpf);
    assertHides(masked, cpf, '52998224725', '529.982', '247-25');
  }
});

test('something that is not an 11-digit CPF is fully masked', () => {
  for (const cpf of ['5299822472', '529982247251', '', 'abc']) assert.equal(maskCpf(cpf), '***', cpf);
});

test('a name keeps the initial of each part', () => {
  const masked = maskName('  Ana   Souza Lima ');
  assert.equal(masked, 'A*** S*** L***');
  assertHides(masked, 'Ana', 'Souza', 'Lima');
  assert.equal(maskName(''), '');
});

test('a webhook path loses its token', () => {
  const masked = redactUrl('/api/v1/webhooks/c2s?token=s3cr3t-value&x=1');
  assert.equal(masked, '/api/v1/webhooks/c2s?token=[REDACTED]&x=1');
  assertHides(masked, 's3cr3t-value');
});

test('access tokens, API keys and passwords in the query are redacted, case-insensitively', () => {
  const masked = redactUrl(
    'https://api.example.com/x?a=1&access_token=AT-123&API_KEY=K-456&Password=P-789#frag',
  );
  assert.equal(
    masked,
    'https://api.example.com/x?a=1&access_token=[REDACTED]&API_KEY=[REDACTED]&Password=[REDACTED]#frag',
  );
  assertHides(masked, 'AT-123', 'K-456', 'P-789');
});

test('a password in the userinfo is redacted, the user and host kept', () => {
  const masked = redactUrl('postgres://c2s:hunter2-pass@db.internal:5432/c2s');
  assert.equal(masked, 'postgres://c2s:[REDACTED]@db.internal:5432/c2s');
  assertHides(masked, 'hunter2-pass');
});

test('a Work API URL does not reveal its token', () => {
  const masked = redactUrl(
    'https://completa.workbuscas.com/api?token=abc123&modulo=cpf&consulta=52998224725',
  );
  assertHides(masked, 'abc123');
  assert.ok(masked.startsWith('https://completa.workbuscas.com/api?token=[REDACTED]&modulo=cpf'), masked);
});

test('a URL without secrets is unchanged', () => {
  const url = 'https://api.contact2sale.com/integration/leads/123?page=2';
  assert.equal(redactUrl(url), url);
});

// URL parsers (and so DB_URL) take the last '@' of the authority as the end of the password.
test('a password holding an @ is redacted whole', () => {
  const masked = redactUrl('postgres://c2s:p@ssw0rd-tail@db.internal:5432/c2s');
  assertHides(masked, 'ssw0rd-tail');
});

// Spec (LGPD): logs never contain a full CPF; a Work API URL carries the CPF in `consulta=`.
test('a Work API URL does not reveal the CPF it looks up', () => {
  const masked = redactUrl(
    'https://completa.workbuscas.com/api?token=abc123&modulo=cpf&consulta=52998224725',
  );
  assertHides(masked, '52998224725');
});

test('requestPath keeps the path alone, whatever the query spells', () => {
  for (const url of [
    '/api/v1/webhooks/c2s?token=s3cr3t',
    '/api/v1/webhooks/c2s?%74oken=s3cr3t',
    '/api/v1/webhooks/c2s?TOKEN=s3cr3t',
    '/api/v1/webhooks/c2s?x=1&token=s3cr3t',
    '/api/v1/webhooks/c2s#token=s3cr3t',
    '/api/v1/webhooks/c2s?',
    '/api/v1/webhooks/c2s',
  ]) {
    assert.equal(requestPath(url), '/api/v1/webhooks/c2s', url);
  }
});
