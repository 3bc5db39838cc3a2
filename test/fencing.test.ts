// Fencing: a run that lost its lease changes nothing; note claims keep a possibly in-flight post
// from being answered by a second one; a poison event ends after the attempt limit.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { checkLeads } from '../src/enrichment/lead-checks.ts';
import { claimNote, setNoteStates } from '../src/notes/ledger.ts';
import { legacyRef, noteRef } from '../src/notes/reference.ts';
import {
  finishAttempts,
  renewLeases,
  startAttempts,
  type Attempt,
  type AttemptEnd,
  type Fence,
  type Lease,
} from '../src/queue/claims.ts';
import { recordCheckpoints, type StepRecord } from '../src/workflow/checkpoints.ts';
import type { Step } from '../src/workflow/runner.ts';
import { freshDatabase, type TestDatabase } from './helpers/database.ts';
import { leadEvent, startService } from './helpers/service.ts';
import { settled, stepRows } from './helpers/workflow.ts';

const workerA: Lease = { workerId: 'worker-a', seconds: 30 };
const workerB: Lease = { workerId: 'worker-b', seconds: 30 };
const windows = { inFlightMs: 60_000, unknownWaitMs: 60_000 };

function fenceOf(attempt: Attempt | undefined): Fence {
  assert.ok(attempt?.kind === 'run', `expected a run, got ${attempt?.kind}`);
  return attempt.fence;
}

/** Lets the leases of `workerId` run out, as if it had stalled. */
async function expireLeases(db: TestDatabase, workerId: string): Promise<void> {
  await db.pool.query(
    `UPDATE webhook_events SET due_at = now() - interval '1 second' WHERE claimed_by = $1`,
    [workerId],
  );
}

async function oneEvent(t: TestContext, leadId = 'lead-f') {
  const db = await freshDatabase(t);
  const api = await startService(t, { db, role: 'api' });
  await api.post(leadEvent(leadId, '2026-11-20T10:00:00Z'));
  return db;
}

test('renewal reports which leases the worker still holds; a taken-over one is missing', async (t) => {
  const db = await oneEvent(t);
  const a = fenceOf((await startAttempts(db.pool, workerA, 1, 60))[0]);
  assert.deepEqual([...(await renewLeases(db.pool, workerA, [a.eventId])).renewed], [a.eventId]);
  await expireLeases(db, 'worker-a');
  const b = fenceOf((await startAttempts(db.pool, workerB, 1, 60))[0]);
  assert.equal(b.eventId, a.eventId);
  assert.equal(b.attempt, a.attempt + 1);
  assert.deepEqual(
    [...(await renewLeases(db.pool, workerA, [a.eventId])).lost],
    [a.eventId],
    'worker-a lost it',
  );
  assert.deepEqual([...(await renewLeases(db.pool, workerB, [b.eventId])).renewed], [b.eventId]);
});

