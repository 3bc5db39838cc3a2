import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  maskCpf,
  maskEmailForAdmin,
  maskFreeText,
  maskNameForAdmin,
  maskPayload,
  maskPhoneForAdmin,
} from './masking.ts';

test('a CPF shows its middle digits only, however it is written', () => {
  assert.equal(maskCpf('529.982.247-25'), '***.982.247-**');
  assert.equal(maskCpf('52998224725'), '***.982.247-**');
  assert.equal(maskCpf('5299822472'), '***', 'ten digits are no CPF');
  assert.equal(maskCpf(''), '***');
});

test('an e-mail keeps its first letter and its domain', () => {
  assert.equal(maskEmailForAdmin('ana.lima@example.com'), 'a***@example.com');
  assert.equal(maskEmailForAdmin('Z@mail.example.com.br'), 'Z***@mail.example.com.br');
  // The last @ splits: a quoted local part with an @ shows none of it.
  assert.equal(maskEmailForAdmin('"a@b"@example.com'), '"***@example.com');
  assert.equal(maskEmailForAdmin('not-an-email'), '***');
  assert.equal(maskEmailForAdmin('@example.com'), '***');
});

test('a mobile shows its DDD, the 9 and its last four digits, in every form C2S sends', () => {
  for (const phone of [
    '(11) 98765-4321',
    '11987654321',
    '5511987654321',
    '+55 11 98765-4321',
    '011987654321',
  ])
    assert.equal(maskPhoneForAdmin(phone), '+55 11 9****-4321', phone);
});

test('a landline shows its DDD and last four digits, without a mobile 9', () => {
  assert.equal(maskPhoneForAdmin('(11) 3456-7890'), '+55 11 ****-7890');
  assert.equal(maskPhoneForAdmin('+551134567890'), '+55 11 ****-7890');
});

test('a phone that does not parse shows at most its last four digits', () => {
  assert.equal(maskPhoneForAdmin('99 9999 9999 999'), '****-9999');
  assert.equal(maskPhoneForAdmin('+1 415 555 0100'), '****-0100');
  assert.equal(maskPhoneForAdmin('1234567'), '***', 'too short to show anything');
  assert.equal(maskPhoneForAdmin('não tem'), '***');
});

test('a name is the first name and the initials of the others', () => {
  assert.equal(maskNameForAdmin('Ana Souza Lima'), 'Ana S. L.');
  assert.equal(maskNameForAdmin('  maria   da silva '), 'maria D. S.');
  assert.equal(maskNameForAdmin('Ana'), 'Ana', 'a one-word name is its first name');
  assert.equal(maskNameForAdmin('   '), '');
});

test('free text has its e-mails, CPFs and phones masked, and nothing else', () => {
  const text =
    'Cliente ana.lima@example.com, CPF 529.982.247-25, ligar (11) 98765-4321. Apto 3 quartos, 85 m².';
  assert.equal(
    maskFreeText(text),
    'Cliente a***@example.com, CPF ***.982.247-**, ligar +55 11 9****-4321. Apto 3 quartos, 85 m².',
  );
  assert.equal(maskFreeText('CPF 52998224725 informado'), 'CPF ***.982.247-** informado');
  assert.equal(maskFreeText('ref AP-1234, valor 650000'), 'ref AP-1234, valor 650000');
});

/** A payload as C2S sends it (envelope A), with personal data in every place it may be. */
const PAYLOAD = {
  id: '9f2c3b1a00112233445566778899aabb',
  hook_action: 'on_create_lead',
  attributes: {
    customer: {
      name: 'Ana Souza Lima',
      phone: 5511987654321,
      email: 'ana.lima@example.com',
      cpf: '529.982.247-25',
      phones: ['(11) 3456-7890', { id: 'ph-1', number: '+55 21 99876-5432' }],
    },
    description: 'Cliente pediu retorno em ana.lima@example.com; CPF 52998224725.',
    product: { id: 'p-1', description: '[AP1234] Apartamento 3 quartos', price_float: 650000 },
    seller: { id: 's-3', name: 'Carlos Vendedor', email: 'carlos.vendedor@example.com' },
    lead_source: { id: 542, name: 'Site' },
    customer_id: '12345678901',
    event_uuid: '550e8400-e29b-41d4-a716-446655440000',
    tags: ['vip', 'retorno 11 98765 4321'],
    created_at: '2026-11-20T10:15:00.000-03:00',
    updated_at: '2026-11-20T13:15:00Z',
    confirmed: true,
    archived_at: null,
  },
};

