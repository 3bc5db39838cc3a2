import type pg from 'pg';
import type { Config } from '../../config.ts';
import {
  classifyError,
  isOutcomeUnknown,
  LeaseLostError,
  OutcomeUnknownError,
  RetryableError,
} from '../../errors.ts';
import type { Metrics } from '../../metrics.ts';
import { createBatcher } from '../../db/batcher.ts';
import {
  claimNotes,
  keepDryRunNote,
  releaseNote,
  renewNoteClaim,
  setNoteStates,
  type ClaimWindows,
  type NoteClaim,
  type NoteClaimAsk,
  type NoteStateChange,
} from '../../notes/ledger.ts';
import { carriesReference, knownRefs, legacyRef } from '../../notes/reference.ts';
import type { C2sClient } from '../../providers/c2s/client.ts';
import type { Outcome, StepContext, StepDefinition } from '../step.ts';

/** A note ready to post. */
export interface ComposedNote {
  readonly ref: string;
  readonly body: string;
  /** The event's outcome once the note is on the lead (default `enriched`). */
  readonly outcome?: Outcome;
}

/** What a composing step saves: the reference, the outcome and the length, never the text. */
export interface NoteHeader {
  readonly ref: string;
  readonly outcome?: Outcome;
  readonly length: number;
}

/** The step that composes the note, which gives the text to the posting step (never saved). */
export interface NoteComposer extends StepDefinition<NoteHeader> {
  /** The note: as this attempt composed it, or composed again (undefined: nothing to post). */
  note(context: StepContext): Promise<ComposedNote | undefined>;
}

/**
 * How long a note claim keeps other attempts off, from the configuration: a POST may be in flight
 * for the C2S timeout after its claim, and its attempt may go on for up to a lease without
 * learning that it lost the event; the margin covers the C2S limiter's wait and commit delays.
 */
export function claimWindows(config: Config): ClaimWindows {
  const { providers, workflow } = config;
  return {
    inFlightMs: providers.c2s.timeoutMs + workflow.leaseSeconds * 1000 + workflow.noteClaimMarginMs,
    unknownWaitMs: workflow.noteUnknownWaitMs,
  };
}

/**
 * Posts the composed note on the lead, at most once per (lead, reference). The ledger row is
 * claimed before C2S is called, by an attempt that still holds its event. A note another attempt
 * claimed is left alone while that attempt may still be posting it (`windows`); once its claim
 * has run out, this attempt takes it over, reads the lead, and posts only if no message carries
 * the reference (current or legacy).
 */
export function postNoteStep(deps: {
  db: pg.Pool;
  c2s: C2sClient;
  metrics: Metrics;
  composer: NoteComposer;
  windows: ClaimWindows;
  /** DRY_RUN: keep the note in the ledger instead of posting it. */
  dryRun?: boolean;
}): StepDefinition<{ ref?: string; posted: boolean; reason?: string }> {
  const { db, c2s, metrics } = deps;
  // Runs claiming or recording at the same moment share one statement.
  const claimNote = createBatcher<NoteClaimAsk, NoteClaim>((notes) => claimNotes(db, notes, deps.windows));
  const recordState = createBatcher<NoteStateChange, boolean>((changes) => setNoteStates(db, changes));
  return {
    name: 'post_note',
    async run(context) {
      const { event, fence, assertHeld, signal } = context;
      const note = await deps.composer.note(context);
      if (!note) return { output: { posted: false } };
      const { leadId } = event;
      const outcome = note.outcome ?? 'enriched';
      if (deps.dryRun) {
        if (!(await keepDryRunNote(db, { leadId, ref: note.ref, body: note.body, fence })))
          throw new LeaseLostError();
        metrics.notes.inc({ state: 'dry_run' });
        return { output: { ref: note.ref, posted: false, reason: 'dry_run' }, outcome };
      }
      const claim = await claimNote({ leadId, ref: note.ref, legacyRef: legacyRef(note.ref), fence });
      switch (claim.kind) {
        case 'fenced':
          throw new LeaseLostError();
        case 'sent':
          return { output: { ref: note.ref, posted: false, reason: 'already_sent' }, outcome };
        case 'wait':
          metrics.notes.inc({ state: 'waited' });
          throw new RetryableError(
            claim.state === 'pending' ? 'note_in_flight' : 'note_outcome_unknown',
            claim.state === 'pending'
              ? 'another attempt may be posting this note; looking again once its claim has run out'
              : 'an earlier post may still be processed by C2S; looking on the lead after the wait',
            { retryAfterMs: claim.waitMs },
          );
        case 'claimed':
          metrics.notes.inc({ state: 'pending' });
          break;
        case 'taken_over': {
          // An earlier attempt may have posted it: look before posting again.
          const lead = await c2s.getLead(leadId, signal);
          const refs = knownRefs(note.ref);
          if (lead.messages.some((message) => carriesReference(message.body, refs))) {
            await recordState({ leadId, ref: note.ref, state: 'sent', fence });
            metrics.notes.inc({ state: 'found_existing' });
            return { output: { ref: note.ref, posted: true, reason: 'found_on_lead' }, outcome };
          }
        }
      }

      // After a takeover, reading the lead used part of the in-flight window: it starts again now.
      if (claim.kind === 'taken_over' && !(await renewNoteClaim(db, { leadId, ref: note.ref, fence })))
        throw new LeaseLostError();
      assertHeld(); // the last moment to find out that the event is no longer ours
      try {
        await c2s.postNote(leadId, note.body, signal);
      } catch (error) {
        if (!isOutcomeUnknown(error)) {
          // Refused, or never sent (429, 4xx, C2S unreachable): nothing can be in flight.
          // Only a claim this attempt created: a taken-over one may stand for an earlier POST.
          if (claim.kind === 'claimed') await releaseNote(db, { leadId, ref: note.ref, fence });
          throw error;
        }
        await recordState({ leadId, ref: note.ref, state: 'unknown', fence });
        metrics.notes.inc({ state: 'unknown' });
        // C2S may still be processing it: the next attempt looks on the lead only after the wait.
        throw new OutcomeUnknownError(classifyError(error).code, error.message, {
          cause: error,
          retryAfterMs: Math.max(error.retryAfterMs ?? 0, deps.windows.unknownWaitMs),
        });
      }
      await recordState({ leadId, ref: note.ref, state: 'sent', fence });
      metrics.notes.inc({ state: 'sent' });
      return { output: { ref: note.ref, posted: true }, outcome };
    },
  };
}
