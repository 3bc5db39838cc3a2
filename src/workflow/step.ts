import type { Logger } from '../log/logger.ts';
import type { ClaimedEvent, Fence } from '../queue/claims.ts';

/** How a completed event ended. */
export type Outcome = 'enriched' | 'no_match' | 'unchanged' | 'closed' | 'suppressed';

/** What a step returns: its output for later steps, and an outcome when it ends the run early. */
export interface StepResult<O> {
  readonly output?: O;
  readonly outcome?: Outcome;
}

/**
 * One step of a workflow. Later steps take earlier ones as values (`context.outputOf(step)`),
 * never by name, so a renamed step cannot leave a later one reading nothing. The output is saved
 * as the step's checkpoint: it holds ids, references, counts and flags only, never personal
 * data; what a later step needs again is read from the store or recomputed.
 */
export interface StepDefinition<O = unknown> {
  /** The checkpoint's key in `event_steps`, and the name operators see in an event's timeline. */
  readonly name: string;
  /**
   * The version of the output's shape (default 1). Bump it when the shape changes: a run resumed
   * from a checkpoint of another version runs this step again, and every step after it.
   */
  readonly version?: number;
  /**
   * True for a step that costs nothing to run again: no paid call, no effect outside our own
   * database that is not idempotent. Its checkpoint is written with the next one instead of at
   * once; any other step's is written by the very next statement.
   */
  readonly replayable?: boolean;
  run(context: StepContext): Promise<StepResult<O> | void>;
}

/** Values a run keeps in memory for its later steps (never saved): typed by their key. */
export class MemoKey<T> {
  declare private readonly type: T;
  readonly description: string;
  constructor(description: string) {
    this.description = description;
  }
}

export interface AttemptMemo {
  get<T>(key: MemoKey<T>): T | undefined;
  set<T>(key: MemoKey<T>, value: T): void;
}

export function createMemo(): AttemptMemo {
  const values = new Map<MemoKey<unknown>, unknown>();
  return {
    get: <T>(key: MemoKey<T>) => values.get(key) as T | undefined,
    set: <T>(key: MemoKey<T>, value: T) => void values.set(key, value),
  };
}

export interface StepContext {
  readonly event: ClaimedEvent;
  /** The claim this run writes under (see `Fence`): steps pass it to their own fenced writes. */
  readonly fence: Fence;
  /** The output of an earlier step of this run: saved by an earlier attempt, or produced by this one. */
  readonly outputOf: <O>(step: StepDefinition<O>) => O;
  /**
   * Throws `LeaseLostError` when this worker can no longer be sure it holds the event. A step
   * calls it right before a side effect outside our database (posting a note).
   */
  readonly assertHeld: () => void;
  /** Aborted when the worker must stop; long calls should give up (and be retried). */
  readonly signal: AbortSignal;
  /**
   * What this attempt's steps leave each other in memory (never saved): a resumed attempt starts
   * without it, so a step must be able to do without (read from the store, or recompute).
   */
  readonly memo: AttemptMemo;
  readonly logger: Logger;
}
