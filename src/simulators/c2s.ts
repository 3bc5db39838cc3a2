import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { deliverWithFault, FaultPlan, isDeliveryFault, type Fault, type FaultRequest } from './faults.ts';
import { readBody } from './lookup-server.ts';

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
  /** Calls received per route (`create_message`, `get_lead`, `list_leads`). */
  calls(route: string): number;
  /** Sets what `GET /integration/leads/{id}` answers as the lead's attributes (customer, description, ...). */
  putLead(leadId: string, attributes: Record<string, unknown>): void;
  /** Hook URL subscribed per action. */
  subscriptions(): Record<string, string>;
  /** Answers every call about this lead (read, note) with 404, as for a lead deleted in C2S. */
  removeLead(leadId: string): void;
  /** Undoes `removeLead`. */
  restoreLead(leadId: string): void;
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
  const subscriptions = new Map<string, string>();
  const leads = new Map<string, Record<string, unknown>>();
  const removed = new Set<string>();

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, { error: 'simulator_error' });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const body = await readBody(req);
    if (url.pathname.startsWith('/_sim/')) return control(url, req.method ?? 'GET', body, res);

    if (
      url.pathname === '/integration/leads' ||
      url.pathname.startsWith('/integration/leads/subscribe') ||
      url.pathname.startsWith('/integration/leads/unsubscribe')
    ) {
      if (req.headers.authorization !== `Bearer ${options.token}`)
        return send(res, 403, { error: 'not_authorized' });
      return url.pathname === '/integration/leads'
        ? listLeads(url, res)
        : subscription(url.pathname.endsWith('/unsubscribe'), body, res);
    }
    const match = LEAD_ROUTE.exec(url.pathname);
    if (!match) return send(res, 404, { error: 'not_found' });
    if (req.headers.authorization !== `Bearer ${options.token}`)
      return send(res, 403, { error: 'not_authorized' });
    const leadId = decodeURIComponent(match[1]!);
    const route = match[2] ? 'create_message' : 'get_lead';
    if ((route === 'create_message') !== (req.method === 'POST'))
      return send(res, 405, { error: 'method_not_allowed' });
    callCounts.set(route, (callCounts.get(route) ?? 0) + 1);
    if (removed.has(leadId)) return send(res, 404, { error: 'not_found' });

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
      return reply(res, 201, { success: true }, fault);
    }
    return reply(
      res,
      200,
      {
        data: {
          type: 'lead',
          id: leadId,
          attributes: { updated_at: new Date().toISOString(), ...leads.get(leadId) },
          messages: received
            .filter((note) => note.leadId === leadId)
            .map((note) => ({ sender_type: 'Integration', recipient_type: 'Seller', body: note.body })),
        },
      },
      fault,
    );
  }

  /**
   * `GET /integration/leads`: the leads that received notes, as the real API pages them: `perpage`
   * above 50 and a malformed `updated_gte` answer 403, as documented.
   */
  function listLeads(url: URL, res: ServerResponse): void {
    callCounts.set('list_leads', (callCounts.get('list_leads') ?? 0) + 1);
    const page = Number(url.searchParams.get('page') ?? 1);
    const perPage = Number(url.searchParams.get('perpage') ?? 50);
    const since = url.searchParams.get('updated_gte');
    if (perPage > 50 || (since !== null && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(since))) {
      return send(res, 403, { error: 'not_authorized' });
    }
    const leads = [...new Set(received.map((note) => note.leadId))];
    const slice = leads.slice((page - 1) * perPage, page * perPage);
    send(res, 200, {
      data: slice.map((id) => ({ type: 'lead', id, attributes: {} })),
      meta: { total: leads.length, page, perpage: perPage },
    });
  }

  function subscription(remove: boolean, body: string, res: ServerResponse): void {
    let request: { hook_url?: unknown; hook_action?: unknown };
    try {
      request = JSON.parse(body) as typeof request;
    } catch {
      return send(res, 400, { error: 'invalid_json' });
    }
    const actions = ['on_create_lead', 'on_update_lead', 'on_close_lead'];
    if (
      typeof request.hook_url !== 'string' ||
      typeof request.hook_action !== 'string' ||
      !actions.includes(request.hook_action)
    ) {
      return send(res, 422, { error: 'invalid hook_action' });
    }
    if (remove) subscriptions.delete(request.hook_action);
    else subscriptions.set(request.hook_action, request.hook_url); // one URL per token: a new one replaces the old
    send(res, 200, {
      success: true,
      message: remove ? 'Unsubscribed successfully' : 'Subscribed successfully',
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
      case 'trickle':
      case 'huge_body':
        return false; // processed normally, the answer delivered slowly or hugely
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
      faults.apply(JSON.parse(body || '{}') as FaultRequest);
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
    putLead: (leadId, attributes) => void leads.set(leadId, attributes),
    subscriptions: () => Object.fromEntries(subscriptions),
    removeLead: (leadId) => void removed.add(leadId),
    restoreLead: (leadId) => void removed.delete(leadId),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers a processed call, as a delivery fault (trickle, huge body) says when there is one. */
function reply(res: ServerResponse, status: number, body: unknown, fault: Fault | undefined): void {
  if (!isDeliveryFault(fault)) return send(res, status, body);
  deliverWithFault(
    res,
    { status, headers: { 'content-type': 'application/json' }, text: JSON.stringify(body) },
    fault,
  );
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
