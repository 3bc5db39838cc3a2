// The admin scenario: the admin API's lists and stats on a table of a million events, each case
// timed by sequential requests (latency an operator meets, not throughput), through HTTP and,
// as a cross-check, straight through the data layer the routes call.
import { loadavg } from 'node:os';
import pg from 'pg';
import { sealHours } from '../src/admin/hour-counts.ts';
import { listEvents, type EventPage } from '../src/admin/events.ts';
import { parseFilter } from '../src/admin/filter.ts';
import { readStats } from '../src/admin/stats.ts';
import { migrate } from '../src/db/migrate.ts';
import { createLogger } from '../src/log/logger.ts';
import { fillEvents } from './admin-fill.ts';
import type { Child } from './processes.ts';

const EVENTS = Number(process.env.BENCH_ADMIN_EVENTS ?? 1_000_000);
const REQUESTS = Number(process.env.BENCH_ADMIN_REQUESTS ?? 200);
const WARMUP = 20;
/** Pages followed before the deep page is timed. */
const DEEP_PAGES = 20;
/** BENCH_ADMIN_EXPLAIN=1: print every case's plan, not only those over the goal. */
const EXPLAIN_ALL = process.env.BENCH_ADMIN_EXPLAIN === '1';
export const ADMIN_GOAL_MS = 100;
const TOKEN = 'bench-admin-token-0123456789abcdef';
const ADMIN = '/api/v1/admin';

/** What the scenario needs from the benchmark runner. */
export interface AdminHarness {
  readonly log: (line: string) => void;
  readonly freshDatabase: (label: string) => Promise<string>;
  /** The service (API role: no worker touches the unfinished events) on that database. */
  readonly startService: (dbUrl: string, env: Record<string, string>) => Promise<Child>;
}

/** A list request as on the wire: filter, cursor and limit as text. */
type Query = Record<string, string>;

interface ListCase {
  readonly name: string;
  /** The query of the i-th request (the lead case asks for another lead each time). */
  readonly query: (i: number) => Query;
}

/** The two ways to the admin data: the service's HTTP API, and the functions its routes call. */
interface AdminReader {
  list(query: Query): Promise<EventPage>;
  stats(): Promise<unknown>;
}

export interface Latency {
  readonly p50_ms: number;
  readonly p99_ms: number;
}

interface Measured {
  /** Events on the first page: shows a case lists what it means to (or nothing, when it should). */
  readonly rows?: number;
  readonly http?: Latency;
  readonly direct: Latency;
}

export async function adminScenario(harness: AdminHarness): Promise<Record<string, unknown>> {
  const { log } = harness;
  const dbUrl = await harness.freshDatabase('admin');
  await migrateDatabase(dbUrl);
  log(`admin: filling ${EVENTS} events`);
  const filled = await fillEvents(dbUrl, EVENTS);
  log(`  ${filled.events} events of ${filled.leads} leads in ${round(filled.seconds)} s`);
  for (const [kind, counts] of Object.entries(filled.mix)) log(`    ${kind}: ${JSON.stringify(counts)}`);
  const pool = new pg.Pool({ connectionString: dbUrl, max: 4 });
  try {
    const prepareSeconds = await settle(pool);
    log(`  VACUUM ANALYZE, hour counts sealed, checkpoint: ${round(prepareSeconds)} s`);
    const service = await harness.startService(dbUrl, { ADMIN_TOKEN: TOKEN });
    const direct = directReader(pool);
    const http = (await adminApiServed(service.url)) ? httpReader(service.url) : undefined;
    log(
      http
        ? `  timing ${REQUESTS} sequential requests per case (after ${WARMUP}), through HTTP and the data layer`
        : `  the admin API is not served yet: timing ${REQUESTS} calls per case of the data layer only`,
    );
    const cases = listCases(await sampleLeads(pool), await deepCursor(direct));
    // The machine is shared: the load the timings ran under goes with them.
    const loadBefore = loadavg()[0]!;
    const lists: Record<string, Measured> = {};
    for (const { name, query } of cases) {
      lists[name] = {
        rows: (await direct.list(query(0))).events.length,
        ...(http ? { http: await time((i) => http.list(query(i))) } : {}),
        direct: await time((i) => direct.list(query(i))),
      };
      log(`  ${describe(name, lists[name])}`);
    }
    const stats: Measured = {
      ...(http ? { http: await time(() => http.stats()) } : {}),
      direct: await time(() => direct.stats()),
    };
    log(`  ${describe('stats', stats)}`);
    const load = [round(loadBefore, 2), round(loadavg()[0]!, 2)];
    log(`  load average (1 min) before and after the timings: ${load.join(', ')}`);
    await explainSlow(pool, cases, lists, stats, log);
    return { ...figures(filled, prepareSeconds, lists, stats, http !== undefined), admin_load_1m: load };
  } finally {
    await pool.end();
  }
}

