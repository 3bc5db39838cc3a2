import { REQUEUE_FROM, type RequeueFrom } from '../../admin/requeue.ts';
import { choice, type CommandArgs } from '../command.ts';

/** `--from`: where a requeued event's run starts. */
export const FROM_OPTION = { from: { type: 'string' } } as const;

export const FROM_DETAILS = `  --from <where>      failed_step (default: resume at the first step that did not succeed) or start`;

export function fromArgs(args: CommandArgs): RequeueFrom {
  return choice(args, 'from', REQUEUE_FROM, 'failed_step');
}

/** How `from` reads in a summary line. */
export function describeFrom(from: RequeueFrom): string {
  return from === 'start' ? 'from the start' : 'from the failed step';
}