test('maskPayload masks every contact in a nested C2S payload', () => {
  const masked = maskPayload(PAYLOAD) as typeof PAYLOAD;
  const { customer } = masked.attributes;
  assert.equal(customer.name, 'Ana S. L.');
  assert.equal(customer.phone, '+55 11 9****-4321', 'a phone sent as a number is masked');
  assert.equal(customer.email, 'a***@example.com');
  assert.equal(customer.cpf, '***.982.247-**');
  assert.deepEqual(customer.phones, ['+55 11 ****-7890', { id: 'ph-1', number: '+55 21 9****-5432' }]);
  assert.equal(
    masked.attributes.description,
    'Cliente pediu retorno em a***@example.com; CPF ***.982.247-**.',
  );
  assert.deepEqual(masked.attributes.seller, { id: 's-3', name: 'Carlos V.', email: 'c***@example.com' });
  assert.deepEqual(masked.attributes.tags, ['vip', 'retorno +55 11 9****-4321']);
  const text = JSON.stringify(masked);
  for (const raw of ['Souza', 'ana.lima', '98765', '982247', '52998224725', '3456-7890', '99876', 'Vendedor'])
    assert.ok(!text.includes(raw), `${raw} left in ${text}`);
});

test('maskPayload keeps the keys, ids, times, flags and other values', () => {
  const masked = maskPayload(PAYLOAD) as typeof PAYLOAD;
  const shape = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(shape)
      : value !== null && typeof value === 'object'
        ? Object.fromEntries(Object.entries(value).map(([key, child]) => [key, shape(child)]))
        : typeof value;
  const withTextPhone = {
    ...PAYLOAD,
    attributes: { ...PAYLOAD.attributes, customer: { ...PAYLOAD.attributes.customer, phone: 'text' } },
  };
  assert.deepEqual(shape(masked), shape(withTextPhone), 'same keys and types (a number phone becomes text)');
  assert.equal(masked.id, PAYLOAD.id, 'a lead id that has a digit run is an id, not a phone');
  assert.equal(masked.hook_action, 'on_create_lead');
  assert.equal(masked.attributes.customer_id, '12345678901');
  assert.equal(masked.attributes.event_uuid, PAYLOAD.attributes.event_uuid);
  assert.equal(masked.attributes.created_at, PAYLOAD.attributes.created_at);
  assert.equal(masked.attributes.updated_at, PAYLOAD.attributes.updated_at);
  assert.deepEqual(masked.attributes.product, PAYLOAD.attributes.product);
  assert.deepEqual(masked.attributes.lead_source, { id: 542, name: 'Site' });
  assert.equal(masked.attributes.confirmed, true);
  assert.equal(masked.attributes.archived_at, null);
  assert.deepEqual(PAYLOAD.attributes.customer.name, 'Ana Souza Lima', 'the input is left as it was');
});

test('maskPayload takes scalars, nulls, arrays at the top and very deep nesting', () => {
  assert.equal(maskPayload(null), null);
  assert.equal(maskPayload(42), 42);
  assert.equal(maskPayload('ana.lima@example.com'), 'a***@example.com');
  assert.deepEqual(maskPayload([{ email: 'bob@example.org' }, 'x']), [{ email: 'b***@example.org' }, 'x']);
  let deep: unknown = { email: 'deep@example.com' };
  for (let i = 0; i < 200; i++) deep = { next: deep };
  const text = JSON.stringify(maskPayload(deep));
  assert.ok(!text.includes('deep@'), 'nothing below the depth bound is shown raw');
});
