import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { FaultPlan, type Fault } from './faults.ts';

/** A note the simulated C2S received, with when (for latency measurements). */
export interface ReceivedNote {
  readonly leadId: string;
  readonly body: string;
  readonly receivedAt: number;
}

export interface C2sSimulator {
  readonly url: string;
  readonly faults: FaultPlan;
  /** Notes received, optionally for one lead, in arrival order. */
  notes(leadId?: string): ReceivedNote[];
  /** Calls received per route (`create_message`, `get_lead`). */
  calls(route: string): number;
  close(): Promise<void>;
}

export interface C2sSimulatorOptions {
  readonly token: string;
  readonly port?: number;
  readonly host?: string;
}

const LEAD_ROUTE = /^\/integration\/leads\/([^/?]+)(\/create_message)?\/?$/;

/**
 * The C2S integration API as far as this service uses it: post a note on a lead, read a lead
 * with its messages. Bearer auth as the real API (403 `not_authorized`). Control routes under
 * `/_sim/` inject faults and list the notes received.
 */
export async function startC2sSimulator(options: C2sSimulatorOptions): Promise<C2sSimulator> {
  const faults = new FaultPlan();
  const received: ReceivedNote[] = [];
  const callCounts = new Map<string, number>();

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, { error: 'simulator_error' });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const body = await readBody(req);
    if (url.pathname.startsWith('/_sim/')) return control(url, req.method ?? 'GET', body, res);

    const match = LEAD_ROUTE.exec(url.pathname);
    if (!match) return send(res, 404, { error: 'not_found' });
    if (req.headers.authorization !== `Bearer ${options.token}`)
      return send(res, 403, { error: 'not_authorized' });
    const leadId = decodeURIComponent(match[1]!);
    const route = match[2] ? 'create_message' : 'get_lead';
    if ((route === 'create_message') !== (req.method === 'POST'))
      return send(res, 405, { error: 'method_not_allowed' });
    callCounts.set(route, (callCounts.get(route) ?? 0) + 1);

    const { latencyMs, fault } = faults.draw(route);
    if (latencyMs > 0) await sleep(latencyMs);
    if (fault && (await applyFault(fault, req, res))) return;

    if (route === 'create_message') {
      let note: unknown;
      try {
        note = JSON.parse(body);
      } catch {
        return send(res, 400, { error: 'invalid_json' });
      }
      const text = (note as { body?: unknown } | null)?.body;
      if (typeof text !== 'string' || text.trim() === '')
        return send(res, 422, { error: 'body is required' });
      received.push({ leadId, body: text, receivedAt: Date.now() });
      if (fault?.kind === 'drop_after_processing') return void req.socket.destroy();
      return send(res, 201, { success: true });
    }
    return send(res, 200, {
      data: {
        type: 'lead',
        id: leadId,
        attributes: { updated_at: new Date().toISOString() },
        messages: received
          .filter((note) => note.leadId === leadId)
          .map((note) => ({ sender_type: 'Integration', recipient_type: 'Seller', body: note.body })),
      },
    });
  }

  /** Applies a fault; true when the request has been dealt with. */
  async function applyFault(fault: Fault, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    switch (fault.kind) {
      case 'status':
        res.writeHead(fault.status, {
          'content-type': 'application/json',
          ...(fault.retryAfterSeconds === undefined
            ? {}
            : { 'retry-after': String(fault.retryAfterSeconds) }),
        });
        res.end(fault.body ?? JSON.stringify({ error: 'simulated' }));
        return true;
      case 'drop':
        req.socket.destroy();
        return true;
      case 'hang':
        return true; // never answered; the socket closes with the server
      case 'malformed_body':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"data": ');
        return true;
      case 'drop_after_processing':
        return false; // processed normally, dropped before the answer
    }
  }

  function control(url: URL, method: string, body: string, res: ServerResponse): void {
    if (url.pathname === '/_sim/notes' && method === 'GET') {
      const leadId = url.searchParams.get('lead_id') ?? undefined;
      return send(res, 200, {
        notes: received.filter((note) => leadId === undefined || note.leadId === leadId),
      });
    }
    if (url.pathname === '/_sim/faults' && method === 'POST') {
      const request = JSON.parse(body || '{}') as {
        route?: string;
        fault?: Fault;
        times?: number;
        latencyMs?: number;
        errorRate?: number;
        reset?: boolean;
      };
      if (request.reset) faults.reset();
      if (request.route && request.fault) faults.failNext(request.route, request.fault, request.times ?? 1);
      if (request.route && (request.latencyMs !== undefined || request.errorRate !== undefined)) {
        faults.set(request.route, {
          latencyMs: request.latencyMs,
          errorRate: request.errorRate,
          errorFault: request.fault,
        });
      }
      return send(res, 200, { ok: true });
    }
    return send(res, 404, { error: 'not_found' });
  }

  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    faults,
    notes: (leadId) => received.filter((note) => leadId === undefined || note.leadId === leadId),
    calls: (route) => callCounts.get(route) ?? 0,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
