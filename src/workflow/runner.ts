import type pg from 'pg';
import { createBatcher } from '../db/batcher.ts';
import { classifyError, isLocalPacing, LeaseLostError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import { scrubText } from '../log/mask.ts';
import type { Metrics } from '../metrics.ts';
import { finishAttempts, type Attempt, type AttemptEnd, type Fence } from '../queue/claims.ts';
import { loadCheckpoints, recordCheckpoints, type Checkpoint, type StepRecord } from './checkpoints.ts';
import { nextRetryDelayMs, type RetryPolicy } from './retry.ts';
import { createMemo, type Outcome, type StepDefinition, type StepResult } from './step.ts';

export type { Outcome, StepContext, StepDefinition, StepResult } from './step.ts';
/** A step of any output type, as a workflow lists them. */
export type Step = StepDefinition<unknown>;

export interface RunnerOptions {
  readonly db: pg.Pool;
  readonly steps: readonly Step[];
  readonly retry: RetryPolicy;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export type RunResult =
  | { readonly kind: 'completed'; readonly outcome: Outcome }
  | { readonly kind: 'superseded' }
  | { readonly kind: 'retry_scheduled'; readonly delayMs: number; readonly code: string }
  | { readonly kind: 'failed'; readonly code: string }
  /** The lease was lost: the run stopped without writing; the event's new holder carries on. */
  | { readonly kind: 'lease_lost' }
  | { readonly kind: 'exhausted' };

/** How a worker tells a run whether it still holds its event. */
export interface Hold {
  /** False once the lease may have run out (renewal reported it lost, or not confirmed in time). */
  held(): boolean;
}

/**
 * Runs started attempts (see `startAttempts`) through the steps. Each step's outcome is
 * checkpointed: a later attempt skips the steps that succeeded (reusing their outputs), so a paid
 * lookup or a posted note is never repeated, and resumes at the step that failed.
 */
export function createRunner(options: RunnerOptions) {
  const { db, steps, metrics } = options;
  // Checkpoints and attempt ends of concurrent runs share statements (and commits).
  const writer = {
    record: createBatcher<{ fence: Fence; records: readonly StepRecord[] }, boolean>((entries) =>
      recordCheckpoints(db, entries),
    ),
    finish: createBatcher<AttemptEnd, boolean>((ends) => finishAttempts(db, ends)),
  };

  return async function runAttempt(attempt: Attempt, signal: AbortSignal, hold: Hold): Promise<RunResult> {
    if (attempt.kind === 'superseded') {
      metrics.workflowEvents.inc({ result: 'superseded' });
      return { kind: 'superseded' };
    }
    if (attempt.kind === 'exhausted') {
      metrics.workflowEvents.inc({ result: 'failed' });
      options.logger.warn({ eventId: attempt.eventId, code: 'attempts_exhausted' }, 'event failed');
      return { kind: 'exhausted' };
    }
    const { event, fence } = attempt;
    const eventId = event.id;
    const logger = options.logger.child({ eventId, leadId: event.leadId, attempt: event.attempts });
    const leaseLost = (): RunResult => {
      metrics.leasesLost.inc();
      logger.warn('lease lost: the run stops without writing; the event runs elsewhere');
      return { kind: 'lease_lost' };
    };
    const assertHeld = () => {
      if (!hold.held()) throw new LeaseLostError();
    };

    // A first attempt has nothing to resume from.
    const checkpoints =
      event.attempts > 1 ? await loadCheckpoints(db, eventId) : new Map<string, Checkpoint>();
    const outputs = new Map<StepDefinition<unknown>, unknown>();
    const outputOf = <O>(step: StepDefinition<O>): O => {
      if (!outputs.has(step))
        throw new Error(`step ${step.name} has not run before the one asking for its output`);
      return outputs.get(step) as O;
    };
    const context = { event, fence, outputOf, assertHeld, signal, logger, memo: createMemo() };
    const unwritten: StepRecord[] = [];
    let outcome: Outcome = 'enriched';
    // Once a step runs again (no usable checkpoint), every later one does: its input may differ.
    let resuming = checkpoints.size > 0;
    for (const [index, step] of steps.entries()) {
      const version = step.version ?? 1;
      const saved = resuming ? checkpoints.get(step.name) : undefined;
      let result: StepResult<unknown>;
      if (saved?.status === 'succeeded' && saved.result?.v === version) {
        result = { output: saved.result.output, outcome: saved.result.outcome as Outcome | undefined };
      } else {
        resuming = false;
        // Before every step: a run that may have lost its event starts nothing more.
        if (!hold.held()) return leaseLost();
        const startedAt = new Date();
        const started = performance.now();
        try {
          result = (await step.run(context)) ?? {};
        } catch (error) {
          const elapsed = performance.now() - started;
          metrics.stepDuration.observe({ step: step.name, result: 'failed' }, elapsed / 1000);
          if (error instanceof LeaseLostError || !hold.held()) return leaseLost();
          return await handleFailure(
            attempt,
            step.name,
            error,
            { startedAt, elapsed, unwritten },
            logger,
            leaseLost,
          );
        }
        const elapsed = performance.now() - started;
        const saving = { v: version, output: result.output, outcome: result.outcome };
        unwritten.push({
          step: step.name,
          status: 'succeeded',
          startedAt,
          durationMs: elapsed,
          result: saving,
        });
        metrics.stepDuration.observe({ step: step.name, result: 'succeeded' }, elapsed / 1000);
        // When the run ends here, the statement that ends it is the next one and carries the record.
        const last = index === steps.length - 1 || result.outcome !== undefined;
        if (!step.replayable && !last && !(await writer.record({ fence, records: unwritten.splice(0) })))
          return leaseLost();
      }
      outputs.set(step, result.output);
      if (result.outcome !== undefined) {
        outcome = result.outcome;
        break;
      }
    }
    if (!(await writer.finish({ fence, ending: { kind: 'completed', outcome }, records: unwritten })))
      return leaseLost();
    metrics.workflowEvents.inc({ result: `completed_${outcome}` });
    metrics.eventLatency.observe({ outcome }, Math.max(0, Date.now() - event.queuedAt.getTime()) / 1000);
    logger.info({ outcome }, 'event completed');
    return { kind: 'completed', outcome };
  };

  async function handleFailure(
    { event, fence }: Extract<Attempt, { kind: 'run' }>,
    step: string,
    error: unknown,
    attempt: { startedAt: Date; elapsed: number; unwritten: StepRecord[] },
    logger: Logger,
    leaseLost: () => RunResult,
  ): Promise<RunResult> {
    const { code, retryable, retryAfterMs } = classifyError(error);
    const message = scrubText(error instanceof Error ? error.message : String(error));
    const records: StepRecord[] = [
      ...attempt.unwritten,
      {
        step,
        status: 'failed',
        startedAt: attempt.startedAt,
        durationMs: attempt.elapsed,
        error: { code, message },
      },
    ];
    metrics.stepErrors.inc({ step, code });

    // Held back by our own limiter: the event waits for its turn without spending its budget.
    const paced = isLocalPacing(error);
    const delayMs = retryable
      ? nextRetryDelayMs(
          options.retry,
          paced ? Math.max(1, event.countedAttempts - 1) : event.countedAttempts,
          Date.now() - event.startedAt.getTime(),
          retryAfterMs,
        )
      : undefined;
    if (delayMs === undefined) {
      const reason = retryable
        ? `retries exhausted after ${event.countedAttempts} attempts: ${message}`
        : message;
      const ending = { kind: 'failed', code, message: `${step}: ${reason}` } as const;
      if (!(await writer.finish({ fence, ending, records }))) return leaseLost();
      metrics.workflowEvents.inc({ result: 'failed' });
      logger.warn({ step, code, retryable }, 'event failed');
      return { kind: 'failed', code };
    }

    const at = new Date(Date.now() + delayMs);
    const ending = { kind: 'retry', at, code, message: `${step}: ${message}`, uncounted: paced } as const;
    if (!(await writer.finish({ fence, ending, records }))) return leaseLost();
    metrics.retries.inc({ code });
    logger.info({ step, code, delayMs }, 'event will be retried');
    return { kind: 'retry_scheduled', delayMs, code };
  }
}

export type RunEvent = ReturnType<typeof createRunner>;
