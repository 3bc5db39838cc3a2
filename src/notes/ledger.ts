import type pg from 'pg';
import type { Fence } from '../queue/claims.ts';

/** `dry_run`: composed under DRY_RUN and kept here with its text instead of being posted. */
export type NoteState = 'pending' | 'sent' | 'unknown' | 'dry_run';

/** How long an unsent note's claim keeps others off it (see `claimNote`). */
export interface ClaimWindows {
  /** A `pending` claim younger than this may have a POST in flight: C2S timeout + lease + margin. */
  readonly inFlightMs: number;
  /** After an `unknown` outcome, C2S may still be processing the POST: look no sooner than this. */
  readonly unknownWaitMs: number;
}

/** What claiming a note gave this attempt. */
export type NoteClaim =
  /** A new claim: nothing was ever posted under this reference. Post at once. */
  | { readonly kind: 'claimed' }
  /**
   * Taken over from an attempt whose claim has run out (or an older reference is open): a note
   * may be on the lead already. Read the lead before posting.
   */
  | { readonly kind: 'taken_over' }
  | { readonly kind: 'sent' }
  /** Another attempt may be posting it, or C2S may still be processing one: ask again later. */
  | { readonly kind: 'wait'; readonly state: NoteState; readonly waitMs: number }
  /** The event is no longer this attempt's: nothing was claimed. */
  | { readonly kind: 'fenced' };

/** A note to claim for the attempt `fence` (see `claimNotes`). */
export interface NoteClaimAsk {
  readonly leadId: string;
  readonly ref: string;
  readonly legacyRef: string;
  readonly fence: Fence;
}

/** `claimNotes` for one note. */
export async function claimNote(db: pg.Pool, note: NoteClaimAsk, windows: ClaimWindows): Promise<NoteClaim> {
  return (await claimNotes(db, [note], windows))[0]!;
}

/**
 * Claims notes, each note `ref` of a lead for the attempt `fence`, in one statement for all of
 * them (see `createBatcher`): a new row, or a takeover of an unsent row whose claim has run out
 * (`windows`). Only an attempt that still holds its event can claim. `legacyRef` is the same
 * note's reference before references grew: when it is open (not known to be sent), the lead must
 * be read before posting. Each note is answered as if claimed alone.
 */
export async function claimNotes(
  db: pg.Pool,
  notes: readonly NoteClaimAsk[],
  windows: ClaimWindows,
): Promise<NoteClaim[]> {
  const { rows } = await db.query<ClaimRow>({
    name: 'claim-notes',
    text: `WITH asked AS (
             SELECT a.*, EXISTS (SELECT 1 FROM webhook_events e
                                 WHERE e.id = a.event_id AND e.claimed_by = a.worker AND e.attempts = a.attempt) AS owns
             FROM unnest($1::text[], $2::text[], $3::uuid[], $4::text[], $5::int[], $6::text[])
               WITH ORDINALITY AS a(lead_id, ref, event_id, worker, attempt, legacy_ref, i)
           ), claiming AS (
             -- One claimant per note: an upsert cannot touch a row twice in a statement.
             SELECT DISTINCT ON (lead_id, ref) * FROM asked WHERE owns ORDER BY lead_id, ref, i
           ), claim AS (
             INSERT INTO notes (lead_id, ref, event_id, state, claimed_by, claim_attempt, claimed_at)
             SELECT lead_id, ref, event_id, 'pending', worker, attempt, now() FROM claiming ORDER BY lead_id, ref
             ON CONFLICT (lead_id, ref) DO UPDATE SET
               event_id = EXCLUDED.event_id, claimed_by = EXCLUDED.claimed_by,
               claim_attempt = EXCLUDED.claim_attempt, claimed_at = now(),
               -- The taker may post now: in flight again, whatever the row said. A dry-run text
               -- goes: once posted, C2S holds it.
               state = 'pending', updated_at = now(), body = NULL
             WHERE notes.state = 'pending' AND notes.claimed_at <= now() - $7 * interval '1 millisecond'
                OR notes.state = 'unknown' AND notes.updated_at <= now() - $8 * interval '1 millisecond'
                OR notes.state = 'dry_run'
             RETURNING lead_id, ref, xmax = 0 AS fresh
           )
           SELECT a.owns, CASE WHEN w.i IS NOT NULL THEN c.fresh END AS fresh,
                  w.i IS NULL AND c.fresh IS NOT NULL AS beaten, n.state,
                  extract(epoch FROM now() - n.claimed_at) * 1000 AS claim_age_ms,
                  extract(epoch FROM now() - n.updated_at) * 1000 AS state_age_ms,
                  EXISTS (SELECT 1 FROM notes l WHERE l.lead_id = a.lead_id AND l.ref = a.legacy_ref AND l.ref <> a.ref
                          AND l.state <> 'sent') AS legacy_open
           FROM asked a
           LEFT JOIN claiming w ON w.i = a.i
           LEFT JOIN claim c ON c.lead_id = a.lead_id AND c.ref = a.ref
           LEFT JOIN notes n ON n.lead_id = a.lead_id AND n.ref = a.ref
           ORDER BY a.i`,
    values: [
      notes.map((note) => note.leadId),
      notes.map((note) => note.ref),
      notes.map((note) => note.fence.eventId),
      notes.map((note) => note.fence.workerId),
      notes.map((note) => note.fence.attempt),
      notes.map((note) => note.legacyRef),
      windows.inFlightMs,
      windows.unknownWaitMs,
    ],
  });
  return rows.map((row) => answerOf(row, windows));
}

