import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowDeps } from '../../src/service.ts';
import type { Step, StepContext, StepDefinition } from '../../src/workflow/runner.ts';
import { noteRef, referenceLine } from '../../src/notes/reference.ts';
import {
  claimWindows,
  postNoteStep,
  type ComposedNote,
  type NoteComposer,
  type NoteHeader,
} from '../../src/workflow/steps/post-note.ts';
import type { TestDatabase } from './database.ts';

/**
 * Test steps standing in for enrichment: compose a note from the lead's contacts (so the same
 * contacts give the same reference), then the real post_note step (ledger + C2S client).
 */
export function noteWorkflow(options: { composeDelayMs?: number; before?: readonly Step[] } = {}) {
  return (deps: WorkflowDeps): readonly Step[] => {
    const note = ({ event }: StepContext): ComposedNote => {
      const { attributes } = event.payload as {
        attributes?: { customer?: { phone?: string; email?: string } };
      };
      const ref = noteRef(
        event.leadId,
        `${attributes?.customer?.phone ?? ''}|${attributes?.customer?.email ?? ''}`,
      );
      return { ref, body: `Nota de teste para ${event.leadId}\n\n${referenceLine(ref)}` };
    };
    const composer: NoteComposer & StepDefinition<NoteHeader & { pid: number }> = {
      name: 'compose_note',
      note: async (context) => note(context),
      async run(context) {
        if (options.composeDelayMs) await sleep(Math.random() * options.composeDelayMs);
        const { ref, body } = note(context);
        return { output: { ref, length: body.length, pid: process.pid } };
      },
    };
    return [
      ...(options.before ?? []),
      composer,
      postNoteStep({
        db: deps.db,
        c2s: deps.c2s,
        metrics: deps.metrics,
        composer,
        windows: claimWindows(deps.config),
      }),
    ];
  };
}

export interface EventState {
  readonly id: string;
  readonly lead_id: string;
  readonly status: string;
  readonly outcome: string | null;
  readonly attempts: number;
  readonly error_code: string | null;
  readonly error_message: string | null;
}

export async function eventStates(db: TestDatabase, leadId?: string): Promise<EventState[]> {
  const { rows } = await db.pool.query<EventState>(
    `SELECT id, lead_id, status, outcome, attempts, error_code, error_message FROM webhook_events
     WHERE $1::text IS NULL OR lead_id = $1 ORDER BY lead_id, updated_at`,
    [leadId ?? null],
  );
  return rows;
}

const TERMINAL = ['completed', 'failed', 'stale', 'superseded'];

/** Waits until every stored event (or those of `leadId`) is in a terminal state. */
export async function settled(db: TestDatabase, timeoutMs = 30_000, leadId?: string): Promise<EventState[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await eventStates(db, leadId);
    if (states.length > 0 && states.every((state) => TERMINAL.includes(state.status))) return states;
    if (Date.now() > deadline) {
      const open = states.filter((state) => !TERMINAL.includes(state.status));
      throw new Error(
        `events not settled in ${timeoutMs} ms: ${JSON.stringify(open.slice(0, 5))} (${open.length} open)`,
      );
    }
    await sleep(100);
  }
}

export async function stepRows(db: TestDatabase, eventId: string) {
  const { rows } = await db.pool.query<{
    step: string;
    status: string;
    attempts: number;
    error_code: string | null;
  }>(`SELECT step, status, attempts, error_code FROM event_steps WHERE event_id = $1 ORDER BY started_at`, [
    eventId,
  ]);
  return rows;
}
