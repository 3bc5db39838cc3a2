import type { ParseArgsOptionsConfig } from 'node:util';
import { AdminInputError } from '../admin/errors.ts';
import {
  EVENT_OUTCOMES,
  EVENT_STATUSES,
  HOOK_ACTIONS,
  parseFilter,
  type EventFilter,
} from '../admin/filter.ts';
import { text, type CommandArgs } from './command.ts';
import { instantArgument } from './time.ts';

/** The event filter's flags, shared by `events` and `replay`. */
export const FILTER_OPTIONS = {
  status: { type: 'string' },
  outcome: { type: 'string' },
  lead: { type: 'string' },
  'error-code': { type: 'string' },
  'hook-action': { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;

export const FILTER_SYNOPSIS =
  '[--status <s>] [--outcome <o>] [--lead <lead id>] [--error-code <code>] [--hook-action <a>] [--since <t>] [--until <t>]';

export const FILTER_DETAILS = `  --status <s>        ${EVENT_STATUSES.join(', ')}
  --outcome <o>       ${EVENT_OUTCOMES.join(', ')}
  --lead <lead id>    one lead's events
  --error-code <code> e.g. c2s_unavailable
  --hook-action <a>   ${HOOK_ACTIONS.join(', ')}
  --since <t>         received at or after: RFC 3339 (2026-12-01T09:00:00Z) or 30m, 2h, 7d ago
  --until <t>         received before, the same forms`;

/** The filter the flags describe, checked by the data layer (AdminInputError on a bad value). */
export function filterFromArgs(args: CommandArgs, now: Date): EventFilter {
  const since = text(args, 'since');
  const until = text(args, 'until');
  try {
    return parseFilter({
      status: text(args, 'status'),
      outcome: text(args, 'outcome'),
      lead_id: text(args, 'lead'),
      error_code: text(args, 'error-code'),
      hook_action: text(args, 'hook-action'),
      since: since === undefined ? undefined : instantArgument('since', since, now),
      until: until === undefined ? undefined : instantArgument('until', until, now),
    });
  } catch (error) {
    if (!(error instanceof AdminInputError)) throw error;
    // The data layer names the API's fields; the operator typed flags.
    throw new AdminInputError(error.message.replace(/^([a-z_]+)\b/, flagOf), error.code);
  }
}

const FLAGS: Readonly<Record<string, string>> = {
  lead_id: 'lead',
  error_code: 'error-code',
  hook_action: 'hook-action',
};

function flagOf(field: string): string {
  return `--${FLAGS[field] ?? field}`;
}
