import type pg from 'pg';
import type { NoteState } from '../notes/ledger.ts';

export interface LeadCheck {
  readonly leadId: string;
  /** The note's references (current and legacy). */
  readonly refs: readonly string[];
  /** Digests of the lead's identifiers, to look for on the suppression list. */
  readonly digests: readonly Buffer[];
}

/**
 * For each lead, in one statement for all of them (runs asking at the same moment share it):
 * whether its note is already on it (in one of `states`), and whether it names a suppressed
 * person. By `= ANY` on both key columns of the notes: the primary key is searched, whatever the
 * planner assumed of the table when it made the statement's plan.
 */
export async function checkLeads(
  db: pg.Pool,
  checks: readonly LeadCheck[],
  states: readonly NoteState[],
): Promise<Array<{ sent: boolean; suppressed: boolean }>> {
  const { rows } = await db.query<{ lead_id: string | null; ref: string | null; digest: Buffer | null }>({
    name: 'check-leads',
    text: `SELECT lead_id, ref, NULL::bytea AS digest FROM notes
           WHERE lead_id = ANY($1::text[]) AND ref = ANY($2::text[]) AND state = ANY($3::text[])
           UNION ALL
           SELECT NULL, NULL, digest FROM suppressed_identifiers WHERE digest = ANY($4::bytea[])`,
    values: [
      checks.map((check) => check.leadId),
      checks.flatMap((check) => check.refs),
      states,
      checks.flatMap((check) => check.digests),
    ],
  });
  const sent = new Set<string>();
  const listed = new Set<string>();
  for (const row of rows) {
    if (row.digest) listed.add(row.digest.toString('hex'));
    else sent.add(`${row.lead_id}\n${row.ref}`);
  }
  return checks.map((check) => ({
    sent: check.refs.some((ref) => sent.has(`${check.leadId}\n${ref}`)),
    suppressed: listed.size > 0 && check.digests.some((digest) => listed.has(digest.toString('hex'))),
  }));
}
