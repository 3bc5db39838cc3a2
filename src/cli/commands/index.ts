import type { Command } from '../command.ts';
import { erase } from './erase.ts';
import { event } from './event.ts';
import { events } from './events.ts';
import { migrate } from './migrate.ts';
import { purge } from './purge.ts';
import { reconcile } from './reconcile.ts';
import { replay } from './replay.ts';
import { reprocess } from './reprocess.ts';
import { stats } from './stats.ts';
import { subjectReport } from './subject-report.ts';
import { subscribe, unsubscribe } from './subscribe.ts';

/** The operators' commands, in the order `--help` lists them: a new command is one entry here. */
export const COMMANDS: readonly Command[] = [
  subscribe,
  unsubscribe,
  events,
  event,
  reprocess,
  replay,
  reconcile,
  stats,
  erase,
  subjectReport,
  purge,
  migrate,
];
