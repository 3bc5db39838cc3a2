import type { Dispatcher } from 'undici';
import {
  ProviderCircuitOpenError,
  ProviderMalformedBodyError,
  ProviderUnreachableError,
} from '../../errors.ts';
import type { ProviderGuard } from '../guard.ts';
import { callProvider, statusError, type ProviderAnswer } from '../http.ts';
import type { HookAction } from '../../webhooks/envelope.ts';
import { leadsUpdatedBetween, MAX_PAGE_SIZE, type LeadPageQuery, type ListingPage } from './lead-listing.ts';

export interface C2sMessage {
  readonly body: string;
  readonly sender_type?: string;
}

export interface C2sLead {
  readonly id: string;
  /** C2S's integer id of the lead, when it says it. */
  readonly internalId?: number;
  readonly attributes: Record<string, unknown>;
  readonly messages: readonly C2sMessage[];
}

export type { HookAction, LeadPageQuery, ListingPage };
export { MAX_PAGE_SIZE };

export interface C2sClient {
  /** `POST /integration/leads/{id}/create_message`; through the gateway when C2S cannot be reached. */
  postNote(leadId: string, body: string, signal?: AbortSignal): Promise<void>;
  /** `GET /integration/leads/{id}`, with the lead's messages. */
  getLead(leadId: string, signal?: AbortSignal): Promise<C2sLead>;
  /** `GET /integration/leads`: one page, paced by the listing's own limiter; a short page is the last. */
  listLeads(query: LeadPageQuery, signal?: AbortSignal): Promise<{ leads: C2sLead[]; total: number | null }>;
  /**
   * Every lead updated within the window, page by page (see `leadsUpdatedBetween`): paced under
   * C2S's listing limit, 429s waited out, nothing skipped when the list moves while it is read.
   */
  listLeadsUpdated(
    window: { readonly since: Date; readonly until: Date },
    signal?: AbortSignal,
  ): AsyncGenerator<ListingPage>;
  subscribe(hookUrl: string, action: HookAction): Promise<void>;
  unsubscribe(hookUrl: string, action: HookAction): Promise<void>;
}

export interface C2sClientOptions {
  readonly baseUrl: string;
  readonly token: string;
  /** The older deployment's gateway, used for notes only when C2S itself cannot be reached. */
  readonly gatewayUrl?: string;
  readonly dispatcher: Dispatcher;
  /** Total deadline of each call, headers and body together. */
  readonly timeoutMs: number;
  /** The largest answer body read (bytes); default 2 MiB. */
  readonly maxResponseBytes?: number;
  /** Paces every call with this token. */
  readonly guard: ProviderGuard;
  /** Listing has its own, much lower limit (about 10 calls a minute): its own pacing. */
  readonly listGuard: ProviderGuard;
  /** How long the listing waits after a 429 without Retry-After; default 65 s, as C2S's. */
  readonly listPenaltyMs?: number;
  /**
   * The gateway's own pacing and breaker: it is used exactly when C2S's breaker may be open, so
   * it cannot go through C2S's.
   */
  readonly gatewayGuard: ProviderGuard;
}

/** C2S's penalty after its listing limit: about 65 s before the next call succeeds. */
export const LIST_PENALTY_MS = 65_000;