test("a lost lease's late writes change nothing: checkpoints, attempt end, note claim and state", async (t) => {
  const db = await oneEvent(t);
  const writer = {
    recordSteps: async (entry: { fence: Fence; records: StepRecord[] }) =>
      (await recordCheckpoints(db.pool, [entry]))[0],
    endAttempt: async (end: AttemptEnd) => (await finishAttempts(db.pool, [end]))[0],
  };
  const a = fenceOf((await startAttempts(db.pool, workerA, 1, 60))[0]);
  const step = (name: string) => ({
    step: name,
    status: 'succeeded' as const,
    startedAt: new Date(),
    durationMs: 5,
    result: { v: 1, output: { by: 'a' } },
  });
  assert.equal(await writer.recordSteps({ fence: a, records: [step('find_cpf')] }), true, 'held: written');
  const ref = noteRef('lead-f', 'k');
  assert.deepEqual(
    await claimNote(db.pool, { leadId: 'lead-f', ref, legacyRef: legacyRef(ref), fence: a }, windows),
    {
      kind: 'claimed',
    },
  );

  // worker-a stalls; worker-b takes the event over, and the note claim once its window is past.
  await expireLeases(db, 'worker-a');
  const b = fenceOf((await startAttempts(db.pool, workerB, 1, 60))[0]);
  await db.pool.query(`UPDATE notes SET claimed_at = now() - interval '61 seconds'`);
  assert.deepEqual(
    await claimNote(db.pool, { leadId: 'lead-f', ref, legacyRef: legacyRef(ref), fence: b }, windows),
    { kind: 'taken_over' },
  );
  const before = await db.pool.query(`SELECT * FROM webhook_events`);
  const stepsBefore = await stepRows(db, a.eventId);
  const notesBefore = await db.pool.query(`SELECT * FROM notes`);

  // worker-a comes back and writes as if nothing had happened.
  assert.equal(await writer.recordSteps({ fence: a, records: [step('fetch_dossier')] }), false);
  assert.equal(
    await writer.endAttempt({
      fence: a,
      ending: { kind: 'completed', outcome: 'enriched' },
      records: [step('post_note')],
    }),
    false,
  );
  assert.deepEqual(await setNoteStates(db.pool, [{ leadId: 'lead-f', ref, state: 'sent', fence: a }]), [
    false,
  ]);
  assert.deepEqual(
    await claimNote(
      db.pool,
      { leadId: 'lead-f', ref: noteRef('lead-f', 'other'), legacyRef: 'x', fence: a },
      windows,
    ),
    { kind: 'fenced' },
  );

  assert.deepEqual(
    (await db.pool.query(`SELECT * FROM webhook_events`)).rows,
    before.rows,
    'event untouched',
  );
  assert.deepEqual(await stepRows(db, a.eventId), stepsBefore, 'no checkpoint written');
  assert.deepEqual((await db.pool.query(`SELECT * FROM notes`)).rows, notesBefore.rows, 'ledger untouched');

  // The new holder's writes go through.
  assert.equal(await writer.recordSteps({ fence: b, records: [step('fetch_dossier')] }), true);
  assert.equal(
    await writer.endAttempt({ fence: b, ending: { kind: 'completed', outcome: 'enriched' }, records: [] }),
    true,
  );
  const { rows } = await db.pool.query(`SELECT status, outcome, claimed_by FROM webhook_events`);
  assert.deepEqual(rows, [{ status: 'completed', outcome: 'enriched', claimed_by: null }]);
});

test('until its note claim is taken over, a stalled claimant may still record what its POST did', async (t) => {
  const db = await oneEvent(t);
  const a = fenceOf((await startAttempts(db.pool, workerA, 1, 60))[0]);
  const ref = noteRef('lead-f', 'k');
  await claimNote(db.pool, { leadId: 'lead-f', ref, legacyRef: legacyRef(ref), fence: a }, windows);
  await expireLeases(db, 'worker-a');
  const b = fenceOf((await startAttempts(db.pool, workerB, 1, 60))[0]);
  // worker-a's POST landed while it was frozen: the fact is recorded, and worker-b need not look.
  assert.deepEqual(await setNoteStates(db.pool, [{ leadId: 'lead-f', ref, state: 'sent', fence: a }]), [
    true,
  ]);
  assert.deepEqual(
    await claimNote(db.pool, { leadId: 'lead-f', ref, legacyRef: legacyRef(ref), fence: b }, windows),
    { kind: 'sent' },
  );
  // Nothing moves a note back from sent.
  assert.deepEqual(await setNoteStates(db.pool, [{ leadId: 'lead-f', ref, state: 'unknown', fence: a }]), [
    false,
  ]);
});

