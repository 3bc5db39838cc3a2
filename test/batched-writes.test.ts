// People writes batched across runs: each run in a batch is fenced on its own, and stores of one
// CPF in a batch end as if written one after the other.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { recordEnrichments, storePeople } from '../src/enrichment/people-repository.ts';
import { claimNotes } from '../src/notes/ledger.ts';
import { legacyRef, noteRef } from '../src/notes/reference.ts';
import type { Dossier } from '../src/people/types.ts';
import { startAttempts, type Attempt, type Fence } from '../src/queue/claims.ts';
import { freshDatabase } from './helpers/database.ts';
import { leadEvent, startService } from './helpers/service.ts';

function fenceOf(attempt: Attempt | undefined): Fence {
  assert.ok(attempt?.kind === 'run', `expected a run, got ${attempt?.kind}`);
  return attempt.fence;
}

function dossier(cpf: string, fields: Partial<Dossier> = {}): Dossier {
  return {
    cpf,
    name: 'Ana Souza',
    birthDate: '1980-01-02',
    sex: 'F',
    motherName: 'Maria Souza',
    maritalStatus: null,
    registrationStatus: 'REGULAR',
    income: 1000,
    purchasingPower: null,
    incomeBand: null,
    creditScore: 500,
    riskBand: null,
    profession: null,
    phones: [],
    emails: [],
    addresses: [],
    companies: [],
    ...fields,
  };
}

/**
 * Runs of lead-1 and lead-2 (worker A), and of lead-3 twice: its first attempt, stalled (worker
 * A, lease run out, so fenced), and the attempt that took it over (worker B).
 */
async function runs(t: TestContext) {
  const db = await freshDatabase(t);
  const api = await startService(t, { db, role: 'api' });
  const at = '2026-11-20T10:00:00Z';
  await api.post([leadEvent('lead-1', at), leadEvent('lead-2', at), leadEvent('lead-3', at)]);
  const fences = (await startAttempts(db.pool, { workerId: 'worker-a', seconds: 30 }, 3, 60)).map(fenceOf);
  const leadOf = async (fence: Fence) =>
    (await db.pool.query(`SELECT lead_id FROM webhook_events WHERE id = $1`, [fence.eventId])).rows[0]
      .lead_id as string;
  const byLead = new Map<string, Fence>();
  for (const fence of fences) byLead.set(await leadOf(fence), fence);
  await db.pool.query(
    `UPDATE webhook_events SET due_at = now() - interval '1 second' WHERE lead_id = 'lead-3'`,
  );
  const current = fenceOf((await startAttempts(db.pool, { workerId: 'worker-b', seconds: 30 }, 1, 60))[0]);
  assert.equal(current.eventId, byLead.get('lead-3')!.eventId);
  return {
    db,
    one: byLead.get('lead-1')!,
    two: byLead.get('lead-2')!,
    stale: byLead.get('lead-3')!,
    current,
  };
}

const X = '11111111111';
const Y = '22222222222';
const Z = '33333333333';

test('a batch of people stores: the fenced run writes nothing, two stores of one CPF merge', async (t) => {
  const { db, one, two, stale, current } = await runs(t);
  const written = await storePeople(db.pool, [
    {
      dossier: dossier(X, {
        name: 'Ana Velha',
        profession: 'first',
        phones: [{ number: '11987650001', type: 'celular', carrier: null, whatsapp: true }],
        emails: [{ email: 'ana@example.com', priority: 'alta', quality: null }],
        addresses: [
          {
            street: 'R A',
            number: '1',
            complement: null,
            district: 'X',
            city: 'Santos',
            state: 'SP',
            zip: '01000000',
          },
        ],
        companies: [{ cnpj: '12345678000199', relation: 'socio' }],
      }),
      link: { leadId: 'lead-1', phone: '11900000001' },
      fence: one,
    },
    // The stalled attempt of lead-3, in the same batch as the attempt that took it over.
    { dossier: dossier(Y, { name: 'Stale' }), link: { leadId: 'lead-3' }, fence: stale },
    {
      dossier: dossier(X, {
        name: 'Ana Nova',
        profession: 'second',
        phones: [
          { number: '11987650001', type: null, carrier: null, whatsapp: false },
          { number: '11987650002', type: 'fixo', carrier: null, whatsapp: false },
        ],
        addresses: [
          {
            street: 'R A',
            number: '1',
            complement: null,
            district: 'Y',
            city: 'São Paulo',
            state: 'SP',
            zip: '01000000',
          },
        ],
        companies: [{ cnpj: '12345678000199', relation: 'administrador' }],
      }),
      // The lead's own phone is one the dossier gave: it is marked as the lead's.
      link: { leadId: 'lead-2', phone: '11987650001' },
      fence: two,
    },
    { dossier: dossier(Z, { name: 'Current' }), link: { leadId: 'lead-3' }, fence: current },
  ]);
  assert.deepEqual(written, [true, false, true, true]);

  const query = async (sql: string) => (await db.pool.query(sql)).rows;
  assert.deepEqual(await query(`SELECT cpf, name, profession FROM people.parties ORDER BY cpf`), [
    { cpf: X, name: 'Ana Nova', profession: 'second' },
    { cpf: Z, name: 'Current', profession: null },
  ]);
  assert.deepEqual(
    await query(`SELECT p.cpf, l.lead_id FROM people.party_leads l JOIN people.parties p ON p.id = l.party_id
                 ORDER BY 1, 2`),
    [
      { cpf: X, lead_id: 'lead-1' },
      { cpf: X, lead_id: 'lead-2' },
      { cpf: Z, lead_id: 'lead-3' },
    ],
  );
  assert.deepEqual(
    await query(`SELECT kind, value, whatsapp, label, source FROM people.contacts ORDER BY kind, value`),
    [
      { kind: 'email', value: 'ana@example.com', whatsapp: false, label: 'alta', source: 'dossier' },
      { kind: 'phone', value: '11900000001', whatsapp: false, label: null, source: 'lead' },
      { kind: 'phone', value: '11987650001', whatsapp: true, label: 'celular', source: 'lead' },
      { kind: 'phone', value: '11987650002', whatsapp: false, label: 'fixo', source: 'dossier' },
    ],
  );
  assert.deepEqual(await query(`SELECT district, city FROM people.addresses`), [
    { district: 'Y', city: 'São Paulo' },
  ]);
  assert.deepEqual(await query(`SELECT relation FROM people.companies`), [{ relation: 'administrador' }]);
});

