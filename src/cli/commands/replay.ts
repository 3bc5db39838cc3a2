import { AdminInputError } from '../../admin/errors.ts';
import { isEmptyFilter, type EventFilter } from '../../admin/filter.ts';
import { replayEvents, type RequeueFrom } from '../../admin/requeue.ts';
import { createWaker } from '../../queue/wakeups.ts';
import { defineCommand, flag } from '../command.ts';
import { withDatabase } from '../database.ts';
import { FILTER_DETAILS, FILTER_OPTIONS, FILTER_SYNOPSIS, filterFromArgs } from '../filter-options.ts';
import { createProgress } from '../progress.ts';
import { FROM_DETAILS, FROM_OPTION, fromArgs } from './requeue-options.ts';

interface ReplayInput {
  readonly filter: EventFilter;
  readonly from: RequeueFrom;
  readonly dryRun: boolean;
}

export const replay = defineCommand<ReplayInput>({
  name: 'replay',
  summary: 'queue a class of finished events again (a filter is required)',
  synopsis: `${FILTER_SYNOPSIS} [--from start] [--dry-run]`,
  details: `${FILTER_DETAILS}
${FROM_DETAILS}
  --dry-run           count what would be queued, change nothing
  Only finished events that are the newest of their lead are queued again.`,
  options: { ...FILTER_OPTIONS, ...FROM_OPTION, 'dry-run': { type: 'boolean' } },
  parse(args, now) {
    const filter = filterFromArgs(args, now());
    // The data layer refuses it too; refused here, before the database is opened.
    if (isEmptyFilter(filter))
      throw new AdminInputError(
        'replay needs a filter (--status, --outcome, --lead, --error-code, --hook-action, --since or --until)',
        'empty_filter',
      );
    return { filter, from: fromArgs(args), dryRun: flag(args, 'dry-run') };
  },
  async run({ filter, from, dryRun }, context) {
    const { stdout, stderr } = context;
    const result = await withDatabase(context, async (db) => {
      // A dry run first, so the replay's bar knows its total (and --dry-run is just this).
      const counting = createProgress({ label: 'counting', stream: stderr });
      const counted = await replayEvents(db, {
        filter,
        dryRun: true,
        from,
        onProgress: ({ matched, scheduled }) => counting.update(matched, `${scheduled} eligible`),
      });
      counting.finish();
      // Nothing eligible: a replay would queue nothing either.
      if (dryRun || counted.scheduled === 0) return { ...counted, dry_run: dryRun };
      const replaying = createProgress({ label: 'replaying', total: counted.matched, stream: stderr });
      const replayed = await replayEvents(db, {
        filter,
        dryRun: false,
        from,
        onProgress: ({ matched, scheduled }) => replaying.update(matched, `${scheduled} scheduled`),
      });
      replaying.finish();
      if (replayed.scheduled > 0) await createWaker(db)();
      return replayed;
    });
    const dry = result.dry_run ? ' (dry run)' : '';
    stdout.write(`replay: matched ${result.matched}, scheduled ${result.scheduled}${dry}\n`);
  },
});