test('a note claimed by another attempt waits out the in-flight window, then is taken over', async (t) => {
  const db = await oneEvent(t);
  const a = fenceOf((await startAttempts(db.pool, workerA, 1, 60))[0]);
  const ref = noteRef('lead-f', 'k');
  const note = (fence: Fence) => ({ leadId: 'lead-f', ref, legacyRef: legacyRef(ref), fence });
  assert.equal((await claimNote(db.pool, note(a), windows)).kind, 'claimed');

  await expireLeases(db, 'worker-a');
  const b = fenceOf((await startAttempts(db.pool, workerB, 1, 60))[0]);
  const wait = await claimNote(db.pool, note(b), windows);
  assert.equal(wait.kind, 'wait');
  assert.ok(
    wait.kind === 'wait' && wait.state === 'pending' && wait.waitMs > 55_000 && wait.waitMs <= 60_000,
  );

  // The claim ages past the window: worker-b takes it over (and must read the lead first).
  await db.pool.query(`UPDATE notes SET claimed_at = now() - interval '61 seconds'`);
  assert.deepEqual(await claimNote(db.pool, note(b), windows), { kind: 'taken_over' });
  const { rows } = await db.pool.query(`SELECT claimed_by, claim_attempt, state FROM notes`);
  assert.deepEqual(rows, [{ claimed_by: 'worker-b', claim_attempt: b.attempt, state: 'pending' }]);
  assert.deepEqual(await setNoteStates(db.pool, [{ leadId: 'lead-f', ref, state: 'sent', fence: b }]), [
    true,
  ]);
  assert.deepEqual(await claimNote(db.pool, note(b), windows), { kind: 'sent' });
});

test('after an unknown outcome the lead is not read before the wait', async (t) => {
  const db = await oneEvent(t);
  const a = fenceOf((await startAttempts(db.pool, workerA, 1, 60))[0]);
  const ref = noteRef('lead-f', 'k');
  const note = (fence: Fence) => ({ leadId: 'lead-f', ref, legacyRef: legacyRef(ref), fence });
  await claimNote(db.pool, note(a), windows);
  assert.deepEqual(await setNoteStates(db.pool, [{ leadId: 'lead-f', ref, state: 'unknown', fence: a }]), [
    true,
  ]);
  // The attempt ends (retry); the next one comes before the wait is over.
  await db.pool.query(`UPDATE webhook_events SET claimed_by = NULL, due_at = now()`);
  const next = fenceOf((await startAttempts(db.pool, workerA, 1, 60))[0]);
  const wait = await claimNote(db.pool, note(next), windows);
  assert.ok(wait.kind === 'wait' && wait.state === 'unknown' && wait.waitMs > 55_000, JSON.stringify(wait));
  await db.pool.query(`UPDATE notes SET updated_at = now() - interval '61 seconds'`);
  assert.deepEqual(await claimNote(db.pool, note(next), windows), { kind: 'taken_over' });
  // The taker may be posting now: the next attempt waits out a whole in-flight window again.
  await db.pool.query(`UPDATE webhook_events SET claimed_by = NULL, due_at = now()`);
  const after = fenceOf((await startAttempts(db.pool, workerB, 1, 60))[0]);
  const again = await claimNote(db.pool, note(after), windows);
  assert.ok(
    again.kind === 'wait' && again.state === 'pending' && again.waitMs > 55_000,
    JSON.stringify(again),
  );
});

test('notes posted under the old short reference are still recognised', async (t) => {
  const db = await oneEvent(t);
  const ref = noteRef('lead-f', 'k');
  // A ledger row from before references grew: 8 hex digits, sent.
  await db.pool.query(`INSERT INTO notes (lead_id, ref, state) VALUES ('lead-f', $1, 'sent')`, [
    legacyRef(ref),
  ]);
  const sent = async (leadId: string) =>
    (await checkLeads(db.pool, [{ leadId, refs: [ref, legacyRef(ref)], digests: [] }], ['sent']))[0]!.sent;
  assert.equal(await sent('lead-f'), true);
  assert.equal(await sent('lead-other'), false);

  // An old row still open (unknown): the lead is read before the new reference is posted.
  await db.pool.query(`UPDATE notes SET state = 'unknown'`);
  const a = fenceOf((await startAttempts(db.pool, workerA, 1, 60))[0]);
  assert.deepEqual(
    await claimNote(db.pool, { leadId: 'lead-f', ref, legacyRef: legacyRef(ref), fence: a }, windows),
    {
      kind: 'taken_over',
    },
  );
});

