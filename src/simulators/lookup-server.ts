import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  deliverWithFault,
  FaultPlan,
  type FaultRequest,
  type LookupFault,
  type RawAnswer,
} from './faults.ts';

/**
 * The HTTP skeleton the lookup simulators (Diretrix, Work API) share: a real node:http server
 * that counts calls per route, injects the faults of a FaultPlan and serves the
 * `POST /_sim/faults` control route. Each simulator only says how a request is answered.
 */

export interface SimRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingHttpHeaders;
}

export interface SimAnswer {
  readonly status: number;
  /** JSON-encoded unless already a string. */
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * What to do with a request: refuse it before it counts as a call (unknown path, bad
 * credentials: no fault applies), or count it under `route` and answer it unless a fault strikes.
 */
export type Resolution =
  | { readonly refuse: SimAnswer }
  | {
      readonly route: string;
      /** What is looked up (a CPF, a phone), counted per route and key: a metered lookup paid twice shows. */
      readonly key?: string;
      readonly answer: () => SimAnswer;
    };

/** How the provider itself reports the in-band faults. */
export interface InBandFaults {
  /** HTTP 200 carrying the provider's error body (`error_body`). */
  readonly errorBody: SimAnswer;
  /** Credentials refused as expired (`expired_token`). */
  readonly expiredToken: SimAnswer;
  /** A 200 whose body is not what the API promises (`malformed_body`). */
  readonly malformedBody: string;
}

export interface LookupServerOptions {
  readonly resolve: (request: SimRequest) => Resolution;
  readonly inBand: InBandFaults;
  readonly port?: number | undefined;
  readonly host?: string | undefined;
}

export interface LookupServer {
  readonly url: string;
  readonly faults: FaultPlan<LookupFault>;
  /** Calls received on `route` (refused requests are not calls). */
  calls(route: string): number;
  /** Calls received on `route` per key looked up (a CPF, a phone). */
  callsByKey(route: string): ReadonlyMap<string, number>;
  close(): Promise<void>;
}

export async function startLookupServer(options: LookupServerOptions): Promise<LookupServer> {
  const faults = new FaultPlan<LookupFault>();
  const callCounts = new Map<string, number>();
  const keyCounts = new Map<string, Map<string, number>>();

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent && !res.destroyed) send(res, { status: 500, body: { error: 'simulator_error' } });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const method = req.method ?? 'GET';
    const body = await readBody(req);
    if (url.pathname.startsWith('/_sim/')) return send(res, control(url, method, body));

    const resolution = options.resolve({ method, url, headers: req.headers });
    if ('refuse' in resolution) return send(res, resolution.refuse);
    const { route } = resolution;
    callCounts.set(route, (callCounts.get(route) ?? 0) + 1);
    if (resolution.key !== undefined) {
      const keys = keyCounts.get(route) ?? new Map<string, number>();
      keys.set(resolution.key, (keys.get(resolution.key) ?? 0) + 1);
      keyCounts.set(route, keys);
    }

    const { latencyMs, fault } = faults.draw(route);
    if (latencyMs > 0) await sleep(latencyMs);
    switch (fault?.kind) {
      case undefined:
        return send(res, resolution.answer());
      case 'status':
        return send(res, {
          status: fault.status,
          body: fault.body ?? { error: 'simulated' },
          headers:
            fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) },
        });
      case 'drop':
        return void req.socket.destroy();
      case 'drop_after_processing':
        resolution.answer(); // looked up (and, for a metered API, paid for), never delivered
        return void req.socket.destroy();
      case 'hang':
        return; // never answered; the socket closes with the server
      case 'malformed_body':
        return send(res, { status: 200, body: options.inBand.malformedBody });
      case 'error_body':
        return send(res, { ...options.inBand.errorBody, body: fault.body ?? options.inBand.errorBody.body });
      case 'expired_token':
        return send(res, options.inBand.expiredToken);
      case 'trickle':
      case 'huge_body':
        return deliverWithFault(res, raw(resolution.answer()), fault);
    }
  }

  function control(url: URL, method: string, body: string): SimAnswer {
    if (url.pathname !== '/_sim/faults' || method !== 'POST')
      return { status: 404, body: { error: 'not_found' } };
    let request: FaultRequest<LookupFault>;
    try {
      request = JSON.parse(body || '{}') as FaultRequest<LookupFault>;
    } catch {
      return { status: 400, body: { error: 'invalid_json' } };
    }
    faults.apply(request);
    return { status: 200, body: { ok: true } };
  }

  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://${urlHost(options.host ?? '127.0.0.1')}:${port}`,
    faults,
    calls: (route) => callCounts.get(route) ?? 0,
    callsByKey: (route) => new Map(keyCounts.get(route)),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A wildcard bind is reached on loopback; IPv6 literals need brackets in a URL. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** A request's body as text (shared by the simulators). */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

function raw(answer: SimAnswer): RawAnswer {
  return {
    status: answer.status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...answer.headers },
    text: typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body),
  };
}

function send(res: ServerResponse, answer: SimAnswer): void {
  const { status, headers, text } = raw(answer);
  res.writeHead(status, headers);
  res.end(text);
}
