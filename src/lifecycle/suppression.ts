/**
 * The suppression list: people erased with `--suppress` object to any further processing (LGPD
 * art. 18). It holds keyed hashes of their identifiers, never the values; an event naming one of
 * them completes as `suppressed` before anything is looked up.
 */
import { createHmac } from 'node:crypto';
import type pg from 'pg';
import type { Config } from '../config.ts';
import type { Identifiers } from '../people/identifiers.ts';
import { generatedSecret } from '../webhooks/auth.ts';

/** HMAC-SHA256 of each identifier, its kind included (a phone never matches a CPF of the same digits). */
export function digestsOf(key: string, identifiers: Identifiers): Buffer[] {
  const digest = (kind: string, value: string) =>
    createHmac('sha256', key).update(`${kind}:${value}`).digest();
  return [
    ...[...identifiers.cpfs].map((cpf) => digest('cpf', cpf)),
    ...[...identifiers.phones].map((phone) => digest('phone', phone)),
    ...[...identifiers.emails].map((email) => digest('email', email)),
  ];
}

/** Adds the identifiers to the list (in the caller's transaction); answers how many were new. */
export async function suppress(
  client: pg.ClientBase,
  key: string,
  identifiers: Identifiers,
): Promise<number> {
  const { rowCount } = await client.query(
    `INSERT INTO suppressed_identifiers (digest) SELECT unnest($1::bytea[]) ON CONFLICT DO NOTHING`,
    [digestsOf(key, identifiers)],
  );
  return rowCount ?? 0;
}

/**
 * The workflow's view of the list: the digests to look for. The look-up itself rides on
 * statements the workflow makes anyway (the contacts step's note check, the finding step's party
 * statement), so it costs no round trip of its own. No key configured: nothing to look for (the
 * erase command refuses `--suppress` then).
 */
export interface Suppression {
  digests(identifiers: Identifiers): Buffer[];
}

export function suppressionOf(key: string | undefined): Suppression {
  return { digests: (identifiers) => (key === undefined ? [] : digestsOf(key, identifiers)) };
}

/** Where a generated suppression key is kept in the data directory (outside production). */
export const SUPPRESSION_SECRET_FILE = 'suppression-secret';

/**
 * The suppression list's key: SUPPRESSION_SECRET, or outside production one generated once and
 * kept in the data directory (the service and the command line read the same one). In production
 * without it there is no list: `erase --suppress` refuses.
 */
export function suppressionKeyOf(config: Config): string | undefined {
  if (config.suppressionSecret !== undefined) return config.suppressionSecret;
  return config.production ? undefined : generatedSecret(config.dataDir, SUPPRESSION_SECRET_FILE).secret;
}
