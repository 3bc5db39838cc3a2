import type pg from 'pg';
import { classifyError, LeaseLostError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import { scrubText } from '../log/mask.ts';
import type { Metrics } from '../metrics.ts';
import {
  createAttemptWriter,
  loadCheckpoints,
  type Attempt,
  type Checkpoint,
  type EventRecord,
  type Fence,
  type Outcome,
  type StepRecord,
} from './event-repository.ts';
import { nextRetryDelayMs, type RetryPolicy } from './retry.ts';

export interface StepContext {
  readonly event: EventRecord;
  /** The claim this run writes under (see `Fence`): steps pass it to their own fenced writes. */
  readonly fence: Fence;
  /**
   * Throws `LeaseLostError` when this worker can no longer be sure it holds the event. A step
   * calls it right before a side effect outside our database (posting a note).
   */
  readonly assertHeld: () => void;
  /** Outputs of the steps before this one, by step name. */
  readonly outputs: Readonly<Record<string, unknown>>;
  /** Aborted when the worker must stop; long calls should give up (and be retried). */
  readonly signal: AbortSignal;
  /**
   * Values a step leaves for later steps of the same attempt, in memory only (never
   * checkpointed): a resumed attempt starts without them, so a step must be able to do without.
   */
  readonly memo: Map<string, unknown>;
  readonly logger: Logger;
}

/** What a step returns: an output for later steps, and an outcome when it ends the run early. */
export interface StepResult {
  readonly output?: unknown;
  readonly outcome?: Outcome;
}

export interface Step {
  readonly name: string;
  /**
   * True for a step that costs nothing to run again: no paid call, no effect outside our own
   * database that is not idempotent. Its checkpoint is written with the next one instead of at
   * once; any other step's is written by the very next statement.
   */
  readonly replayable?: boolean;
  run(context: StepContext): Promise<StepResult | void>;
}

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
  const writer = createAttemptWriter(db);

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
    const outputs: Record<string, unknown> = {};
    const unwritten: StepRecord[] = [];
    const memo = new Map<string, unknown>();
    let outcome: Outcome = 'enriched';
    for (const [index, step] of steps.entries()) {
      const done = checkpoints.get(step.name);
      let result: StepResult;
      if (done?.status === 'succeeded' && done.result !== null) {
        result = done.result;
      } else {
        // Before every step: a run that may have lost its event starts nothing more.
        if (!hold.held()) return leaseLost();
        const startedAt = new Date();
        const started = performance.now();
        try {
          result = (await step.run({ event, fence, assertHeld, outputs, signal, logger, memo })) ?? {};
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
        unwritten.push({ step: step.name, status: 'succeeded', startedAt, durationMs: elapsed, result });
        metrics.stepDuration.observe({ step: step.name, result: 'succeeded' }, elapsed / 1000);
        // When the run ends here, the statement that ends it is the next one and carries the record.
        const last = index === steps.length - 1 || result.outcome !== undefined;
        if (!step.replayable && !last && !(await writer.recordSteps({ fence, records: unwritten.splice(0) })))
          return leaseLost();
      }
      outputs[step.name] = result.output;
      if (result.outcome !== undefined) {
        outcome = result.outcome;
        break;
      }
    }
    if (!(await writer.endAttempt({ fence, ending: { kind: 'completed', outcome }, records: unwritten })))
      return leaseLost();
    metrics.workflowEvents.inc({ result: `completed_${outcome}` });
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

    const delayMs = retryable
      ? nextRetryDelayMs(options.retry, event.attempts, Date.now() - event.startedAt.getTime(), retryAfterMs)
      : undefined;
    if (delayMs === undefined) {
      const reason = retryable ? `retries exhausted after ${event.attempts} attempts: ${message}` : message;
      const ending = { kind: 'failed', code, message: `${step}: ${reason}` } as const;
      if (!(await writer.endAttempt({ fence, ending, records }))) return leaseLost();
      metrics.workflowEvents.inc({ result: 'failed' });
      logger.warn({ step, code, retryable }, 'event failed');
      return { kind: 'failed', code };
    }

    const at = new Date(Date.now() + delayMs);
    const ending = { kind: 'retry', at, code, message: `${step}: ${message}` } as const;
    if (!(await writer.endAttempt({ fence, ending, records }))) return leaseLost();
    metrics.retries.inc({ code });
    logger.info({ step, code, delayMs }, 'event will be retried');
    return { kind: 'retry_scheduled', delayMs, code };
  }
}

export type RunEvent = ReturnType<typeof createRunner>;