async function migrateDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await migrate(client, createLogger('warn'));
  } finally {
    await client.end();
  }
}

/**
 * What a table that grew over months has had done to it: vacuumed (hint bits set, visibility map
 * built: the first reads would otherwise write every page) and analysed, the settled hours'
 * counts sealed as the service does in the background, and the fill's dirty pages written out so
 * no checkpoint lands in the timings.
 */
async function settle(pool: pg.Pool): Promise<number> {
  const t0 = performance.now();
  await pool.query('VACUUM (ANALYZE) webhook_events');
  await sealHours(pool);
  await pool.query('CHECKPOINT');
  return (performance.now() - t0) / 1000;
}

/** Whether the service has the admin API yet (it is being built alongside this scenario). */
async function adminApiServed(url: string): Promise<boolean> {
  const response = await fetch(`${url}${ADMIN}/stats`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const body = await response.text();
  if (response.status === 404) return false;
  if (response.status !== 200) throw new Error(`admin stats answered ${response.status}: ${body}`);
  return true;
}

function httpReader(url: string): AdminReader {
  const get = async (path: string) => {
    const response = await fetch(`${url}${ADMIN}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const body: unknown = await response.json();
    if (response.status !== 200)
      throw new Error(`GET ${path} answered ${response.status}: ${JSON.stringify(body)}`);
    return body;
  };
  return {
    list: async (query) => (await get(`/events?${new URLSearchParams(query).toString()}`)) as EventPage,
    stats: () => get('/stats'),
  };
}

function directReader(db: pg.Pool): AdminReader {
  return {
    list: ({ cursor, limit, ...raw }) =>
      listEvents(db, parseFilter(raw), {
        ...(cursor === undefined ? {} : { cursor }),
        ...(limit === undefined ? {} : { limit: Number(limit) }),
      }),
    stats: () => readStats(db),
  };
}

/** Leads that have events, a different one for every request of the lead case. */
async function sampleLeads(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ lead_id: string }>(
    `SELECT lead_id FROM (SELECT DISTINCT lead_id FROM webhook_events TABLESAMPLE SYSTEM (2) REPEATABLE (7)) s
     ORDER BY md5(lead_id) LIMIT $1`,
    [WARMUP + REQUESTS],
  );
  return rows.map((row) => row.lead_id);
}

/** The cursor an operator holds after paging through DEEP_PAGES pages of the unfiltered list. */
async function deepCursor(reader: AdminReader): Promise<string> {
  let cursor: string | undefined;
  for (let page = 1; page <= DEEP_PAGES; page++) {
    cursor = (await reader.list(cursor === undefined ? {} : { cursor })).next_cursor ?? undefined;
    if (cursor === undefined) throw new Error(`the list ended at page ${page}`);
  }
  return cursor!;
}

const DAY_MS = 86_400_000;
const utcDay = (daysAgo: number) => new Date(Math.floor(Date.now() / DAY_MS - daysAgo) * DAY_MS);

function listCases(leads: readonly string[], deep: string): ListCase[] {
  const fixed = (name: string, query: Query): ListCase => ({ name, query: () => query });
  return [
    fixed('no_filter', {}),
    fixed('status_failed', { status: 'failed' }),
    fixed('status_completed', { status: 'completed' }),
    fixed('status_processing', { status: 'processing' }),
    fixed('outcome_no_match', { outcome: 'no_match' }),
    fixed('outcome_closed', { outcome: 'closed' }),
    fixed('error_code_c2s_not_found', { error_code: 'c2s_not_found' }),
    fixed('error_code_without_rows', { error_code: 'c2s_outcome_unknown' }),
    { name: 'lead_id', query: (i) => ({ lead_id: leads[i % leads.length]! }) },
    fixed('hook_action_on_close_lead', { hook_action: 'on_close_lead' }),
    fixed('one_day_30_days_ago', { since: utcDay(30).toISOString(), until: utcDay(29).toISOString() }),
    fixed(`page_${DEEP_PAGES + 1}_no_filter`, { cursor: deep }),
    fixed('status_failed_since_7_days', { status: 'failed', since: utcDay(7).toISOString() }),
  ];
}

/** p50 and p99 of REQUESTS sequential calls, after WARMUP untimed ones. */
async function time(call: (i: number) => Promise<unknown>): Promise<Latency> {
  for (let i = 0; i < WARMUP; i++) await call(i);
  const ms: number[] = [];
  for (let i = WARMUP; i < WARMUP + REQUESTS; i++) {
    const t0 = performance.now();
    await call(i);
    ms.push(performance.now() - t0);
  }
  return { p50_ms: round(percentile(ms, 50)), p99_ms: round(percentile(ms, 99)) };
}

/** What an operator meets: through HTTP when the service serves it, else the data layer. */
const headline = (measured: Measured): Latency => measured.http ?? measured.direct;

function figures(
  filled: Awaited<ReturnType<typeof fillEvents>>,
  prepareSeconds: number,
  lists: Record<string, Measured>,
  stats: Measured,
  throughHttp: boolean,
): Record<string, unknown> {
  const [worst, worstList] = Object.entries(lists).reduce((a, b) =>
    headline(b[1]).p99_ms > headline(a[1]).p99_ms ? b : a,
  );
  const table = (pick: (m: Measured) => Latency | undefined) =>
    Object.fromEntries(Object.entries(lists).map(([name, m]) => [name, pick(m)]));
  const withRows = Object.fromEntries(
    Object.entries(lists).map(([name, m]) => [name, { ...headline(m), page_rows: m.rows }]),
  );
  return {
    admin_events: filled.events,
    admin_leads: filled.leads,
    admin_fill_s: round(filled.seconds),
    admin_prepare_s: round(prepareSeconds),
    admin_measured_through: throughHttp ? 'http' : 'data layer',
    admin_list_p99_ms: headline(worstList).p99_ms,
    admin_list_worst: worst,
    admin_stats_p50_ms: headline(stats).p50_ms,
    admin_stats_p99_ms: headline(stats).p99_ms,
    admin_filters: withRows,
    admin_direct: { ...table((m) => m.direct), stats: stats.direct },
  };
}

function describe(name: string, m: Measured): string {
  const over = headline(m).p99_ms > ADMIN_GOAL_MS ? `  OVER ${ADMIN_GOAL_MS} ms` : '';
  const http = m.http ? `http p50 ${m.http.p50_ms} p99 ${m.http.p99_ms} ms; ` : '';
  const rows = m.rows === undefined ? '' : `${m.rows} rows; `.padStart(10);
  return `${name.padEnd(28)}${rows}${http}direct p50 ${m.direct.p50_ms} p99 ${m.direct.p99_ms} ms${over}`;
}

/** The admin table of the final report (markdown, like the runner's). */
export function printAdminTable(figures: Record<string, unknown>): void {
  type Row = Latency & { readonly page_rows?: number };
  const filters = figures.admin_filters as Record<string, Row> | undefined;
  if (!filters) return;
  const direct = figures.admin_direct as Record<string, Latency>;
  const through = String(figures.admin_measured_through);
  process.stdout.write(
    `\nadmin, ${String(figures.admin_events)} events (${through}; direct = data layer)\n` +
      `| case | page rows | p50 ms | p99 ms | direct p50 | direct p99 |\n| --- | --- | --- | --- | --- | --- |\n`,
  );
  const rows: Array<[string, Row]> = [
    ...Object.entries(filters),
    ['stats', { p50_ms: Number(figures.admin_stats_p50_ms), p99_ms: Number(figures.admin_stats_p99_ms) }],
  ];
  for (const [name, row] of rows)
    process.stdout.write(
      `| ${name} | ${row.page_rows ?? ''} | ${row.p50_ms} | ${row.p99_ms} | ${direct[name]?.p50_ms} | ${direct[name]?.p99_ms} |\n`,
    );
}

// ---- plans of slow cases ----------------------------------------------------------------------

interface CapturedQuery {
  readonly text: string;
  readonly values: readonly unknown[];
}

/** The statements a data-layer call sends, captured by a pool that answers every one with no rows. */
async function statementsOf(call: (db: pg.Pool) => Promise<unknown>): Promise<CapturedQuery[]> {
  const captured: CapturedQuery[] = [];
  const recorder = {
    query: async (text: string, values: unknown[] = []) => {
      captured.push({ text, values });
      return { rows: [], rowCount: 0 };
    },
  };
  await call(recorder as unknown as pg.Pool);
  return captured;
}

/** EXPLAIN (ANALYZE, BUFFERS) of every statement of each case over the goal (or of all). */
async function explainSlow(
  pool: pg.Pool,
  cases: readonly ListCase[],
  lists: Record<string, Measured>,
  stats: Measured,
  log: (line: string) => void,
): Promise<void> {
  const slow = (m: Measured) => EXPLAIN_ALL || Math.max(m.direct.p99_ms, m.http?.p99_ms ?? 0) > ADMIN_GOAL_MS;
  const calls: Array<[string, (db: pg.Pool) => Promise<unknown>]> = cases
    .filter(({ name }) => slow(lists[name]!))
    .map(({ name, query }) => [name, (db) => directReader(db).list(query(0))]);
  if (slow(stats)) calls.push(['stats', (db) => readStats(db)]);
  for (const [name, call] of calls) {
    for (const { text, values } of await statementsOf(call)) {
      const { rows } = await pool.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN (ANALYZE, BUFFERS) ${text}`,
        values as unknown[],
      );
      log(`  plan of ${name}: ${text.replace(/\s+/g, ' ').slice(0, 160)}…`);
      for (const row of rows) log(`    ${row['QUERY PLAN']}`);
    }
  }
}

const percentile = (values: number[], p: number) => {
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
