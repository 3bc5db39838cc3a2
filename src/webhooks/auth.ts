import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Checks a presented webhook token against every configured secret (several during rotation).
 * Both sides are hashed first so the comparison is constant-time whatever the lengths, and every
 * secret is compared so timing does not reveal which one matched.
 */
export function createTokenVerifier(secrets: readonly string[]): (presented: string | undefined) => boolean {
  const digests = secrets.map(digest);
  return (presented) => {
    if (presented === undefined || presented === '') return false;
    const candidate = digest(presented);
    let matched = false;
    for (const secret of digests) matched = timingSafeEqual(candidate, secret) || matched;
    return matched;
  };
}

function digest(value: string): Buffer {
  return hash('sha256', value, 'buffer'); // one call, no Hash object: it runs on every request
}

/** The token of a webhook request: `X-Webhook-Token` header first, else `?token=` (C2S cannot send headers). */
export function presentedToken(headers: Record<string, unknown>, query: unknown): string | undefined {
  const header = headers['x-webhook-token'];
  if (typeof header === 'string' && header !== '') return header;
  const token = (query as Record<string, unknown> | undefined)?.token;
  if (typeof token === 'string') return token;
  if (Array.isArray(token) && typeof token[0] === 'string') return token[0];
  return undefined;
}

/** Files in the data directory holding secrets generated outside production. */
export const WEBHOOK_SECRET_FILE = 'webhook-secret';
export const ADMIN_TOKEN_FILE = 'admin-token';

/** Where a generated secret is kept in a data directory. */
export function secretFile(dataDir: string, name = WEBHOOK_SECRET_FILE): string {
  return join(dataDir, name);
}

/** The secret a previous start generated in `dataDir`, if any (for the operator commands). */
export function keptSecret(dataDir: string, name = WEBHOOK_SECRET_FILE): string | undefined {
  const file = secretFile(dataDir, name);
  if (!existsSync(file)) return undefined;
  const kept = readFileSync(file, 'utf8').trim();
  return kept === '' ? undefined : kept;
}

/**
 * Outside production a missing WEBHOOK_SECRET (or ADMIN_TOKEN, `name` ADMIN_TOKEN_FILE) is
 * generated once and kept in the data directory, so the hook URL given to C2S stays valid across
 * restarts. `created` says whether this call generated it (the banner must not claim so when it
 * read the one kept earlier).
 */
export function generatedSecret(
  dataDir: string,
  name = WEBHOOK_SECRET_FILE,
): { secret: string; created: boolean } {
  const kept = keptSecret(dataDir, name);
  if (kept !== undefined) return { secret: kept, created: false };
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(24).toString('base64url');
  writeFileSync(secretFile(dataDir, name), `${secret}\n`, { mode: 0o600 });
  return { secret, created: true };
}
