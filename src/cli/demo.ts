// `npm run demo [-- <base-url>]`: posts the sample leads to a running service (demo mode) and
// prints, per lead, the outcome and the note the simulated C2S received.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { environmentWithDotenv, loadConfig } from '../config.ts';
import { withDatabase } from './database.ts';
import { createLogger } from '../log/logger.ts';
import { readRuntime } from '../runtime.ts';
import { createPopulation } from '../simulators/population.ts';
import { WEBHOOK_PATH } from '../webhooks/routes.ts';

const config = loadConfig(environmentWithDotenv());
const runtime = readRuntime(config.dataDir);
const baseUrl = (process.argv[2] ?? runtime?.address ?? `http://127.0.0.1:${config.http.port}`).replace(
  '0.0.0.0',
  '127.0.0.1',
);
const secretFile = join(config.dataDir, 'webhook-secret');
const secret =
  config.webhook.secrets[0] ?? (existsSync(secretFile) ? readFileSync(secretFile, 'utf8').trim() : undefined);
if (!secret) {
  process.stderr.write(
    'no WEBHOOK_SECRET and no generated secret in the data directory: start the service first (npm start)\n',
  );
  process.exit(2);
}

// Fresh lead ids each run, so every run shows the whole flow (a rerun with the same ids would
// rightly answer `unchanged`).
const run = Date.now().toString(36).slice(-5);
const now = new Date().toISOString();
const leads = createPopulation({ seed: 42 })
  .sampleLeads()
  .map((lead) => ({
    scenario: lead.scenario,
    leadId: `${lead.leadId}-${run}`,
    event: {
      id: `${lead.leadId}-${run}`,
      hook_action: 'on_create_lead',
      attributes: { ...lead.attributes, updated_at: now },
    },
  }));

const response = await fetch(`${baseUrl}${WEBHOOK_PATH}`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', 'x-webhook-token': secret },
  body: JSON.stringify(leads.map((lead) => lead.event)),
});
if (response.status !== 200) {
  process.stderr.write(`the service answered ${response.status}: ${await response.text()}\n`);
  process.exit(1);
}
process.stdout.write(`posted ${leads.length} sample leads to ${baseUrl}; waiting for their notes…\n\n`);

await withDatabase({ config, logger: createLogger('warn') }, async (db) => {
  const ids = leads.map((lead) => lead.leadId);
  let rows: Array<{
    lead_id: string;
    status: string;
    outcome: string | null;
    error_code: string | null;
    note: string | null;
  }> = [];
  for (let waited = 0; waited < 60_000; waited += 250) {
    ({ rows } = await db.query(
      `SELECT e.lead_id, e.status, e.outcome, e.error_code, s.output->'output'->>'body' AS note
       FROM webhook_events e LEFT JOIN event_steps s ON s.event_id = e.id AND s.step = 'compose_note'
       WHERE e.lead_id = ANY($1::text[])`,
      [ids],
    ));
    if (rows.length === ids.length && rows.every((row) => ['completed', 'failed'].includes(row.status)))
      break;
    await sleep(250);
  }
  for (const lead of leads) {
    const row = rows.find((r) => r.lead_id === lead.leadId);
    const outcome = row
      ? (row.outcome ?? `${row.status}${row.error_code ? ` (${row.error_code})` : ''}`)
      : 'not stored';
    process.stdout.write(`── ${lead.scenario} · lead ${lead.leadId} · ${outcome}\n`);
    const note = await receivedNote(lead.leadId, row?.note ?? null);
    process.stdout.write(note ? `${note}\n\n` : '(no note)\n\n');
  }
});

/** The note as the simulated C2S received it; the composed text when the simulator is not ours to ask. */
async function receivedNote(leadId: string, composed: string | null): Promise<string | null> {
  const simulator = runtime?.simulators.c2s;
  if (!simulator) return composed;
  const answer = (await (
    await fetch(`${simulator}/_sim/notes?lead_id=${encodeURIComponent(leadId)}`)
  ).json()) as {
    notes: Array<{ body: string }>;
  };
  return answer.notes.map((note) => note.body).join('\n\n') || null;
}
