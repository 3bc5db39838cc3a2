import assert from 'node:assert/strict';
import { test } from 'node:test';
import { enrichmentWorkflow } from '../src/enrichment/workflow.ts';
import { startEnrichment } from './helpers/enrichment.ts';
import { runCommand } from './helpers/process.ts';
import { adminRequest, startService } from './helpers/service.ts';
import { settled } from './helpers/workflow.ts';

const ENRICHED = [
  'cpf_in_description',
  'phone_only',
  'email_only',
  'same_person',
  'different_people',
] as const;

test('DRY_RUN runs everything but the post; a replay with it off posts each kept note exactly once', async (t) => {
  const rig = await startEnrichment(t, { DRY_RUN: 'true' });
  const leads = ENRICHED.map((scenario) => rig.lead(scenario));
  await rig.service.post(leads.map((lead) => lead.event));
  const db = rig.service.db;
  await settled(db);
  // An update of one lead with the same contacts: `unchanged`, as it would be had the note gone out.
  await rig.service.post(
    rig.lead('phone_only', { leadId: leads[1]!.leadId, updatedAt: '2026-11-20T11:00:00.000-03:00' }).event,
  );
  await settled(db);

  // Nothing reached C2S; every event has its normal outcome; each note is kept with its text.
  assert.equal(rig.c2s.calls('create_message'), 0);
  assert.deepEqual(rig.c2s.notes(), []);
  const { rows: events } = await db.pool.query<{ id: string; lead_id: string; outcome: string }>(
    `SELECT id, lead_id, outcome FROM webhook_events ORDER BY lead_id, updated_at`,
  );
  assert.deepEqual(
    events.map((event) => event.outcome),
    events.map((event) =>
      event.lead_id === leads[1]!.leadId && event !== events.find((e) => e.lead_id === event.lead_id)
        ? 'unchanged'
        : 'enriched',
    ),
  );
  const kept = new Map<string, string>();
  for (const lead of leads) {
    const event = events.find((e) => e.lead_id === lead.leadId)!;
    const detail = await adminRequest(rig.service.url, 'GET', `/events/${event.id}`);
    assert.equal(detail.status, 200);
    assert.equal(detail.body.note.state, 'dry_run');
    assert.equal(detail.body.note.sent_at, null);
    assert.match(detail.body.note.body, new RegExp(`ref: ${detail.body.note.ref}$`));
    kept.set(lead.leadId, detail.body.note.body);
  }
  // The command line shows the kept text too, and lists the day's enriched events to compare.
  const env = { DB_URL: db.url };
  const shown = await runCommand(['event', events[0]!.id], env);
  assert.equal(shown.code, 0, shown.stderr);
  assert.ok(shown.stdout.includes('dry_run'), shown.stdout);
  const listed = await runCommand(['events', '--outcome', 'enriched'], env);
  assert.match(listed.stdout, /events: 5 shown, no more\n$/);

  // Dry run off: events already completed post nothing by themselves.
  await rig.service.stop();
  const live = await startService(t, {
    db,
    role: 'all',
    workflow: enrichmentWorkflow,
    env: { ...rig.env, DRY_RUN: 'false' },
  });
  await settled(db);
  assert.equal(rig.c2s.calls('create_message'), 0);

  // A replay posts them: one note per lead, the text the dry run kept. A lead's latest event is
  // replayed (an older one is not the latest): `enriched` ones, then those the dry run found
  // `unchanged` (their lead's note was kept by an earlier event).
  const replay = async (outcome: string) => {
    const answer = await adminRequest(live.url, 'POST', '/replay', {
      filter: { status: 'completed', outcome },
      from: 'start',
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    await settled(db);
    return answer.body.scheduled as number;
  };
  assert.equal(await replay('enriched'), 4);
  assert.equal(await replay('unchanged'), 1);
  for (const lead of leads) {
    const notes = rig.c2s.notes(lead.leadId);
    assert.equal(notes.length, 1, lead.leadId);
    assert.equal(notes[0]!.body, kept.get(lead.leadId));
  }
  const { rows: ledger } = await db.pool.query(`SELECT DISTINCT state, body IS NULL AS no_text FROM notes`);
  assert.deepEqual(ledger, [{ state: 'sent', no_text: true }]);

  // A second replay posts nothing more.
  await adminRequest(live.url, 'POST', '/replay', {
    filter: { status: 'completed', outcome: 'enriched' },
    from: 'start',
  });
  await settled(db);
  assert.equal(rig.c2s.calls('create_message'), 5);
});
