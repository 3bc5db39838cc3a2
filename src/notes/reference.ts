import { createHash } from 'node:crypto';

/**
 * A note's reference: `enr-` and 16 hex digits (64 bits) of sha256(lead id, newline, key), the
 * same for the same lead and enrichment key. The ledger is keyed by (lead, reference), so two
 * leads never share a row; the 64 bits keep two keys of one lead apart.
 */
export function noteRef(leadId: string, key: string): string {
  return `enr-${createHash('sha256').update(`${leadId}\n${key}`).digest('hex').slice(0, 16)}`;
}

/**
 * The reference the same note had before references grew to 16 hex digits (`enr-` + 8): the
 * first 8 digits of the same hash. Notes posted with it are still recognised.
 */
export function legacyRef(ref: string): string {
  return ref.slice(0, 'enr-'.length + 8);
}

/** The references a note may have been posted under: the current one, then the legacy one. */
export function knownRefs(ref: string): readonly string[] {
  const legacy = legacyRef(ref);
  return legacy === ref ? [ref] : [ref, legacy];
}

/** The line that ends every note and lets us recognise one already posted. */
export function referenceLine(ref: string): string {
  return `ref: ${ref}`;
}

/** A reference as it appears in a note's text, however C2S renders it (HTML, spaces, NBSP). */
const REFERENCE = /ref:\s*(enr-[0-9a-f]{8,16})(?![0-9a-f])/g;

/**
 * Whether a note text carries one of these references: each `ref: enr-…` in it is read whole,
 * so a legacy reference is never taken for the longer one that starts with it.
 */
export function carriesReference(body: string, refs: readonly string[]): boolean {
  const wanted = new Set(refs);
  for (const match of body.matchAll(REFERENCE)) if (wanted.has(match[1]!)) return true;
  return false;
}
