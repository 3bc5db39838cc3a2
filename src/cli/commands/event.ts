import { eventDetail, type EventDetail, type StepView } from '../../admin/events.ts';
import { CommandFailure, defineCommand } from '../command.ts';
import { withDatabase } from '../database.ts';
import { printTable, type Column } from '../table.ts';
import { formatDuration, formatTime } from '../time.ts';

const STEP_COLUMNS: ReadonlyArray<Column<StepView>> = [
  { header: 'STEP', value: (step) => step.step },
  { header: 'STATUS', value: (step) => step.status },
  { header: 'ATTEMPTS', value: (step) => step.attempts, align: 'right' },
  { header: 'STARTED', value: (step) => formatTime(step.started_at), whole: true },
  { header: 'DURATION', value: (step) => formatDuration(step.duration_ms), align: 'right' },
  { header: 'ERROR', value: (step) => errorText(step.error_code, step.error_message) },
];

/** Stored error messages were scrubbed when written (see the workflow runner). */
function errorText(code: string | null, message: string | null): string | null {
  if (code === null && message === null) return null;
  return [code, message].filter(Boolean).join(': ');
}

function fields(event: EventDetail): string {
  const rows: Array<[string, string | number | null]> = [
    ['lead', event.lead_id],
    ['action', event.hook_action],
    ['status', event.status],
    ['outcome', event.outcome],
    ['attempts', event.attempts],
    ['error', errorText(event.error_code, event.error_message)],
    ['updated', formatTime(event.updated_at)],
    ['received', formatTime(event.received_at)],
    ['finished', formatTime(event.finished_at)],
  ];
  return rows.map(([name, value]) => `${name.padEnd(9)} ${value ?? '-'}\n`).join('');
}

/** `completed (enriched)`, `failed at post_note (c2s_unavailable)`. */
function verdict(event: EventDetail): string {
  if (event.outcome !== null) return `${event.status} (${event.outcome})`;
  const failedStep = event.steps.findLast((step) => step.status === 'failed');
  const at = failedStep ? ` at ${failedStep.step}` : '';
  return `${event.status}${at}${event.error_code ? ` (${event.error_code})` : ''}`;
}

export const event = defineCommand<string>({
  name: 'event',
  summary: 'one event: its step timeline, masked payload and note',
  synopsis: '<id>',
  positionals: ['id'],
  parse: (args) => args.positionals[0]!,
  async run(id, context) {
    // Loaded here: the workflow's module brings its steps and providers, which no other command needs.
    const { ENRICHMENT_STEP_ORDER } = await import('../../enrichment/workflow.ts');
    const detail = await withDatabase(context, (db) => eventDetail(db, id, ENRICHMENT_STEP_ORDER));
    if (!detail) throw new CommandFailure('no event has that id');
    const { stdout } = context;
    stdout.write(`event ${detail.id}\n${fields(detail)}\nsteps\n`);
    if (detail.steps.length > 0) printTable(stdout, STEP_COLUMNS, detail.steps);
    else stdout.write('(none run yet)\n');
    // eventDetail masked the payload (names, CPFs, phones, e-mails).
    const payload =
      detail.payload === null
        ? '(removed by retention or an erasure)'
        : JSON.stringify(detail.payload, null, 2);
    stdout.write(`\npayload (masked)\n${payload}\n\n`);
    const { note } = detail;
    stdout.write(
      note
        ? `note      ${note.ref} ${note.state}${note.sent_at ? ` at ${formatTime(note.sent_at)}` : ''}\n` +
            (note.body === undefined ? '' : `${note.body.replace(/^/gm, '          ')}\n`)
        : 'note      none\n',
    );
    const noteState = note ? `note ${note.state}` : 'no note';
    stdout.write(`event: ${verdict(detail)}, ${detail.steps.length} steps, ${noteState}\n`);
  },
});
