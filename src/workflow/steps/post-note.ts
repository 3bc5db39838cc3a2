import type pg from 'pg';
import { OutcomeUnknownError } from '../../errors.ts';
import type { Metrics } from '../../metrics.ts';
import { createBatcher } from '../../db/batcher.ts';
import { claimNote, setNoteStates, type NoteState } from '../../notes/ledger.ts';
import type { C2sClient } from '../../providers/c2s/client.ts';
import type { Outcome } from '../event-repository.ts';
import type { Step } from '../runner.ts';

/** What the note-composing step hands to this one. */
export interface ComposedNote {
  readonly ref: string;
  readonly body: string;
  /** The event's outcome once the note is on the lead (default `enriched`). */
  readonly outcome?: Outcome;
}

/** The line that ends every note and lets us recognise one already posted. */
export function referenceLine(ref: string): string {
  return `ref: ${ref}`;
}

/**
 * Posts the composed note on the lead, at most once per reference. The ledger row is claimed
 * before C2S is called; when an earlier attempt's outcome is unknown, the lead's messages are
 * read first and the note is posted only if its reference is not among them.
 */
export function postNoteStep(deps: {
  db: pg.Pool;
  c2s: C2sClient;
  metrics: Metrics;
  composedBy: string;
}): Step {
  const { db, c2s, metrics } = deps;
  // Runs recording at the same moment share one statement.
  const recordState = createBatcher<{ ref: string; state: NoteState }>((notes) => setNoteStates(db, notes));
  return {
    name: 'post_note',
    async run({ event, outputs, signal }) {
      const note = outputs[deps.composedBy] as ComposedNote | undefined;
      if (!note) return { output: { posted: false } };
      const claim = await claimNote(db, { ref: note.ref, leadId: event.leadId, eventId: event.id });
      const outcome = note.outcome ?? 'enriched';
      if (claim.state === 'sent')
        return { output: { ref: note.ref, posted: false, reason: 'already_sent' }, outcome };
      if (claim.claimedNow) metrics.notes.inc({ state: 'pending' });

      if (!claim.claimedNow) {
        // An earlier attempt claimed it and may have posted it: look before posting again.
        const lead = await c2s.getLead(event.leadId, signal);
        if (lead.messages.some((message) => message.body.includes(referenceLine(note.ref)))) {
          await recordState({ ref: note.ref, state: 'sent' });
          metrics.notes.inc({ state: 'found_existing' });
          return { output: { ref: note.ref, posted: true, reason: 'found_on_lead' }, outcome };
        }
      }

      try {
        await c2s.postNote(event.leadId, note.body, signal);
      } catch (error) {
        if (error instanceof OutcomeUnknownError) {
          await recordState({ ref: note.ref, state: 'unknown' });
          metrics.notes.inc({ state: 'unknown' });
        }
        throw error;
      }
      await recordState({ ref: note.ref, state: 'sent' });
      metrics.notes.inc({ state: 'sent' });
      return { output: { ref: note.ref, posted: true }, outcome };
    },
  };
}
