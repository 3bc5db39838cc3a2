import { randomBytes } from 'node:crypto';
import { WEBHOOK_PATH } from './webhooks/routes.ts';

/**
 * The eight checks the earlier service's smoke script ran, against any deployment. Lead ids are
 * random per run, so running it again (or against production) never collides with real leads.
 */
export interface SmokeCheck {
  readonly name: string;
  readonly passed: boolean;
  readonly detail: string;
}

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export async function runSmokeChecks(baseUrl: string, secret: string): Promise<SmokeCheck[]> {
  const leadId = `smoke-${randomBytes(8).toString('hex')}`;
  const now = Date.now();
  const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();
  const event = (id: string, updatedAt?: string) => ({
    id,
    hook_action: 'on_create_lead',
    attributes: {
      customer: { name: 'Smoke Test' },
      ...(updatedAt === undefined ? {} : { updated_at: updatedAt }),
    },
  });
  const post = async (body: unknown, token: string | null): Promise<Answer> => {
    const response = await fetch(`${baseUrl.replace(/\/+$/, '')}${WEBHOOK_PATH}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token === null ? {} : { 'x-webhook-token': token }),
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    try {
      return { status: response.status, body: JSON.parse(text) as Record<string, unknown> };
    } catch {
      return { status: response.status, body: { text: text.slice(0, 200) } };
    }
  };

  const checks: Array<[string, () => Promise<Answer>, (answer: Answer) => boolean]> = [
    ['missing token → 401', () => post(event(leadId, at(10)), null), (a) => a.status === 401],
    ['wrong token → 401', () => post(event(leadId, at(10)), `${secret}-wrong`), (a) => a.status === 401],
    [
      'valid single event → 200',
      () => post(event(leadId, at(10)), secret),
      (a) => a.status === 200 && a.body.processed === 1,
    ],
    [
      'same event again → 200 duplicate',
      () => post(event(leadId, at(10)), secret),
      (a) => a.status === 200 && a.body.duplicates === 1,
    ],
    [
      'same lead, new updated_at → 200 new event',
      () => post(event(leadId, at(5)), secret),
      (a) => a.status === 200 && a.body.processed === 1,
    ],
    [
      'batch of 3 → 200',
      () =>
        post(
          [1, 2, 3].map((n) => event(`${leadId}-${n}`, at(1))),
          secret,
        ),
      (a) => a.status === 200 && a.body.received === 3 && a.body.processed === 3,
    ],
    ['missing updated_at → 400', () => post(event(`${leadId}-x`), secret), (a) => a.status === 400],
    [
      'invalid timestamp → 400',
      () => post(event(`${leadId}-y`, 'not-a-date'), secret),
      (a) => a.status === 400,
    ],
  ];

  const results: SmokeCheck[] = [];
  for (const [name, send, ok] of checks) {
    try {
      const answer = await send();
      results.push({
        name,
        passed: ok(answer),
        detail: `${answer.status} ${JSON.stringify(answer.body).slice(0, 160)}`,
      });
    } catch (error) {
      results.push({ name, passed: false, detail: (error as Error).message });
    }
  }
  return results;
}
