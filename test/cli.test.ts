import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type pg from 'pg';
import { startC2sSimulator } from '../src/simulators/c2s.ts';
import { defer } from './helpers/cleanup.ts';
import { freshDatabase, type TestDatabase } from './helpers/database.ts';
import { ROOT, runCommandIn, scratchDir } from './helpers/process.ts';
import { FAKE_PROVIDERS } from './helpers/service.ts';

const MAIN = join(ROOT, 'src/cli/main.ts');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `c2s-enricher <args>` as a child process in a scratch directory, its output on pipes. */
const cli = runCommandIn;

/** The same under a pseudo-terminal (util-linux `script`): stdout and stderr are one TTY. */
function cliOnTerminal(t: TestContext, args: readonly string[], env: Record<string, string>): Promise<Run> {
  const dir = scratchDir(t, 'c2s-cli-');
  const quote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;
  const command = [process.execPath, MAIN, ...args].map(quote).join(' ');
  return new Promise((resolve) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', DATA_DIR: dir, TERM: 'xterm', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.once('close', (code) => resolve({ code, stdout, stderr: '' }));
  });
}

/** The last line written, whatever ends it (a terminal's `\r\n`). */
function lastLine(text: string): string {
  return (
    text
      .split(/\r?\n/)
      .filter((line) => line.trim() !== '')
      .at(-1) ?? ''
  );
}

/** A database reached through DB_URL, with fake provider credentials (not demo mode). */
async function database(t: TestContext): Promise<{ db: TestDatabase; env: Record<string, string> }> {
  const db = await freshDatabase(t);
  return { db, env: { DB_URL: db.url, ...FAKE_PROVIDERS } };
}

interface EventRow {
  readonly lead?: string;
  readonly status?: string;
  readonly outcome?: string | null;
  readonly errorCode?: string | null;
  readonly errorMessage?: string | null;
  readonly hookAction?: string;
  readonly ageSeconds?: number;
  readonly updatedSeconds?: number;
  readonly payload?: unknown;
}

