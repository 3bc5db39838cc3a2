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

/**
 * Faults of the lookup providers (Diretrix, Work API), which also report failures in-band:
 * the Work API answers HTTP 200 with an error body, and tokens expire or run out of quota.
 */
export type LookupFault =
  | Fault
  /** Answer HTTP 200 with the provider's own error body, or with `body` when given. */
  | { readonly kind: 'error_body'; readonly body?: string }
  /** Refuse the credentials as expired, whatever the caller sent. */
  | { readonly kind: 'expired_token' };

export interface StandingFaults<F = Fault> {
  readonly latencyMs?: number;
  /** Share of calls (0..1) that get `errorFault`. */
  readonly errorRate?: number;
  readonly errorFault?: F;
}

/** The JSON of the simulators' `POST /_sim/faults` control route. */
export interface FaultRequest<F = Fault> {
  readonly route?: string;
  readonly fault?: F;
  readonly times?: number;
  readonly latencyMs?: number;
  readonly errorRate?: number;
  readonly reset?: boolean;
}

export class FaultPlan<F extends { readonly kind: string } = Fault> {
  readonly #queued = new Map<string, F[]>();
  readonly #standing = new Map<string, StandingFaults<F>>();

  /** The next `times` calls of `route` get `fault`. */
  failNext(route: string, fault: F, times = 1): void {
    const queue = this.#queued.get(route) ?? [];
    for (let i = 0; i < times; i++) queue.push(fault);
    this.#queued.set(route, queue);
  }

  /** Standing faults for `route` ('*' for every route). */
  set(route: string, faults: StandingFaults<F>): void {
    this.#standing.set(route, faults);
  }

  reset(): void {
    this.#queued.clear();
    this.#standing.clear();
  }

  /** What the next call of `route` suffers: a latency and possibly a fault. */
  draw(route: string): { latencyMs: number; fault: F | undefined } {
    const standing = this.#standing.get(route) ?? this.#standing.get('*') ?? {};
    const queued = this.#queued.get(route)?.shift();
    const random =
      standing.errorRate !== undefined && Math.random() < standing.errorRate
        ? standing.errorFault
        : undefined;
    return { latencyMs: standing.latencyMs ?? 0, fault: queued ?? random ?? undefined };
  }

  /** Applies a control-route request: reset, then queue a one-off fault or set standing ones. */
  apply(request: FaultRequest<F>): void {
    if (request.reset) this.reset();
    if (request.route && request.fault) this.failNext(request.route, request.fault, request.times ?? 1);
    if (request.route && (request.latencyMs !== undefined || request.errorRate !== undefined)) {
      this.set(request.route, {
        latencyMs: request.latencyMs,
        errorRate: request.errorRate,
        errorFault: request.fault,
      });
    }
  }
}