/** A row of `claimNotes`: one note, as the statement left it for its attempt. */
interface ClaimRow {
  /** The attempt holds its event. */
  readonly owns: boolean;
  /** Claimed by this attempt: a new row (true) or a takeover (false); null: not claimed. */
  readonly fresh: boolean | null;
  /** Not claimed because another attempt in the statement claimed it. */
  readonly beaten: boolean;
  /** The row as it stood before the statement (null: none). */
  readonly state: NoteState | null;
  readonly claim_age_ms: number | null;
  readonly state_age_ms: number | null;
  readonly legacy_open: boolean;
}

/** What a row of `claimNotes` means for its attempt. */
function answerOf(row: ClaimRow, windows: ClaimWindows): NoteClaim {
  if (!row.owns) return { kind: 'fenced' };
  if (row.fresh === true) return row.legacy_open ? { kind: 'taken_over' } : { kind: 'claimed' };
  // A dry-run note was never posted: nothing to look for on the lead.
  if (row.fresh === false)
    return row.state === 'dry_run' && !row.legacy_open ? { kind: 'claimed' } : { kind: 'taken_over' };
  // Claimed by another attempt in this very statement (two events of one lead held at once).
  if (row.beaten) return { kind: 'wait', state: 'pending', waitMs: windows.inFlightMs };
  // Not claimed: `n` is the row as it stood before this statement. No row there means another
  // attempt claimed it a moment ago, in a transaction this statement's snapshot did not see.
  if (row.state === null) return { kind: 'wait', state: 'pending', waitMs: windows.inFlightMs };
  if (row.state === 'sent') return { kind: 'sent' };
  const waitMs =
    row.state === 'pending'
      ? windows.inFlightMs - Number(row.claim_age_ms)
      : windows.unknownWaitMs - Number(row.state_age_ms);
  return { kind: 'wait', state: row.state, waitMs: Math.max(1000, Math.ceil(waitMs)) };
}

/** A note state to record, under the claim of the attempt that reached it. */
export interface NoteStateChange {
  readonly leadId: string;
  readonly ref: string;
  readonly state: NoteState;
  readonly fence: Fence;
}

/**
 * Records how notes stand, in one statement for all of them (see `createBatcher`). Fenced by the
 * note's claim: only an attempt holding its event can claim a note (`claimNote`), and once another
 * attempt has taken the claim over, a stalled worker coming back changes nothing. Until then, what
 * the claimant records is the outcome of its own POST: `sent` is a fact, `unknown` only makes the
 * next look wait. (Checking the event row as well doubled the statement's cost under load: the
 * event rows are the hottest of the database.) Answers, per change, whether it was recorded.
 */