/** The C2S integration API (Bearer token). */
export function createC2sClient(options: C2sClientOptions): C2sClient {
  const headers = {
    authorization: `Bearer ${options.token}`,
    'content-type': 'application/json',
    accept: 'application/json',
  };
  const leadUrl = (leadId: string) => `${options.baseUrl}/integration/leads/${encodeURIComponent(leadId)}`;
  const call = (method: 'GET' | 'POST', url: string, body?: unknown, signal?: AbortSignal) =>
    callProvider(options.dispatcher, {
      provider: 'c2s',
      method,
      url,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      timeoutMs: options.timeoutMs,
      maxResponseBytes: options.maxResponseBytes,
    });
  const expect = (method: 'GET' | 'POST', answer: ProviderAnswer, ok: (status: number) => boolean) => {
    if (!ok(answer.status)) throw statusError('c2s', method, answer);
    return answer;
  };

  async function postViaGateway(leadId: string, body: string, signal?: AbortSignal): Promise<void> {
    const answer = await callProvider(options.dispatcher, {
      provider: 'c2s_gateway',
      method: 'POST',
      url: `${options.gatewayUrl}/leads/${encodeURIComponent(leadId)}/messages`,
      headers,
      body: JSON.stringify({ message: body }),
      signal,
      timeoutMs: options.timeoutMs,
      maxResponseBytes: options.maxResponseBytes,
    });
    if (answer.status < 200 || answer.status >= 300) throw statusError('c2s_gateway', 'POST', answer);
  }

  /** One call per action; C2S keeps one hook URL per token, so a new one replaces the old. */
  async function subscription(
    verb: 'subscribe' | 'unsubscribe',
    hookUrl: string,
    action: HookAction,
  ): Promise<void> {
    await options.guard.run(verb, async () => {
      const answer = await call('POST', `${options.baseUrl}/integration/leads/${verb}`, {
        hook_url: hookUrl,
        hook_action: action,
      });
      expect('POST', answer, (s) => s >= 200 && s < 300);
      return { value: undefined };
    });
  }

  const listLeads: C2sClient['listLeads'] = ({ page, perPage, updatedSince, sort }, signal) => {
    const query = new URLSearchParams({
      page: String(page),
      perpage: String(Math.min(perPage, MAX_PAGE_SIZE)),
      sort,
      updated_gte: `${updatedSince.toISOString().slice(0, 19)}Z`, // exactly YYYY-MM-DDTHH:MM:SSZ
    });
    return options.listGuard.run('list_leads', async () => {
      const answer = expect(
        'GET',
        await call('GET', `${options.baseUrl}/integration/leads?${query.toString()}`, undefined, signal),
        (s) => s === 200,
      );
      const parsed = parse(answer.text) as { data?: unknown; meta?: { total?: unknown } };
      if (!Array.isArray(parsed.data))
        throw new ProviderMalformedBodyError('c2s', { message: 'c2s answered a list without data' });
      const total = typeof parsed.meta?.total === 'number' ? parsed.meta.total : null;
      return { value: { leads: parsed.data.map((lead: unknown) => leadFrom(lead, '')), total } };
    });
  };

  return {
    async postNote(leadId, body, signal) {
      try {
        await options.guard.run('post_note', async () => {
          expect(
            'POST',
            await call('POST', `${leadUrl(leadId)}/create_message`, { body }, signal),
            (s) => s >= 200 && s < 300,
          );
          return { value: undefined };
        });
      } catch (error) {
        // Only when the note surely did not reach C2S: never after an unknown outcome.
        const unreachable =
          (error instanceof ProviderUnreachableError || error instanceof ProviderCircuitOpenError) &&
          error.provider === 'c2s';
        if (!options.gatewayUrl || !unreachable) throw error;
        await options.gatewayGuard.run('post_note_gateway', async () => {
          await postViaGateway(leadId, body, signal);
          return { value: undefined };
        });
      }
    },

    async getLead(leadId, signal) {
      return options.guard.run('get_lead', async () => {
        const answer = expect('GET', await call('GET', leadUrl(leadId), undefined, signal), (s) => s === 200);
        return { value: leadFrom(parse(answer.text).data, leadId) };
      });
    },

    listLeads,

    listLeadsUpdated(window, signal) {
      return leadsUpdatedBetween(listLeads, window, {
        penaltyMs: options.listPenaltyMs ?? LIST_PENALTY_MS,
        signal,
      });
    },

    subscribe: (hookUrl, action) => subscription('subscribe', hookUrl, action),
    unsubscribe: (hookUrl, action) => subscription('unsubscribe', hookUrl, action),
  };
}

function parse(text: string): { data?: unknown } {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null) return value;
  } catch {
    // handled below
  }
  throw new ProviderMalformedBodyError('c2s', { message: 'c2s answered a body that is not a JSON object' });
}

function leadFrom(data: unknown, fallbackId: string): C2sLead {
  if (typeof data !== 'object' || data === null)
    throw new ProviderMalformedBodyError('c2s', { message: 'c2s answered a lead without data' });
  const lead = data as { id?: unknown; internal_id?: unknown; attributes?: unknown; messages?: unknown };
  const messages = Array.isArray(lead.messages)
    ? lead.messages.filter((m): m is C2sMessage => typeof (m as C2sMessage | null)?.body === 'string')
    : [];
  return {
    id: typeof lead.id === 'string' ? lead.id : fallbackId,
    ...(Number.isSafeInteger(lead.internal_id) ? { internalId: lead.internal_id as number } : {}),
    attributes:
      typeof lead.attributes === 'object' && lead.attributes !== null
        ? (lead.attributes as Record<string, unknown>)
        : {},
    messages,
  };
}