/** One event row as the workflow would have left it; answers its id. */
async function insertEvent(pool: pg.Pool, row: EventRow = {}): Promise<string> {
  const status = row.status ?? 'failed';
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO webhook_events (lead_id, updated_at, hook_action, payload_raw, received_at, processed_at,
                                 status, outcome, attempts, error_code, error_message)
     VALUES ($1, now() - $2 * interval '1 second', $3, $4, now() - $5 * interval '1 second',
             CASE WHEN $6 IN ('received', 'processing') THEN NULL ELSE now() END, $6, $7, 3, $8, $9)
     RETURNING id`,
    [
      row.lead ?? `lead-${Math.random().toString(36).slice(2)}`,
      row.updatedSeconds ?? row.ageSeconds ?? 0,
      row.hookAction ?? 'on_update_lead',
      JSON.stringify(row.payload ?? { id: 'x' }),
      row.ageSeconds ?? 0,
      status,
      row.outcome ?? (status === 'completed' ? 'enriched' : null),
      row.errorCode === undefined ? (status === 'failed' ? 'c2s_unavailable' : null) : row.errorCode,
      row.errorMessage ?? (status === 'failed' ? 'post_note: c2s did not answer' : null),
    ],
  );
  return rows[0]!.id;
}

/** `count` failed events of distinct leads, in one statement. */
async function insertFailedEvents(pool: pg.Pool, count: number): Promise<void> {
  await pool.query(
    `INSERT INTO webhook_events (lead_id, updated_at, hook_action, payload_raw, received_at, processed_at,
                                 status, attempts, error_code, error_message)
     SELECT 'bulk-' || g, now(), 'on_create_lead', '{}', now() - g * interval '1 millisecond', now(),
            'failed', 3, 'c2s_unavailable', 'post_note: c2s did not answer'
     FROM generate_series(1, $1) g`,
    [count],
  );
}

async function statusOf(pool: pg.Pool, id: string): Promise<string> {
  const { rows } = await pool.query<{ status: string }>('SELECT status FROM webhook_events WHERE id = $1', [
    id,
  ]);
  return rows[0]!.status;
}

// Usage errors: refused before anything is opened (the database URL goes nowhere).
const NOWHERE = { DB_URL: 'postgres://postgres@127.0.0.1:9/none' };

test('usage: no command, an unknown command, flag or value, a replay without filter exit 64', async (t) => {
  const none = await cli(t, [], NOWHERE);
  assert.equal(none.code, 64);
  assert.match(none.stderr, /usage: c2s-enricher <command>/);

  const help = await cli(t, ['--help'], NOWHERE);
  assert.equal(help.code, 0);
  for (const name of ['subscribe', 'events', 'event', 'reprocess', 'replay', 'erase', 'stats', 'migrate'])
    assert.match(help.stdout, new RegExp(`^  ${name} `, 'm'));
  const commandHelp = await cli(t, ['replay', '--help'], NOWHERE);
  assert.equal(commandHelp.code, 0);
  assert.match(commandHelp.stdout, /--dry-run/);

  const cases: Array<[string[], RegExp]> = [
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['events', '--colour'], /unknown option '--colour'/],
    [['events', '--status', 'bogus'], /--status must be one of received, processing/],
    [['events', '--status'], /argument missing/],
    [['events', '--since', 'yesterday'], /--since must be an RFC 3339 date-time/],
    [['events', '--limit', '0'], /--limit must be a whole number from 1 to 500/],
    [['events', 'extra'], /unexpected argument 'extra'/],
    [['event'], /missing <id>/],
    [['reprocess', 'a', '--from', 'middle'], /--from must be one of failed_step, start/],
    [['replay'], /replay needs a filter/],
    [['replay', '--dry-run'], /replay needs a filter/],
    [['subscribe'], /--url <hook url> is required/],
    [['subscribe', '--url', 'ftp://x'], /--url must be an absolute http\(s\) URL/],
    [['erase'], /exactly one of --cpf, --phone, --email/],
    [['erase', '--cpf', '123'], /not a valid CPF/],
  ];
  for (const [args, reason] of cases) {
    const run = await cli(t, args, NOWHERE);
    assert.equal(run.code, 64, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, reason);
    assert.equal(run.stderr.trimEnd().split('\n').length, 1, 'one line says why');
    assert.equal(run.stdout, '');
  }
});

test('a failure exits 1 with one line saying why', async (t) => {
  const run = await cli(t, ['events'], NOWHERE);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /^c2s-enricher events: .*ECONNREFUSED/);
  assert.equal(run.stderr.trimEnd().split('\n').length, 1);
});

test('events: a table newest first, filters, and pages through the cursor', async (t) => {
  const { db, env } = await database(t);
  const failed = [];
  for (let n = 0; n < 5; n++) failed.push(await insertEvent(db.pool, { ageSeconds: 60 * (n + 1) }));
  await insertEvent(db.pool, { status: 'completed', lead: 'lead-done', ageSeconds: 30 });
  const old = await insertEvent(db.pool, { lead: 'lead-old', ageSeconds: 3 * 3600 });

  const all = await cli(t, ['events'], env);
  assert.equal(all.code, 0, all.stderr);
  const lines = all.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^ID\s+RECEIVED\s+LEAD\s+ACTION\s+STATUS\s+OUTCOME\s+ATTEMPTS\s+ERROR$/);
  assert.match(lines[1]!, /lead-done\s+on_update_lead\s+completed\s+enriched\s+3\s+-$/);
  assert.match(lines[1]!, /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/, 'times in UTC without fractions');
  assert.ok(lines[7]!.startsWith(old), 'oldest last');
  assert.equal(lastLine(all.stdout), 'events: 7 shown, no more');

  const onlyFailed = await cli(t, ['events', '--status', 'failed', '--since', '2h'], env);
  assert.equal(onlyFailed.code, 0, onlyFailed.stderr);
  const ids = onlyFailed.stdout
    .trimEnd()
    .split('\n')
    .slice(1, -1)
    .map((line) => line.split(' ')[0]);
  assert.deepEqual(ids, failed, 'failed ones within two hours, newest first');

  const byLead = await cli(t, ['events', '--lead', 'lead-old', '--error-code', 'c2s_unavailable'], env);
  assert.match(byLead.stdout, new RegExp(`^${old} `, 'm'));
  assert.equal(lastLine(byLead.stdout), 'events: 1 shown, no more');

  const until = new Date(Date.now() - 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const before = await cli(t, ['events', '--until', until], env);
  assert.equal(lastLine(before.stdout), 'events: 1 shown, no more');

  // Pages of 3: 3 + 3 + 1, none twice, in order.
  const seen: string[] = [];
  let cursor: string[] = [];
  for (const expected of [3, 3, 1]) {
    const page = await cli(t, ['events', '--limit', '3', ...cursor], env);
    assert.equal(page.code, 0, page.stderr);
    const summary = lastLine(page.stdout);
    const rows = page.stdout.trimEnd().split('\n').slice(1, -1);
    assert.equal(rows.length, expected);
    seen.push(...rows.map((line) => line.split(' ')[0]!));
    const next = /^events: \d+ shown, more: --cursor (\S+)$/.exec(summary);
    cursor = next ? ['--cursor', next[1]!] : [];
    if (expected === 1) assert.equal(summary, 'events: 1 shown, no more');
  }
  assert.deepEqual(
    seen,
    all.stdout
      .trimEnd()
      .split('\n')
      .slice(1, -1)
      .map((line) => line.split(' ')[0]),
  );

  const badCursor = await cli(t, ['events', '--cursor', 'not-a-cursor'], env);
  assert.equal(badCursor.code, 64);
  assert.match(badCursor.stderr, /cursor is not one this API returned/);
});

test('event <id>: its step timeline, masked payload and note; an unknown id exits 1', async (t) => {
  const { db, env } = await database(t);
  const id = await insertEvent(db.pool, {
    lead: 'lead-42',
    payload: {
      customer: {
        name: 'Ana Souza Lima',
        phone: '11987654321',
        email: 'ana.lima@example.com',
        cpf: '529.982.247-25',
      },
      description: 'call 11 98765-4321',
    },
  });
  // Recorded out of order: shown in the workflow's order.
  await db.pool.query(
    `INSERT INTO event_steps (event_id, step, status, attempts, started_at, finished_at, duration_ms, error_code, error_message)
     VALUES ($1, 'post_note', 'failed', 3, '2026-12-01T09:00:02.5Z', '2026-12-01T09:00:04Z', 1500, 'c2s_unavailable', 'c2s did not answer'),
            ($1, 'check_action', 'succeeded', 1, '2026-12-01T09:00:00.123Z', '2026-12-01T09:00:00.130Z', 7, NULL, NULL),
            ($1, 'normalise_contacts', 'succeeded', 1, '2026-12-01T09:00:01Z', '2026-12-01T09:00:01.2Z', 200, NULL, NULL)`,
    [id],
  );
  await db.pool.query(
    `INSERT INTO notes (lead_id, ref, event_id, state, attempts) VALUES ('lead-42', 'ref0123456789abcd', $1, 'unknown', 3)`,
    [id],
  );

  const run = await cli(t, ['event', id], env);
  assert.equal(run.code, 0, run.stderr);
  const out = run.stdout;
  assert.match(out, new RegExp(`^event ${id}$`, 'm'));
  assert.match(out, /^lead +lead-42$/m);
  assert.match(out, /^error +c2s_unavailable: post_note: c2s did not answer$/m);
  const steps = out.slice(out.indexOf('STEP'));
  assert.match(steps, /^STEP\s+STATUS\s+ATTEMPTS\s+STARTED\s+DURATION\s+ERROR$/m);
  assert.deepEqual(
    [...steps.matchAll(/^(check_action|normalise_contacts|post_note) /gm)].map((m) => m[1]),
    ['check_action', 'normalise_contacts', 'post_note'],
  );
  assert.match(steps, /^check_action\s+succeeded\s+1\s+2026-12-01T09:00:00Z\s+7ms\s+-$/m);
  assert.match(
    steps,
    /^post_note\s+failed\s+3\s+2026-12-01T09:00:02Z\s+1\.5s\s+c2s_unavailable: c2s did not answer$/m,
  );
  assert.match(out, /payload \(masked\)/);
  assert.match(out, /"cpf": "\*\*\*\.982\.247-\*\*"/);
  for (const secret of ['Souza', 'Lima', '98765', '529.982.247-25', '52998224725', 'ana.lima'])
    assert.ok(!out.includes(secret), `no ${secret} in the output`);
  assert.match(out, /^note +ref0123456789abcd unknown$/m);
  assert.equal(lastLine(out), 'event: failed at post_note (c2s_unavailable), 3 steps, note unknown');

  const missing = await cli(t, ['event', '00000000-0000-4000-8000-000000000000'], env);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, 'c2s-enricher event: no event has that id\n');
  const notAnId = await cli(t, ['event', 'nope'], env);
  assert.equal(notAnId.code, 1);
  assert.match(notAnId.stderr, /no event has that id/);
});

test('reprocess queues a failed event, and refuses a running one and one a newer event overtook', async (t) => {
  const { db, env } = await database(t);
  const failed = await insertEvent(db.pool);
  await db.pool.query(
    `INSERT INTO event_steps (event_id, step, status, attempts, started_at) VALUES ($1, 'check_action', 'succeeded', 1, now())`,
    [failed],
  );
  const queued = await cli(t, ['reprocess', failed], env);
  assert.equal(queued.code, 0, queued.stderr);
  assert.equal(queued.stdout, `reprocess: event ${failed} queued from the failed step\n`);
  assert.equal(await statusOf(db.pool, failed), 'received');
  const { rows: kept } = await db.pool.query('SELECT 1 FROM event_steps WHERE event_id = $1', [failed]);
  assert.equal(kept.length, 1, 'from the failed step, checkpoints stay');

  const again = await cli(t, ['reprocess', failed], env);
  assert.equal(again.code, 1);
  assert.equal(
    again.stderr,
    'c2s-enricher reprocess: the event is queued or running; wait for it to finish\n',
  );

  const running = await insertEvent(db.pool, { status: 'processing' });
  const busy = await cli(t, ['reprocess', running], env);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /queued or running/);
  assert.equal(await statusOf(db.pool, running), 'processing');

  const older = await insertEvent(db.pool, { lead: 'lead-twice', updatedSeconds: 60 });
  await insertEvent(db.pool, { lead: 'lead-twice', status: 'completed' });
  const overtaken = await cli(t, ['reprocess', older], env);
  assert.equal(overtaken.code, 1);
  assert.match(overtaken.stderr, /^c2s-enricher reprocess: the lead has a newer event/);
  assert.equal(await statusOf(db.pool, older), 'failed');

  const fromStart = await insertEvent(db.pool);
  await db.pool.query(
    `INSERT INTO event_steps (event_id, step, status, attempts, started_at) VALUES ($1, 'check_action', 'succeeded', 1, now())`,
    [fromStart],
  );
  const restarted = await cli(t, ['reprocess', fromStart, '--from', 'start'], env);
  assert.equal(restarted.code, 0, restarted.stderr);
  assert.match(restarted.stdout, /queued from the start/);
  const { rows: cleared } = await db.pool.query('SELECT 1 FROM event_steps WHERE event_id = $1', [fromStart]);
  assert.equal(cleared.length, 0, 'from the start, checkpoints go');

  const missing = await cli(t, ['reprocess', '00000000-0000-4000-8000-000000000000'], env);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no event has that id/);
});

test('replay --dry-run counts and changes nothing; replay queues the events that may run', async (t) => {
  const { db, env } = await database(t);
  const eligible = [await insertEvent(db.pool), await insertEvent(db.pool), await insertEvent(db.pool)];
  const other = await insertEvent(db.pool, { errorCode: 'workapi_token_refused' });
  const overtaken = await insertEvent(db.pool, { lead: 'lead-twice', updatedSeconds: 60 });
  await insertEvent(db.pool, { lead: 'lead-twice', status: 'completed' });
  const done = await insertEvent(db.pool, { status: 'completed' });

  const dry = await cli(
    t,
    ['replay', '--status', 'failed', '--error-code', 'c2s_unavailable', '--dry-run'],
    env,
  );
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(lastLine(dry.stdout), 'replay: matched 4, scheduled 3 (dry run)');
  const { rows: unchanged } = await db.pool.query(
    `SELECT count(*)::int AS n FROM webhook_events WHERE status = 'failed'`,
  );
  assert.equal(unchanged[0].n, 5, 'a dry run changes nothing');

  const run = await cli(
    t,
    ['replay', '--status', 'failed', '--error-code', 'c2s_unavailable', '--since', '1h'],
    env,
  );
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'replay: matched 4, scheduled 3\n');
  for (const id of eligible) assert.equal(await statusOf(db.pool, id), 'received');
  assert.equal(await statusOf(db.pool, other), 'failed', 'another error code');
  assert.equal(await statusOf(db.pool, overtaken), 'failed', 'a newer event of the lead');
  assert.equal(await statusOf(db.pool, done), 'completed');

  const nothing = await cli(t, ['replay', '--status', 'stale'], env);
  assert.equal(nothing.code, 0, nothing.stderr);
  assert.equal(nothing.stdout, 'replay: matched 0, scheduled 0\n');
});

test('replay on a terminal draws a bar redrawn in place; elsewhere plain lines per batch', async (t) => {
  const { db, env } = await database(t);
  await insertFailedEvents(db.pool, 2500);

  const plain = await cli(t, ['replay', '--status', 'failed', '--dry-run'], env);
  assert.equal(plain.code, 0, plain.stderr);
  assert.deepEqual(
    plain.stderr
      .trimEnd()
      .split('\n')
      .map((line) => line.replace(/ \d+\/s /, ' R/s ')),
    [
      'counting: 1000 R/s 1000 eligible',
      'counting: 2000 R/s 2000 eligible',
      'counting: 2500 R/s 2500 eligible',
    ],
  );
  assert.ok(!`${plain.stdout}${plain.stderr}`.includes('\r'), 'no carriage return off a terminal');
  assert.equal(plain.stdout, 'replay: matched 2500, scheduled 2500 (dry run)\n');

  const terminal = await cliOnTerminal(t, ['replay', '--status', 'failed'], env);
  assert.equal(terminal.code, 0, terminal.stdout);
  const out = terminal.stdout;
  assert.match(out, /\rreplaying \[█+\] 2500\/2500 \d+\/s 2500 scheduled/, 'the bar, full at the end');
  assert.match(out, /\rreplaying \[█*░+\] 1000\/2500 \d+\/s 1000 scheduled/, 'drawn as it goes');
  assert.ok(out.split('\r').length > 3, 'redrawn with carriage returns');
  assert.equal(lastLine(out), 'replay: matched 2500, scheduled 2500');
  const { rows } = await db.pool.query(
    `SELECT count(*)::int AS n FROM webhook_events WHERE status = 'received'`,
  );
  assert.equal(rows[0].n, 2500);
});

test('stats prints counts, backlog, the last hour and the providers, the summary last', async (t) => {
  const { db, env } = await database(t);
  await insertEvent(db.pool, { status: 'completed' });
  await insertEvent(db.pool, { status: 'failed' });
  await insertEvent(db.pool, { status: 'received' });
  await db.pool.query(
    `INSERT INTO provider_health (provider, process, breaker, last_error_code, last_error_at)
     VALUES ('c2s', 'p1', 'open', 'c2s_unavailable', '2026-12-01T09:00:00.5Z')`,
  );
  await db.pool.query(
    `INSERT INTO provider_calls (provider, minute, calls, errors) VALUES ('c2s', date_trunc('minute', now()), 12, 4)`,
  );
  // What the service's processes report each minute (see src/admin/tallies.ts).
  await db.pool.query(
    `INSERT INTO event_tallies (minute, kind, n) VALUES
       (date_trunc('minute', now()), 'received', 3), (date_trunc('minute', now()), 'completed:enriched', 1),
       (date_trunc('minute', now()), 'failed', 1)`,
  );

  const run = await cli(t, ['stats'], env);
  assert.equal(run.code, 0, run.stderr);
  const out = run.stdout;
  assert.match(out, /^events +received 1 · completed 1 · failed 1$/m);
  assert.match(out, /^outcomes +enriched 1 \(finished in the last 24h\)$/m);
  assert.match(out, /^backlog +1 due \(oldest \d+s\), 0 waiting for a retry$/m);
  assert.match(out, /^ {2}received +[·▁-█]{60} {2}3 in all, at most 3\/min$/m);
  assert.match(out, /^c2s +open +12 +4 +c2s_unavailable at 2026-12-01T09:00:00Z$/m);
  assert.match(out, /^workapi +closed +0 +0 +-$/m);
  assert.equal(lastLine(out), 'stats: 3 events, 1 due, c2s open');
});

test('subscribe and unsubscribe the hook URL in C2S for the three actions', async (t) => {
  const token = 'c2s-token-for-the-cli';
  const c2s = await startC2sSimulator({ token });
  defer(t, () => c2s.close());
  const env = { ...FAKE_PROVIDERS, C2S_BASE_URL: c2s.url, C2S_TOKEN: token };
  const hook = 'https://enricher.example/webhooks/c2s?token=hook-secret-123';

  const subscribed = await cli(t, ['subscribe', '--url', hook], env);
  assert.equal(subscribed.code, 0, subscribed.stderr);
  assert.deepEqual(c2s.subscriptions(), { on_create_lead: hook, on_update_lead: hook, on_close_lead: hook });
  assert.match(
    lastLine(subscribed.stdout),
    /^subscribe: 3 hook actions subscribed for https:\/\/enricher\.example\//,
  );
  assert.ok(!subscribed.stdout.includes('hook-secret-123'), 'the hook token is not printed');

  const removed = await cli(t, ['unsubscribe', '--url', hook], env);
  assert.equal(removed.code, 0, removed.stderr);
  assert.deepEqual(c2s.subscriptions(), {});
  assert.match(lastLine(removed.stdout), /^unsubscribe: 3 hook actions unsubscribed/);

  const refused = await cli(t, ['subscribe', '--url', hook], { ...env, C2S_TOKEN: 'wrong' });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^c2s-enricher subscribe: on_create_lead failed: /);
  assert.equal(refused.stderr.trimEnd().split('\n').length, 1);
  assert.deepEqual(c2s.subscriptions(), {});

  const demo = await cli(t, ['subscribe', '--url', hook]);
  assert.equal(demo.code, 1);
  assert.match(demo.stderr, /no C2S credentials are configured \(demo mode\)/);
});

test('erase and migrate work from the command line', async (t) => {
  const { db, env } = await database(t);
  const erased = await cli(t, ['erase', '--cpf', '529.982.247-25'], env);
  assert.equal(erased.code, 0, erased.stderr);
  assert.equal(
    erased.stdout,
    'erase: people 0, leads 0, events blanked 0, events stopped 0, rejected inputs 0, dry-run notes 0, shared contacts 0, leads with notes 0\n',
  );

  const migrated = await cli(t, ['migrate'], { DB_URL: db.url });
  assert.equal(migrated.code, 0, migrated.stderr);
  assert.equal(migrated.stdout, 'database is up to date\n');
});