test('a batch of enrichments: the fenced run records nothing, two of one CPF keep the last', async (t) => {
  const { db, one, two, stale } = await runs(t);
  const written = await recordEnrichments(db.pool, [
    { dossier: dossier(X, { name: 'Bia', profession: 'first' }), fence: one },
    { dossier: dossier(Y, { name: 'Stale' }), fence: stale },
    { dossier: dossier(X, { name: null, profession: 'second' }), fence: two },
  ]);
  assert.deepEqual(written, [true, false, true]);
  const { rows } = await db.pool.query(
    `SELECT p.cpf, p.name, e.quality, e.dossier->>'profession' AS profession
     FROM people.parties p LEFT JOIN people.enrichments e ON e.party_id = p.id ORDER BY p.cpf`,
  );
  // The name a later dossier lacks is kept; the dossier is the last one fetched.
  assert.deepEqual(rows, [{ cpf: X, name: 'Bia', quality: 'partial', profession: 'second' }]);
});

test('a batch of note claims: each attempt answered as if alone, one claimant per note', async (t) => {
  const { db, one, two, stale, current } = await runs(t);
  const windows = { inFlightMs: 60_000, unknownWaitMs: 60_000 };
  const ask = (leadId: string, fence: Fence, key = 'k') => {
    const ref = noteRef(leadId, key);
    return { leadId, ref, legacyRef: legacyRef(ref), fence };
  };
  // lead-2's note was kept under DRY_RUN: never posted, so claimed, not taken over.
  await db.pool.query(
    `INSERT INTO notes (lead_id, ref, event_id, state, body) VALUES ('lead-2', $1, $2, 'dry_run', 'text')`,
    [noteRef('lead-2', 'k'), two.eventId],
  );
  const claims = await claimNotes(
    db.pool,
    [
      ask('lead-1', one),
      ask('lead-3', stale), // the stalled attempt, then the one that took its event over
      ask('lead-3', current),
      ask('lead-2', two),
      ask('lead-1', one), // the same note twice: one claim, the other waits on it
    ],
    windows,
  );
  assert.deepEqual(claims, [
    { kind: 'claimed' },
    { kind: 'fenced' },
    { kind: 'claimed' },
    { kind: 'claimed' },
    { kind: 'wait', state: 'pending', waitMs: windows.inFlightMs },
  ]);
  const { rows } = await db.pool.query(
    `SELECT lead_id, claimed_by, claim_attempt, state, body FROM notes ORDER BY lead_id`,
  );
  assert.deepEqual(rows, [
    { lead_id: 'lead-1', claimed_by: 'worker-a', claim_attempt: one.attempt, state: 'pending', body: null },
    { lead_id: 'lead-2', claimed_by: 'worker-a', claim_attempt: two.attempt, state: 'pending', body: null },
    {
      lead_id: 'lead-3',
      claimed_by: 'worker-b',
      claim_attempt: current.attempt,
      state: 'pending',
      body: null,
    },
  ]);
  // Asked again at once: lead-2's note is in flight, so its attempt waits; the stalled one is fenced.
  assert.deepEqual(
    (await claimNotes(db.pool, [ask('lead-3', stale), ask('lead-2', two)], windows)).map(
      (claim) => claim.kind,
    ),
    ['fenced', 'wait'],
  );
});
