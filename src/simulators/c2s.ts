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

/** A lead the simulated C2S holds: its id and `updated_at` as C2S writes it (ms, `-03:00`). */
export interface SimulatedLead {
  readonly id: string;
  readonly updatedAt: string;
}

export interface SeedOptions {
  readonly count: number;
  /** `updated_at` of the leads, spread evenly over [from, until). */
  readonly from: Date;
  readonly until: Date;
  /** The n-th lead's attributes (customer, description, ...); none by default. */
  readonly attributes?: (index: number) => Record<string, unknown>;
  /** Prefix of the generated ids (32 hex characters in all, as C2S's). */
  readonly idPrefix?: string;
}

export interface C2sSimulator {
  readonly url: string;
  readonly faults: FaultPlan;
  /** Notes received, optionally for one lead, in arrival order. */
  notes(leadId?: string): ReceivedNote[];
  /** Calls received per route (`create_message`, `get_lead`, `list_leads`). */
  calls(route: string): number;
  /** Listing calls answered 429 (by the listing's rate limit, or an injected fault). */
  listingRateLimited(): number;
  /**
   * Creates or replaces a lead: what `GET /integration/leads/{id}` answers as its attributes
   * (customer, description, ...), and what the listing lists. Its `updated_at` is the
   * attributes' own, or now.
   */
  putLead(leadId: string, attributes: Record<string, unknown>): void;
  /** Creates `count` leads updated over a window, for listings: answers them oldest first. */
  seedLeads(options: SeedOptions): SimulatedLead[];
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
  /**
   * The lead listing's rate limit, as the real API's (about 10 calls a minute; past that, 429
   * for about 65 s): calls accepted in any `listWindowMs`. 0 turns it off. Tests shrink the window.
   */
  readonly listLimitPerWindow?: number;
  readonly listWindowMs?: number;
  /** How long every listing call is refused once the limit is passed. */
  readonly listPenaltyMs?: number;
  /** Whether those 429s say Retry-After (whole seconds); whether the real API does is unknown. */
  readonly listRetryAfter?: boolean;
}

/** The real API's listing limits (providers.md). */
export const C2S_LIST_LIMIT = { perWindow: 10, windowMs: 60_000, penaltyMs: 65_000 } as const;

/** The largest `perpage` C2S accepts; above it, 403. */
const MAX_PER_PAGE = 50;
/** The only date format the listing's filters accept; anything else, 403. */
const FILTER_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const SORTS: Readonly<Record<string, { key: 'updated' | 'created'; direction: 1 | -1 }>> = {
  updated_at: { key: 'updated', direction: 1 },
  '-updated_at': { key: 'updated', direction: -1 },
  created_at: { key: 'created', direction: 1 },
  '-created_at': { key: 'created', direction: -1 },
};

interface StoredLead {
  readonly internalId: number;
  readonly attributes: Record<string, unknown>;
  /** Epoch milliseconds of `updated_at` and `created_at`, for filters and sorting. */
  readonly updated: number;
  readonly created: number;
}

/** A time as C2S writes it: milliseconds and the `-03:00` offset. */
export function c2sTimestamp(ms: number): string {
  return `${new Date(ms - 3 * 3_600_000).toISOString().slice(0, 23)}-03:00`;
}

const LEAD_ROUTE = /^\/integration\/leads\/([^/?]+)(\/create_message)?\/?$/;

/**
 * The C2S integration API as far as this service uses it: post a note on a lead, read a lead
 * with its messages, list leads by update time (with the listing's documented quirks), subscribe
 * hooks. Bearer auth as the real API (403 `not_authorized`). Control routes under `/_sim/`
 * inject faults and list the notes received.
 */
