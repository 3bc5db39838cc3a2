/**
 * The suppression list: people erased with `--suppress` object to any further processing (LGPD
 * art. 18). It holds keyed hashes of their identifiers, never the values; an event naming one of
 * them completes as `suppressed` before anything is looked up.
 */
import { createHmac } from 'node:crypto';
import type pg from 'pg';
import type { Config } from '../config.ts';
import { createBatcher } from '../db/batcher.ts';
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

export interface SuppressionCheck {
  /** Whether any of these identifiers is on the list. */
  names(identifiers: Identifiers): Promise<boolean>;
}

/**
 * The workflow's check. Runs asking at the same moment share one query; with no secret
 * configured there is no list to check (the erase command refuses `--suppress` then).
 */
export function suppressionCheck(db: pg.Pool, key: string | undefined): SuppressionCheck {
  if (key === undefined) return { names: async () => false };
  const lookup = createBatcher<readonly Buffer[], boolean>(async (asks) => {
    const { rows } = await db.query<{ digest: Buffer }>({
      name: 'suppressed-digests',
      text: 'SELECT digest FROM suppressed_identifiers WHERE digest = ANY($1::bytea[])',
      values: [asks.flat()],
    });
    if (rows.length === 0) return asks.map(() => false);
    const listed = new Set(rows.map((row) => row.digest.toString('hex')));
    return asks.map((digests) => digests.some((digest) => listed.has(digest.toString('hex'))));
  });
  return {
    async names(identifiers) {
      const digests = digestsOf(key, identifiers);
      return digests.length > 0 && (await lookup(digests));
    },
  };
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
