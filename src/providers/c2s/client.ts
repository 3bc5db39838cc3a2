import type { Dispatcher } from 'undici';
import { PermanentError } from '../../errors.ts';
import { callProvider, statusError } from '../http.ts';

export interface C2sMessage {
  readonly body: string;
  readonly sender_type?: string;
}

export interface C2sLead {
  readonly id: string;
  readonly attributes: Record<string, unknown>;
  readonly messages: readonly C2sMessage[];
}

export interface C2sClient {
  /** `POST /integration/leads/{id}/create_message`. */
  postNote(leadId: string, body: string, signal?: AbortSignal): Promise<void>;
  /** `GET /integration/leads/{id}`, with the lead's messages. */
  getLead(leadId: string, signal?: AbortSignal): Promise<C2sLead>;
}

export interface C2sClientOptions {
  readonly baseUrl: string;
  readonly token: string;
  readonly dispatcher: Dispatcher;
}

/** The C2S integration API (Bearer token). */
export function createC2sClient(options: C2sClientOptions): C2sClient {
  const headers = {
    authorization: `Bearer ${options.token}`,
    'content-type': 'application/json',
    accept: 'application/json',
  };
  const leadUrl = (leadId: string) => `${options.baseUrl}/integration/leads/${encodeURIComponent(leadId)}`;

  return {
    async postNote(leadId, body, signal) {
      const call = {
        provider: 'c2s',
        method: 'POST' as const,
        url: `${leadUrl(leadId)}/create_message`,
        headers,
        body: JSON.stringify({ body }),
        signal,
      };
      const answer = await callProvider(options.dispatcher, call);
      if (answer.status < 200 || answer.status >= 300) throw statusError('c2s', 'POST', answer);
    },

    async getLead(leadId, signal) {
      const answer = await callProvider(options.dispatcher, {
        provider: 'c2s',
        method: 'GET',
        url: leadUrl(leadId),
        headers,
        signal,
      });
      if (answer.status !== 200) throw statusError('c2s', 'GET', answer);
      let data: { id?: unknown; attributes?: unknown; messages?: unknown } | undefined;
      try {
        data = (JSON.parse(answer.text) as { data?: typeof data }).data;
      } catch {
        throw new PermanentError('c2s_malformed_body', 'c2s answered a lead that is not JSON');
      }
      if (typeof data !== 'object' || data === null)
        throw new PermanentError('c2s_malformed_body', 'c2s answered a lead without data');
      const messages = Array.isArray(data.messages)
        ? data.messages.filter((m): m is C2sMessage => typeof (m as C2sMessage | null)?.body === 'string')
        : [];
      return {
        id: typeof data.id === 'string' ? data.id : leadId,
        attributes: (data.attributes as Record<string, unknown>) ?? {},
        messages,
      };
    },
  };
}