export async function setNoteStates(db: pg.Pool, changes: readonly NoteStateChange[]): Promise<boolean[]> {
  const { rows } = await db.query<{ i: number }>({
    name: 'set-note-states',
    text: `UPDATE notes n SET state = x.state, updated_at = now(), attempts = n.attempts + 1,
             sent_at = CASE WHEN x.state = 'sent' THEN now() ELSE n.sent_at END
           FROM unnest($1::text[], $2::text[], $3::text[], $4::uuid[], $5::text[], $6::int[])
                WITH ORDINALITY AS x(lead_id, ref, state, event_id, worker, attempt, i)
           WHERE n.lead_id = ANY($1::text[]) AND n.ref = ANY($2::text[]) -- the key, searched (see checkLeads)
             AND n.lead_id = x.lead_id AND n.ref = x.ref AND n.event_id = x.event_id
             AND n.claimed_by = x.worker AND n.claim_attempt = x.attempt AND n.state <> 'sent'
           RETURNING x.i::int AS i`,
    values: [
      changes.map((change) => change.leadId),
      changes.map((change) => change.ref),
      changes.map((change) => change.state),
      changes.map((change) => change.fence.eventId),
      changes.map((change) => change.fence.workerId),
      changes.map((change) => change.fence.attempt),
    ],
  });
  const recorded = new Set(rows.map((row) => row.i));
  return changes.map((_, index) => recorded.has(index + 1));
}

/**
 * Moves the start of this attempt's in-flight window to now, right before it posts: after a
 * takeover, reading the lead (and the C2S limiter) may have used part of the window. False when
 * the claim is no longer this attempt's.
 */
export async function renewNoteClaim(
  db: pg.Pool,
  note: { readonly leadId: string; readonly ref: string; readonly fence: Fence },
): Promise<boolean> {
  const { rowCount } = await db.query({
    name: 'renew-note-claim',
    text: `UPDATE notes SET claimed_at = now()
           WHERE lead_id = $1 AND ref = $2 AND event_id = $3 AND claimed_by = $4 AND claim_attempt = $5
             AND state = 'pending'`,
    values: [note.leadId, note.ref, note.fence.eventId, note.fence.workerId, note.fence.attempt],
  });
  return rowCount === 1;
}

/**
 * Gives up this attempt's claim on a note it surely did not post (C2S refused or could not be
 * reached): the next attempt claims it afresh instead of waiting out the in-flight window.
 */
export async function releaseNote(
  db: pg.Pool,
  note: { readonly leadId: string; readonly ref: string; readonly fence: Fence },
): Promise<void> {
  await db.query({
    name: 'release-note',
    text: `DELETE FROM notes n
           WHERE n.lead_id = $1 AND n.ref = $2 AND n.state = 'pending' AND n.claimed_by = $3
             AND n.claim_attempt = $4
             AND EXISTS (SELECT 1 FROM webhook_events e WHERE e.id = n.event_id AND e.claimed_by = $3 AND e.attempts = $4)`,
    values: [note.leadId, note.ref, note.fence.workerId, note.fence.attempt],
  });
}

/**
 * Keeps the note a DRY_RUN attempt would have posted (state `dry_run`, with its text), under the
 * attempt's fence: answers false, keeping nothing, once the event is no longer its own. A note
 * already claimed or sent under this reference is left as it is.
 */
export async function keepDryRunNote(
  db: pg.Pool,
  note: { leadId: string; ref: string; body: string; fence: Fence },
): Promise<boolean> {
  const { rows } = await db.query<{ owns: boolean }>({
    name: 'keep-dry-run-note',
    text: `WITH owner AS (
             SELECT EXISTS (SELECT 1 FROM webhook_events WHERE id = $3 AND claimed_by = $4 AND attempts = $5) AS owns
           ), kept AS (
             INSERT INTO notes (lead_id, ref, event_id, state, body, claimed_by, claim_attempt, claimed_at)
             SELECT $1, $2, $3, 'dry_run', $6, $4, $5, now() FROM owner WHERE owns
             ON CONFLICT (lead_id, ref) DO UPDATE SET
               event_id = EXCLUDED.event_id, body = EXCLUDED.body, updated_at = now()
             WHERE notes.state = 'dry_run'
           )
           SELECT owns FROM owner`,
    values: [note.leadId, note.ref, note.fence.eventId, note.fence.workerId, note.fence.attempt, note.body],
  });
  return rows[0]?.owns === true;
}
