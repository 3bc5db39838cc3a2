// Applies retention now, as the service does every hour: finished events' payloads and step
// outputs, rejected input, people not seen for their period. Prints counts only.
import { parseInstant } from '../../admin/filter.ts';
import { purge as purgeNow, type PurgeKind } from '../../lifecycle/retention.ts';
import { CommandFailure, defineCommand, text, UsageError } from '../command.ts';
import { withDatabase } from '../database.ts';
import { createProgress, type Progress } from '../progress.ts';
import { instantArgument } from '../time.ts';

interface PurgeInput {
  /** The events' and rejected input's cut-off; undefined: now − RETENTION_DAYS. */
  readonly before: Date | undefined;
}

const DAY_MS = 86_400_000;

const LABELS: Record<PurgeKind, string> = {
  event_payloads: 'blanking event payloads',
  rejected_inputs: 'deleting rejected inputs',
  dry_run_notes: 'deleting dry-run note texts',
  people: 'deleting people',
};

export const purge = defineCommand<PurgeInput>({
  name: 'purge',
  summary: 'apply retention now: old payloads, step outputs, rejected input, people not seen',
  synopsis: '[--before <RFC 3339 | 7d>]',
  details: `  --before <time>  cut-off for events and rejected input (default: now - RETENTION_DAYS);
                   an RFC 3339 date-time, or 30d / 12h before now. People always use
                   now - PEOPLE_RETENTION_DAYS.
  Finished events received before the cut-off lose their raw payload and step outputs (the
  rows stay); rejected input before it is deleted. The service does the same every hour.`,
  options: { before: { type: 'string' } },
  parse(args, now) {
    const raw = text(args, 'before');
    if (raw === undefined) return { before: undefined };
    const at = new Date(parseInstant('--before', instantArgument('before', raw, now())).getTime());
    if (at.getTime() > now().getTime()) throw new UsageError('--before must not be in the future');
    return { before: at };
  },
  async run({ before }, context) {
    const { stdout, stderr, config } = context;
    const now = context.now().getTime();
    // One progress line per kind, each finished before the next starts.
    let current: { kind: PurgeKind; bar: Progress } | undefined;
    const result = await withDatabase(context, (db) =>
      purgeNow(db, {
        eventsBefore: before ?? new Date(now - config.retention.eventDays * DAY_MS),
        peopleBefore: new Date(now - config.retention.peopleDays * DAY_MS),
        onProgress: ({ kind, done }) => {
          if (current?.kind !== kind) {
            current?.bar.finish();
            current = { kind, bar: createProgress({ label: LABELS[kind], stream: stderr }) };
          }
          current.bar.update(done);
        },
      }),
    );
    current?.bar.finish();
    if (result.skipped)
      throw new CommandFailure('another purge is running (the service purges every hour); try again later');
    stdout.write(
      `purge: ${result.event_payloads} events blanked, ${result.rejected_inputs} rejected inputs deleted, ` +
        `${result.dry_run_notes} dry-run notes deleted, ${result.people} people deleted\n`,
    );
  },
});