export async function startC2sSimulator(options: C2sSimulatorOptions): Promise<C2sSimulator> {
  const faults = new FaultPlan();
  const received: ReceivedNote[] = [];
  const callCounts = new Map<string, number>();
  const subscriptions = new Map<string, string>();
  const leads = new Map<string, StoredLead>();
  const removed = new Set<string>();
  const listLimit = listingLimit(options);
  let listing429s = 0;

  const storeLead = (leadId: string, attributes: Record<string, unknown>): StoredLead => {
    const at = (field: unknown, fallback: number) => {
      const ms = typeof field === 'string' ? Date.parse(field) : NaN;
      return Number.isNaN(ms) ? fallback : ms;
    };
    const updated = at(attributes.updated_at, Date.now());
    const lead = {
      internalId: leads.get(leadId)?.internalId ?? 40_000_000 + leads.size,
      attributes,
      updated,
      created: at(attributes.created_at, updated),
    };
    leads.set(leadId, lead);
    return lead;
  };

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
        ? listLeads(url, req, res)
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
          attributes: { updated_at: new Date().toISOString(), ...leads.get(leadId)?.attributes },
          messages: received
            .filter((note) => note.leadId === leadId)
            .map((note) => ({ sender_type: 'Integration', recipient_type: 'Seller', body: note.body })),
        },
      },
      fault,
    );
  }

  /**
   * `GET /integration/leads`, with the real API's quirks (providers.md): `perpage` above 50 and a
   * date filter not exactly `YYYY-MM-DDTHH:MM:SSZ` answer 403; unknown parameters are ignored;
   * without an explicit `sort` the order changes from call to call; a short page is the last
   * (no page count); past the rate limit every call answers 429 for the penalty's length.
   */
  async function listLeads(url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    callCounts.set('list_leads', (callCounts.get('list_leads') ?? 0) + 1);
    const refusal = listLimit.refusal();
    if (refusal) {
      listing429s++;
      res.writeHead(429, {
        'content-type': 'application/json',
        ...(refusal.retryAfterSeconds === undefined
          ? {}
          : { 'retry-after': String(refusal.retryAfterSeconds) }),
      });
      res.end(JSON.stringify({ error: 'too_many_requests' }));
      return;
    }
    const { latencyMs, fault } = faults.draw('list_leads');
    if (latencyMs > 0) await sleep(latencyMs);
    if (fault?.kind === 'status' && fault.status === 429) listing429s++;
    if (fault && (await applyFault(fault, req, res))) return;

    const page = Number(url.searchParams.get('page') ?? 1);
    const perPage = Number(url.searchParams.get('perpage') ?? MAX_PER_PAGE);
    const since = url.searchParams.get('updated_gte');
    if (
      !Number.isInteger(page) ||
      page < 1 ||
      !Number.isInteger(perPage) ||
      perPage < 1 ||
      perPage > MAX_PER_PAGE ||
      (since !== null && !FILTER_DATE.test(since))
    ) {
      return send(res, 403, { error: 'not_authorized' });
    }
    const sinceMs = since === null ? -Infinity : Date.parse(since);
    const sort = SORTS[url.searchParams.get('sort') ?? ''];
    const matching = [...leads].filter(([id, lead]) => lead.updated >= sinceMs && !removed.has(id));
    if (sort) {
      // Ties are broken by id: stable from call to call, as an explicit sort makes the real API.
      matching.sort(
        ([a, x], [b, y]) => sort.direction * (x[sort.key] - y[sort.key]) || (a < b ? -1 : a > b ? 1 : 0),
      );
    } else {
      shuffle(matching);
    }
    const slice = matching.slice((page - 1) * perPage, page * perPage);
    reply(
      res,
      200,
      {
        data: slice.map(([id, lead]) => ({
          type: 'lead',
          id,
          internal_id: lead.internalId,
          attributes: {
            ...lead.attributes,
            created_at: c2sTimestamp(lead.created),
            updated_at: c2sTimestamp(lead.updated),
          },
        })),
        meta: { total: matching.length, page, perpage: perPage },
      },
      fault,
    );
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
    listingRateLimited: () => listing429s,
    putLead: (leadId, attributes) => void storeLead(leadId, attributes),
    seedLeads({ count, from, until, attributes, idPrefix = 'aa' }) {
      const step = (until.getTime() - from.getTime()) / count;
      return Array.from({ length: count }, (_, index) => {
        const id = `${idPrefix}${index.toString(16).padStart(32 - idPrefix.length, '0')}`;
        const updatedAt = c2sTimestamp(from.getTime() + Math.floor(index * step));
        storeLead(id, { ...attributes?.(index), created_at: updatedAt, updated_at: updatedAt });
        return { id, updatedAt };
      });
    },
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

/**
 * The listing's rate limit: calls accepted in a sliding window; the call that finds the window
 * full starts a penalty during which every call is refused (and does not count), after which
 * the count starts again from nothing.
 */
function listingLimit(options: C2sSimulatorOptions) {
  const limit = options.listLimitPerWindow ?? C2S_LIST_LIMIT.perWindow;
  const windowMs = options.listWindowMs ?? C2S_LIST_LIMIT.windowMs;
  const penaltyMs = options.listPenaltyMs ?? C2S_LIST_LIMIT.penaltyMs;
  const accepted: number[] = [];
  let refusedUntil = 0;
  return {
    /** Counts this call; says how it is refused when it is over the limit. */
    refusal(): { retryAfterSeconds: number | undefined } | undefined {
      if (limit === 0) return undefined;
      const now = Date.now();
      if (now >= refusedUntil) {
        while (accepted.length > 0 && accepted[0]! <= now - windowMs) accepted.shift();
        if (accepted.length < limit) {
          accepted.push(now);
          return undefined;
        }
        refusedUntil = now + penaltyMs;
        accepted.length = 0; // counting starts afresh once the penalty is over
      }
      const seconds = Math.ceil((refusedUntil - now) / 1000);
      return { retryAfterSeconds: options.listRetryAfter === false ? undefined : seconds };
    },
  };
}

function shuffle<T>(items: T[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
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
