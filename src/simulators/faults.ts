/**
 * Fault injection shared by the simulators: a queue of one-off faults per route (for tests
 * that need "the next call fails like this") and standing rates (for demos and benchmarks).
 */
export type Fault =
  | {
      readonly kind: 'status';
      readonly status: number;
      readonly retryAfterSeconds?: number;
      readonly body?: string;
    }
  /** Process the request, then cut the connection before answering: the caller cannot know. */
  | { readonly kind: 'drop_after_processing' }
  /** Cut the connection without processing. */
  | { readonly kind: 'drop' }
  /** Never answer (the caller's timeout fires). */
  | { readonly kind: 'hang' }
  /** Answer 200 with a body that is not what the API promises. */
  | { readonly kind: 'malformed_body' };

export interface StandingFaults {
  readonly latencyMs?: number;
  /** Share of calls (0..1) that get `errorFault`. */
  readonly errorRate?: number;
  readonly errorFault?: Fault;
}

export class FaultPlan {
  readonly #queued = new Map<string, Fault[]>();
  readonly #standing = new Map<string, StandingFaults>();

  /** The next `times` calls of `route` get `fault`. */
  failNext(route: string, fault: Fault, times = 1): void {
    const queue = this.#queued.get(route) ?? [];
    for (let i = 0; i < times; i++) queue.push(fault);
    this.#queued.set(route, queue);
  }

  /** Standing faults for `route` ('*' for every route). */
  set(route: string, faults: StandingFaults): void {
    this.#standing.set(route, faults);
  }

  reset(): void {
    this.#queued.clear();
    this.#standing.clear();
  }

  /** What the next call of `route` suffers: a latency and possibly a fault. */
  draw(route: string): { latencyMs: number; fault: Fault | undefined } {
    const standing = this.#standing.get(route) ?? this.#standing.get('*') ?? {};
    const queued = this.#queued.get(route)?.shift();
    const random =
      standing.errorRate !== undefined && Math.random() < standing.errorRate
        ? standing.errorFault
        : undefined;
    return { latencyMs: standing.latencyMs ?? 0, fault: queued ?? random ?? undefined };
  }
}
