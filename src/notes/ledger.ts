import type pg from 'pg';

export type NoteState = 'pending' | 'sent' | 'unknown';

/**
 * Claims the note `ref` for a lead. `claimedNow` is true when this call created the claim;
 * otherwise `state` is what an earlier attempt left (a `pending` or `unknown` note may or may
 * not be on the lead already).
 */
export async function claimNote(
  db: pg.Pool,
  note: { ref: string; leadId: string; eventId: string },
): Promise<{ state: NoteState; claimedNow: boolean }> {
  const { rows } = await db.query<{ state: NoteState; claimed_now: boolean }>({
    name: 'claim-note',
    text: `WITH claim AS (
             INSERT INTO notes (ref, lead_id, event_id, state) VALUES ($1, $2, $3, 'pending')
             ON CONFLICT (ref) DO NOTHING
             RETURNING state
           )
           SELECT state, true AS claimed_now FROM claim
           UNION ALL
           SELECT state, false FROM notes WHERE ref = $1 AND NOT EXISTS (SELECT 1 FROM claim)`,
    values: [note.ref, note.leadId, note.eventId],
  });
  const row = rows[0];
  if (!row) throw new Error('note claim returned nothing');
  return { state: row.state, claimedNow: row.claimed_now };
}

/** Records how notes stand, in one statement for all of them (see `createBatcher`). */
export async function setNoteStates(
  db: pg.Pool,
  notes: ReadonlyArray<{ readonly ref: string; readonly state: NoteState }>,
): Promise<void> {
  await db.query({
    name: 'set-note-states',
    text: `UPDATE notes n SET state = x.state, updated_at = now(), attempts = n.attempts + 1,
             sent_at = CASE WHEN x.state = 'sent' THEN now() ELSE n.sent_at END
           FROM unnest($1::text[], $2::text[]) AS x(ref, state)
           WHERE n.ref = x.ref`,
    values: [notes.map((note) => note.ref), notes.map((note) => note.state)],
  });
}

/**
 * Whether each of these notes was sent, in one query: runs asking at the same moment share it
 * (see `createBatcher`).
 */
export async function notesSent(db: pg.Pool, refs: readonly string[]): Promise<boolean[]> {
  const { rows } = await db.query<{ ref: string }>({
    name: 'notes-sent',
    text: `SELECT ref FROM notes WHERE ref = ANY($1::text[]) AND state = 'sent'`,
    values: [refs],
  });
  const sent = new Set(rows.map((row) => row.ref));
  return refs.map((ref) => sent.has(ref));
}
