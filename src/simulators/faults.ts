import type { ServerResponse } from 'node:http';

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
  | { readonly kind: 'malformed_body' }
  /**
   * Process the request, send the answer's headers at once, then its body one byte every
   * `intervalMs` (default 1000): JSON whitespace, forever (until the caller gives up), or
   * `chunks` bytes of it followed by the real answer (a slow provider that does finish).
   */
  | { readonly kind: 'trickle'; readonly intervalMs?: number; readonly chunks?: number }
  /**
   * Process the request, then answer with a body of `bytes` (default 50 MB): JSON whitespace
   * ending with the real answer, streamed with backpressure from one reused chunk, never
   * allocated whole. Chunked unless `declareLength`, which sends its Content-Length first.
   */
  | { readonly kind: 'huge_body'; readonly bytes?: number; readonly declareLength?: boolean };

/** The faults that let the request be processed and only spoil how its answer is delivered. */
export type DeliveryFault = Extract<Fault, { kind: 'trickle' | 'huge_body' }>;

export function isDeliveryFault(fault: { readonly kind: string } | undefined): fault is DeliveryFault {
  return fault?.kind === 'trickle' || fault?.kind === 'huge_body';
}

/** An answer about to be written: status, headers and the body's text. */
export interface RawAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly text: string;
}

export const HUGE_BODY_DEFAULT_BYTES = 50 * 1000 * 1000;
const PAD_CHUNK = Buffer.alloc(64 * 1024, 0x20); // JSON whitespace, shared by every huge body

/** Writes `answer` as the delivery fault says: trickled, or padded to a huge size. */
export function deliverWithFault(res: ServerResponse, answer: RawAnswer, fault: DeliveryFault): void {
  if (fault.kind === 'trickle') return trickle(res, answer, fault);
  void hugeBody(res, answer, fault).catch(() => res.destroy());
}

function trickle(res: ServerResponse, answer: RawAnswer, fault: Extract<Fault, { kind: 'trickle' }>): void {
  res.writeHead(answer.status, answer.headers);
  res.flushHeaders();
  let sent = 0;
  const timer = setInterval(() => {
    if (res.destroyed || res.writableEnded) return clearInterval(timer);
    if (fault.chunks !== undefined && sent >= fault.chunks) {
      clearInterval(timer);
      res.end(answer.text);
      return;
    }
    res.write(' ');
    sent += 1;
  }, fault.intervalMs ?? 1000);
  res.once('close', () => clearInterval(timer));
}

async function hugeBody(
  res: ServerResponse,
  answer: RawAnswer,
  fault: Extract<Fault, { kind: 'huge_body' }>,
): Promise<void> {
  const tail = Buffer.from(answer.text);
  const total = Math.max(fault.bytes ?? HUGE_BODY_DEFAULT_BYTES, tail.length);
  res.writeHead(answer.status, {
    ...answer.headers,
    ...(fault.declareLength ? { 'content-length': String(total) } : {}),
  });
  let padding = total - tail.length;
  while (padding > 0) {
    if (res.destroyed) return; // the caller gave up: stop producing
    const piece = padding >= PAD_CHUNK.length ? PAD_CHUNK : PAD_CHUNK.subarray(0, padding);
    padding -= piece.length;
    if (!res.write(piece)) await drained(res);
  }
  if (!res.destroyed) res.end(tail);
}

/** Resolves when `res` can take more, or is gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

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
  /**
   * With it, each call waits a random time from `latencyMs` (0 when unset) to this, uniformly:
   * real providers answer in a spread, and a spread is what shows queueing effects.
   */
  readonly latencyMaxMs?: number;
  /** The provider's own rate limit: calls beyond this many in any one second answer 429. */
  readonly ratePerSecond?: number;
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
  readonly latencyMaxMs?: number;
  readonly errorRate?: number;
  readonly ratePerSecond?: number;
  readonly reset?: boolean;
}

export class FaultPlan<F extends { readonly kind: string } = Fault> {
  readonly #queued = new Map<string, F[]>();
  readonly #standing = new Map<string, StandingFaults<F>>();
  /** Recent call times per route, for the standing rate limit. */
  readonly #recent = new Map<string, number[]>();
  #rateLimited = 0;

  /** Calls answered 429 by a standing rate limit so far. */
  get rateLimited(): number {
    return this.#rateLimited;
  }

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
    this.#recent.clear();
  }

  /** What the next call of `route` suffers: a latency and possibly a fault. */
  draw(route: string): { latencyMs: number; fault: F | undefined } {
    const standing = this.#standing.get(route) ?? this.#standing.get('*') ?? {};
    const latencyMs = latencyOf(standing);
    if (standing.ratePerSecond !== undefined && this.#overLimit(route, standing.ratePerSecond)) {
      this.#rateLimited++;
      const limited = { kind: 'status', status: 429, retryAfterSeconds: 1 } as const;
      return { latencyMs, fault: limited as unknown as F };
    }
    const queued = this.#queued.get(route)?.shift();
    const random =
      standing.errorRate !== undefined && Math.random() < standing.errorRate
        ? standing.errorFault
        : undefined;
    return { latencyMs, fault: queued ?? random ?? undefined };
  }

  /** Counts this call, and says whether it is over the limit of calls in the last second. */
  #overLimit(route: string, perSecond: number): boolean {
    const now = Date.now();
    const recent = (this.#recent.get(route) ?? []).filter((at) => at > now - 1000);
    recent.push(now);
    this.#recent.set(route, recent);
    return recent.length > perSecond;
  }

  /** Applies a control-route request: reset, then queue a one-off fault or set standing ones. */
  apply(request: FaultRequest<F>): void {
    if (request.reset) this.reset();
    if (request.route && request.fault) this.failNext(request.route, request.fault, request.times ?? 1);
    const standing =
      request.latencyMs !== undefined ||
      request.latencyMaxMs !== undefined ||
      request.errorRate !== undefined ||
      request.ratePerSecond !== undefined;
    if (request.route && standing) {
      this.set(request.route, {
        latencyMs: request.latencyMs,
        latencyMaxMs: request.latencyMaxMs,
        errorRate: request.errorRate,
        errorFault: request.fault,
        ratePerSecond: request.ratePerSecond,
      });
    }
  }
}

/** A call's latency: fixed, or drawn uniformly from `latencyMs`..`latencyMaxMs`. */
function latencyOf(standing: StandingFaults<unknown>): number {
  const min = standing.latencyMs ?? 0;
  if (standing.latencyMaxMs === undefined || standing.latencyMaxMs <= min) return min;
  return min + Math.random() * (standing.latencyMaxMs - min);
}
