import { reprocessEvent, reprocessRefusal, type RequeueFrom } from '../../admin/requeue.ts';
import { createWaker } from '../../queue/wakeups.ts';
import { defineCommand } from '../command.ts';
import { withDatabase } from '../database.ts';
import { describeFrom, FROM_DETAILS, FROM_OPTION, fromArgs } from './requeue-options.ts';

interface ReprocessInput {
  readonly id: string;
  readonly from: RequeueFrom;
}

export const reprocess = defineCommand<ReprocessInput>({
  name: 'reprocess',
  summary: 'queue one finished event again (the newest of its lead)',
  synopsis: '<id> [--from start]',
  details: FROM_DETAILS,
  positionals: ['id'],
  options: FROM_OPTION,
  parse: (args) => ({ id: args.positionals[0]!, from: fromArgs(args) }),
  async run({ id, from }, context) {
    await withDatabase(context, async (db) => {
      const result = await reprocessEvent(db, id, from);
      if (result !== 'queued') throw reprocessRefusal(result);
      await createWaker(db)();
    });
    context.stdout.write(`reprocess: event ${id} queued ${describeFrom(from)}\n`);
  },
});