test('two leads with the same reference have a ledger row each', async (t) => {
  const db = await freshDatabase(t);
  const api = await startService(t, { db, role: 'api' });
  await api.post([leadEvent('lead-1', '2026-11-20T10:00:00Z'), leadEvent('lead-2', '2026-11-20T10:00:00Z')]);
  const [one, two] = (await startAttempts(db.pool, workerA, 2, 60)).map(fenceOf);
  const leadOf = async (fence: Fence) =>
    (await db.pool.query(`SELECT lead_id FROM webhook_events WHERE id = $1`, [fence.eventId])).rows[0]
      .lead_id;
  const ref = 'enr-0123456789abcdef'; // the same reference on both (a collision, forced)
  for (const fence of [one!, two!]) {
    const claim = await claimNote(
      db.pool,
      { leadId: await leadOf(fence), ref, legacyRef: legacyRef(ref), fence },
      windows,
    );
    assert.deepEqual(claim, { kind: 'claimed' }, 'each lead claims its own note');
  }
  const { rows } = await db.pool.query(`SELECT lead_id FROM notes ORDER BY lead_id`);
  assert.deepEqual(
    rows.map((row) => row.lead_id),
    ['lead-1', 'lead-2'],
  );
});

test('a poison event, taken again and again without finishing, ends failed after the attempt limit', async (t) => {
  const db = await oneEvent(t);
  // Three workers in turn take it and die with it (their leases run out).
  for (const worker of ['w1', 'w2', 'w3']) {
    const [attempt] = await startAttempts(db.pool, { workerId: worker, seconds: 30 }, 1, 3);
    assert.equal(attempt?.kind, 'run');
    await expireLeases(db, worker);
  }
  const [last] = await startAttempts(db.pool, { workerId: 'w4', seconds: 30 }, 1, 3);
  assert.equal(last?.kind, 'exhausted');
  const { rows } = await db.pool.query(
    `SELECT status, attempts, error_code, error_message, claimed_by, processed_at IS NOT NULL AS processed FROM webhook_events`,
  );
  assert.equal(rows[0].status, 'failed');
  assert.equal(rows[0].attempts, 3);
  assert.equal(rows[0].error_code, 'attempts_exhausted');
  assert.match(rows[0].error_message, /taken 3 times without finishing/);
  assert.equal(rows[0].claimed_by, null);
  assert.equal(rows[0].processed, true);
  assert.deepEqual(await startAttempts(db.pool, workerA, 1, 3), [], 'never taken again');
});

test('a worker running a poison event: the event fails with attempts_exhausted and later events run', async (t) => {
  const db = await freshDatabase(t);
  const api = await startService(t, { db, role: 'api' });
  // The event was already taken twice by workers that died running it.
  await api.post(leadEvent('lead-poison', '2026-11-20T10:00:00Z'));
  for (const worker of ['w1', 'w2']) {
    await startAttempts(db.pool, { workerId: worker, seconds: 30 }, 1, 2);
    await expireLeases(db, worker);
  }
  await api.post(leadEvent('lead-fine', '2026-11-20T10:00:00Z'));
  const ran: string[] = [];
  const step: Step = {
    name: 'work',
    async run({ event }) {
      ran.push(event.leadId);
      return {};
    },
  };
  await startService(t, { db, role: 'worker', env: { RETRY_MAX_ATTEMPTS: '2' }, workflow: () => [step] });
  const states = await settled(db);
  assert.deepEqual(
    states.map((s) => [s.lead_id, s.status, s.error_code]),
    [
      ['lead-fine', 'completed', null],
      ['lead-poison', 'failed', 'attempts_exhausted'],
    ],
  );
  assert.deepEqual(ran, ['lead-fine'], 'the poison event did not run a third time');
});
