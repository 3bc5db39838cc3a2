import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProviderRateLimitedError } from '../errors.ts';
import { createLogger, serializeError, withStack } from './logger.ts';

const CPF = '52998224725';
const EMAIL = 'ana.souza@example.com';
const PHONE = '+55 11 98765-4321';
const SECRETS = [CPF, EMAIL, 'ana.souza', '98765-4321', '987654321'];

function capture() {
  const lines: string[] = [];
  return { lines, logger: createLogger('info', { write: (line: string) => void lines.push(line) }) };
}

function assertHides(text: string): void {
  for (const secret of SECRETS) assert.ok(!text.includes(secret), `${text} reveals ${secret}`);
}

test('an error quoting a CPF, an e-mail and a phone is logged with none of them', () => {
  const { lines, logger } = capture();
  const error = Object.assign(new TypeError(`no match for cpf ${CPF}, e-mail ${EMAIL}, phone ${PHONE}`), {
    code: 'E_LOOKUP',
    detail: `Key (cpf)=(${CPF}) already exists`,
  });
  logger.warn({ err: error }, 'lookup failed');
  logger.error({ err: withStack(error) }, 'request failed');

  assert.equal(lines.length, 2);
  assertHides(lines.join(''));
  const plain = JSON.parse(lines[0]!) as { err: Record<string, unknown> };
  assert.deepEqual(Object.keys(plain.err).sort(), ['code', 'message', 'type']);
  assert.equal(plain.err.type, 'TypeError');
  assert.equal(plain.err.code, 'E_LOOKUP');
  assert.match(String(plain.err.message), /^no match for cpf \*\*\*4725, e-mail a\*\*\*@e\*\*\*\.com, phone/);

  const withTrace = JSON.parse(lines[1]!) as { err: Record<string, unknown> };
  assert.equal(withTrace.err.type, 'TypeError');
  assert.match(String(withTrace.err.stack), /logger\.test\.ts/, 'the stack is there, where asked for');
});

test('a stack is bounded and masked', () => {
  const error = new Error(`${EMAIL} `.repeat(2000));
  const logged = serializeError(withStack(error));
  assert.ok(logged.stack !== undefined && logged.stack.length <= 4000);
  assert.ok(logged.message.length <= 500);
  assertHides(logged.stack);
  assertHides(logged.message);
});

test('a thrown value that is not an Error is logged by its masked text', () => {
  assert.deepEqual(serializeError(`cpf ${CPF}`), { type: 'string', message: 'cpf ***4725' });
  assert.deepEqual(serializeError(undefined), { type: 'undefined', message: 'undefined' });
  assert.deepEqual(serializeError(null), { type: 'null', message: 'null' });
  assert.deepEqual(serializeError({ message: `e-mail ${EMAIL}`, rows: [CPF] }), {
    type: 'object',
    message: 'e-mail a***@e***.com',
  });
  assert.deepEqual(serializeError(Object.create(null)), { type: 'object', message: '[unprintable]' });

  const { lines, logger } = capture();
  logger.warn({ err: 42 }, 'odd throw');
  assert.deepEqual((JSON.parse(lines[0]!) as { err: unknown }).err, { type: 'number', message: '42' });
});

test('a provider error is logged with its qualified code, as metrics and stored rows show it', () => {
  const logged = serializeError(new ProviderRateLimitedError('c2s', { status: 429, retryAfterMs: 7000 }));
  assert.deepEqual(logged, {
    type: 'ProviderRateLimitedError',
    code: 'c2s_rate_limited',
    message: 'c2s answered 429',
  });
});
