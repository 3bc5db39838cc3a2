// `npm run bench`: ingest and whole-pipeline benchmarks, each figure a median over alternating
// rounds against baselines measured in the same run, and the admin API on a million events.
// Everything runs on 127.0.0.1.
import autocannon from 'autocannon';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { startEmbeddedDatabase } from '../src/db/embedded.ts';
import { parentPid, processCpuMs, treeCpuMs } from './cpu.ts';
import { createLogger } from '../src/log/logger.ts';
import { startC2sSimulator, type C2sSimulator } from '../src/simulators/c2s.ts';
import { startDiretrixSimulator } from '../src/simulators/diretrix.ts';
import { createPopulation, type Population } from '../src/simulators/population.ts';
import { startWorkApiSimulator } from '../src/simulators/workapi.ts';
import { ADMIN_GOAL_MS, adminScenario, printAdminTable } from './admin.ts';
import { ROOT, startChild, type Child } from './processes.ts';
import { scaleoutScenario } from './scaleout.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PIPELINE_LEADS = Number(process.env.BENCH_PIPELINE_LEADS ?? 5000);
const SCALING_LEADS = Number(process.env.BENCH_SCALING_LEADS ?? 2000);
const WORKER_CONCURRENCY = process.env.BENCH_WORKER_CONCURRENCY ?? '64';
const SCALEOUT_LEADS = Number(process.env.BENCH_SCALEOUT_LEADS ?? 2000);
const SCALEOUT_CONCURRENCY = Number(process.env.BENCH_SCALEOUT_CONCURRENCY ?? 32);
/** Which parts to run (all by default): ingest, pipeline, start, scaling, scaleout, admin. */
const ALL_SCENARIOS = ['ingest', 'pipeline', 'start', 'scaling', 'scaleout', 'admin'];
const SCENARIOS = new Set(process.env.BENCH_SCENARIOS?.split(',') ?? ALL_SCENARIOS);
const SECRET = 'bench-secret-0123456789abcdef';
const PATH = '/api/v1/webhooks/c2s';
const started = Date.now();
const log = (line: string) =>
  process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);

// ---- database server -------------------------------------------------------------------------
const dataDir = mkdtempSync(join(tmpdir(), 'c2s-bench-'));
chmodSync(dataDir, 0o711); // run as root, the embedded server's own user must reach its cluster inside
/** BENCH_PG_STATS=1: print the pipeline's costliest statements (pg_stat_statements). */
const PG_STATS = process.env.BENCH_PG_STATS === '1';
const embedded = process.env.BENCH_DATABASE_URL
  ? undefined
  : await startEmbeddedDatabase({
      dataDir: join(dataDir, 'pg'),
      logger: createLogger('warn'),
      settings: PG_STATS
        ? { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track_planning': 'on' }
        : {},
    });
const serverUrl = process.env.BENCH_DATABASE_URL ?? embedded!.adminUrl;
let databaseCounter = 0;
const databases: string[] = [];
async function freshDatabase(label: string): Promise<string> {
  const name = `bench_${label}_${process.pid}_${++databaseCounter}`;
  await sql(serverUrl, `CREATE DATABASE ${name}`);
  databases.push(name);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops the scenario's databases, so their autovacuum does not run during the next scenario. */
async function dropDatabases(): Promise<void> {
  for (const name of databases.splice(0)) await sql(serverUrl, `DROP DATABASE ${name} WITH (FORCE)`);
}

async function sql(url: string, text: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<Record<string, unknown>>(text)).rows;
  } finally {
    await client.end();
  }
}

// ---- payloads --------------------------------------------------------------------------------
const population: Population = createPopulation({ seed: 11, size: Math.max(PIPELINE_LEADS, 400) });
let sequence = 0;
const runTag = Date.now().toString(36);

/** A realistic C2S webhook event (~1.3 KB), unique (lead_id, updated_at) each call. */
function leadEvent(personIndex = sequence): Record<string, unknown> {
  const n = ++sequence;
  const person = population.people[personIndex % population.people.length]!;
  const at = new Date(Date.UTC(2026, 10, 20, 10, 15) + n).toISOString().replace('Z', '-00:00');
  return {
    id: `${runTag}${n.toString(16).padStart(12, '0')}`,
    hook_action: 'on_create_lead',
    attributes: {
      description: 'Apartamento 3 quartos - Vila Mariana, 2 vagas, varanda gourmet, proximo ao metro',
      customer: {
        id: `c-${n}`,
        name: person.name,
        email: person.emails[0],
        phone: `55${person.phones[0]!.number}`,
        phone_global: `+55${person.phones[0]!.number}`,
      },
      product: {
        id: 'p-5',
        description: '[101] Apartamento 3 quartos',
        prop_ref: '101',
        price_float: 850000,
      },
      seller: { id: 's-3', name: 'Carlos Vendedor', email: 'carlos@example.com' },
      lead_source: { id: 542, name: 'Site' },
      lead_status: { id: 1, alias: 'new', name: 'Novo' },
      channel: {
        id: 7,
        name: 'Portal imobiliario',
        campaign: 'black-friday-2026',
        medium: 'cpc',
        term: 'apartamento vila mariana',
      },
      messages_count: 1,
      first_message:
        'Ola, gostaria de agendar uma visita ao apartamento neste fim de semana, se possivel no sabado pela manha.',
      created_at: at,
      updated_at: at,
    },
  };
}

// ---- load helpers ----------------------------------------------------------------------------
interface LoadResult {
  readonly rps: number;
  /** Requests answered in the run. */
  readonly total: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
}

async function hammer(
  url: string,
  body: () => string,
  connections: number,
  seconds: number,
): Promise<LoadResult> {
  const result = await autocannon({
    url: `${url}${PATH}`,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-webhook-token': SECRET },
        setupRequest: (request) => ({ ...request, body: body() }),
      },
    ],
  });
  return {
    rps: result.requests.average,
    total: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.non2xx + result.errors + result.timeouts,
  };
}

const median = (values: number[]) => {
  const sorted = values.toSorted((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const percentile = (values: number[], p: number) => {
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Alternates the targets round by round and keeps the median of each. */
async function compare(
  targets: Record<string, () => Promise<LoadResult>>,
): Promise<Record<string, LoadResult>> {
  const runs: Record<string, LoadResult[]> = Object.fromEntries(
    Object.keys(targets).map((name) => [name, []]),
  );
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, run] of Object.entries(targets)) {
      const result = await run();
      runs[name]!.push(result);
      log(
        `  ${name.padEnd(14)} round ${r + 1}: ${round(result.rps, 0)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, errors ${result.errors}`,
      );
    }
  }
  return Object.fromEntries(
    Object.entries(runs).map(([name, results]) => [
      name,
      {
        rps: median(results.map((r) => r.rps)),
        total: results.reduce((sum, r) => sum + r.total, 0),
        p50: median(results.map((r) => r.p50)),
        p99: median(results.map((r) => r.p99)),
        errors: results.reduce((sum, r) => sum + r.errors, 0),
      },
    ]),
  );
}

const serviceEnv = (dbUrl: string, extra: Record<string, string> = {}) => ({
  DB_URL: dbUrl,
  DATA_DIR: join(dataDir, 'service'),
  WEBHOOK_SECRET: SECRET,
  INGEST_MAX_BACKLOG: '100000000',
  // The load comes from one address, thousands of requests a second: no per-client limit.
  WEBHOOK_RATE_LIMIT_PER_MINUTE: '0',
  ...extra,
});

/** The pipeline's service: simulators with limits off, and every lead taking the whole path. */
const pipelineEnv = (dbUrl: string, simulatorEnv: Record<string, string>) =>
  serviceEnv(dbUrl, {
    ...simulatorEnv,
    WORKER_CONCURRENCY,
    // Every lead takes the whole path: no dossier cache, no answers from our own records.
    DOSSIER_CACHE_HOURS: '0',
    CONTACT_MATCH_DAYS: '0',
    LOG_LEVEL: 'info',
  });

/** The service runs as `npm start` runs it: with the Node flags of the start script. */
const SERVICE = (() => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const words = pkg.scripts.start.split(/\s+/);
  return [...words.filter((word) => word.startsWith('--')), 'src/main.ts'];
})();

const children: Child[] = [];
async function child(args: string[], env: Record<string, string>, readyPath?: string): Promise<Child> {
  const started = await startChild(args, env, readyPath);
  children.push(started);
  return started;
}
async function stopAll(): Promise<void> {
  await Promise.all(children.splice(0).map((c) => c.stop()));
  await dropDatabases();
}

const results: Record<string, unknown> = {};
try {
  // ---- 1 and 2: ingest -----------------------------------------------------------------------
  if (SCENARIOS.has('ingest')) await ingestScenarios();
  if (SCENARIOS.has('pipeline')) await pipelineScenarios();
  if (SCENARIOS.has('start')) await startScenarios();
  if (SCENARIOS.has('scaling')) await scalingScenario();
  if (SCENARIOS.has('scaleout')) await scaleout();
  if (SCENARIOS.has('admin')) await adminScenarios();
  await writeResults();
} finally {
  await stopAll();
  await embedded?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

async function ingestScenarios(): Promise<void> {
  log(
    `ingest: ${ROUNDS} rounds of ${SECONDS} s per target, 32 connections, ~${JSON.stringify(leadEvent()).length} B events`,
  );
  const service = await child([...SERVICE, '--role=api'], serviceEnv(await freshDatabase('ingest')));
  const naive = await child(
    ['bench/baseline-server.ts', 'naive'],
    { DB_URL: await freshDatabase('naive') },
    '/health',
  );
  const bare = await child(['bench/baseline-server.ts', 'bare'], {}, '/health');
  const postmaster = await postmasterPid();
  const single = () => JSON.stringify(leadEvent());
  // CPU per event of each server and of the database, over all of a target's rounds.
  const cpu = { service: cpuTally(), naive: cpuTally(), serviceBatch: cpuTally(), naiveBatch: cpuTally() };
  const ingest = await compare({
    service: () => metered(cpu.service, service, postmaster, () => hammer(service.url, single, 32, SECONDS)),
    naive: () => metered(cpu.naive, naive, postmaster, () => hammer(naive.url, single, 32, SECONDS)),
    bare: () => hammer(bare.url, single, 32, SECONDS),
  });
  Object.assign(results, {
    ingest_rps: round(ingest.service!.rps),
    ingest_naive_rps: round(ingest.naive!.rps),
    ingest_bare_rps: round(ingest.bare!.rps),
    ingest_ratio: round(ingest.service!.rps / ingest.naive!.rps, 3),
    ingest_p50_ms: ingest.service!.p50,
    ingest_p99_ms: ingest.service!.p99,
    ingest_naive_p99_ms: ingest.naive!.p99,
    ingest_errors: ingest.service!.errors,
    // What one single-event delivery costs: the service, its database, and the naive route's.
    ingest_service_cpu_us_per_event: cpu.service.perEvent(1).server,
    ingest_db_cpu_us_per_event: cpu.service.perEvent(1).db,
    ingest_naive_cpu_us_per_event: cpu.naive.perEvent(1).server,
    ingest_naive_db_cpu_us_per_event: cpu.naive.perEvent(1).db,
  });

  log('batch ingest: 100 events per request, 8 connections');
  const batch = () => JSON.stringify(Array.from({ length: 100 }, () => leadEvent()));
  const batches = await compare({
    service: () =>
      metered(cpu.serviceBatch, service, postmaster, () => hammer(service.url, batch, 8, SECONDS)),
    naive: () => metered(cpu.naiveBatch, naive, postmaster, () => hammer(naive.url, batch, 8, SECONDS)),
  });
  Object.assign(results, {
    batch_events_per_s: round(batches.service!.rps * 100),
    batch_naive_events_per_s: round(batches.naive!.rps * 100),
    batch_ratio: round(batches.service!.rps / batches.naive!.rps, 3),
    batch_p99_ms: batches.service!.p99,
    batch_service_cpu_us_per_event: cpu.serviceBatch.perEvent(100).server,
    batch_db_cpu_us_per_event: cpu.serviceBatch.perEvent(100).db,
    batch_naive_cpu_us_per_event: cpu.naiveBatch.perEvent(100).server,
    batch_naive_db_cpu_us_per_event: cpu.naiveBatch.perEvent(100).db,
  });
  await stopAll();
}

// ---- 3, 4 and 5: the whole pipeline ---------------------------------------------------------
async function pipelineScenarios(): Promise<void> {
  const simulators = await startSimulators();
  const pipelineDb = await freshDatabase('pipeline');
  if (PG_STATS) await sql(pipelineDb, 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  const pipelineService = await child([...SERVICE, '--role=all'], pipelineEnv(pipelineDb, simulators.env));
  // Light load first, on a quiet database, after a warm-up (connections opened, code compiled):
  // cold start and the burst's aftermath have figures of their own. The checkpoint writes out
  // what earlier scenarios left dirty (as pgbench does before a run), or its I/O lands here.
  log('light load: 20 leads/s for 20 s, after a checkpoint and 2 s of warm-up');
  await sql(serverUrl, 'CHECKPOINT');
  await runPipeline(pipelineService.url, simulators.c2s, 40, 20);
  const light = await runPipeline(pipelineService.url, simulators.c2s, 400, 20);
  Object.assign(results, { light_e2e_p50_ms: light.p50, light_e2e_p99_ms: light.p99 });
  log(`  webhook-to-note p50 ${light.p50} ms, p99 ${light.p99} ms`);
  log(
    `pipeline: ${PIPELINE_LEADS} leads posted as fast as accepted (32 concurrent), worker concurrency ${WORKER_CONCURRENCY}`,
  );
  const cpu = cpuMeter(pipelineService, await postmasterPid());
  const pipeline = await runPipeline(pipelineService.url, simulators.c2s, PIPELINE_LEADS, 0);
  const spent = cpu.spent();
  const perLead = {
    service: round(spent.service / PIPELINE_LEADS, 2),
    db: round(spent.db / PIPELINE_LEADS, 2),
    load: round(spent.load / PIPELINE_LEADS, 2),
  };
  Object.assign(results, {
    // CPU per lead: what a deployment pays for, and much steadier than throughput here.
    pipeline_service_cpu_ms_per_lead: perLead.service,
    pipeline_db_cpu_ms_per_lead: perLead.db,
    pipeline_load_cpu_ms_per_lead: perLead.load,
    pipeline_leads_per_s: round(pipeline.leadsPerSecond),
    e2e_p50_ms: pipeline.p50,
    e2e_p99_ms: pipeline.p99,
    pipeline_accept_s: round(pipeline.acceptSeconds, 2),
  });
  log(
    `  ${round(pipeline.leadsPerSecond)} leads/s; webhook-to-note p50 ${pipeline.p50} ms, p99 ${pipeline.p99} ms`,
  );
  log(
    `  CPU per lead: service ${perLead.service} ms, PostgreSQL ${perLead.db} ms, simulators and load ${perLead.load} ms`,
  );

  if (PG_STATS) {
    const top = await sql(
      pipelineDb,
      `SELECT calls, round(total_exec_time)::int AS total_ms, round(mean_exec_time::numeric, 3) AS mean_ms,
              rows / nullif(calls, 0) AS rows_per_call, plans, round(total_plan_time)::int AS plan_ms, shared_blks_hit / nullif(calls, 0) AS hits_per_call,
              wal_records / nullif(calls, 0) AS wal_per_call, left(regexp_replace(query, '\\s+', ' ', 'g'), 60) AS query
       FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
       ORDER BY total_exec_time + total_plan_time DESC LIMIT 20`,
    );
    for (const row of top) log(`  pg: ${JSON.stringify(row)}`);
  }
  results.rss_mb = pipelineService.peakRssMb();
  await stopAll();
  await simulators.close();
}

async function startScenarios(): Promise<void> {
  log('start-up: embedded database, fresh and existing data directory');
  const startDir = join(dataDir, 'start');
  for (const key of ['cold_start_s', 'warm_start_s']) {
    const t0 = performance.now();
    const started = await child(SERVICE, { DATA_DIR: startDir, WEBHOOK_SECRET: SECRET });
    results[key] = round((performance.now() - t0) / 1000, 2);
    await stopAll();
    void started;
  }
  log(`  cold ${String(results.cold_start_s)} s, warm ${String(results.warm_start_s)} s`);
}

// ---- 6: scaling curve -------------------------------------------------------------------------
async function scalingScenario(): Promise<void> {
  const simulators = await startSimulators();
  const scaling: Record<string, number> = {};
  for (const workers of [1, 2, 4]) {
    const dbUrl = await freshDatabase(`scale${workers}`);
    const api = await child([...SERVICE, '--role=api'], pipelineEnv(dbUrl, simulators.env));
    for (let w = 0; w < workers; w++)
      await child([...SERVICE, '--role=worker'], pipelineEnv(dbUrl, simulators.env));
    const run = await runPipeline(api.url, simulators.c2s, SCALING_LEADS, 0);
    scaling[`workers_${workers}`] = round(run.leadsPerSecond);
    log(`scaling: ${workers} worker process(es): ${round(run.leadsPerSecond)} leads/s`);
    await stopAll();
  }
  results.scaling_leads_per_s = scaling;
  await simulators.close();
}

// ---- 7: scale-out with providers as slow as real ones --------------------------------------------
async function scaleout(): Promise<void> {
  log(
    `scaleout: ${SCALEOUT_LEADS} leads, 2 API processes, 1 then 2 worker processes (concurrency ${SCALEOUT_CONCURRENCY} each), providers 0.2–1.5 s`,
  );
  const [one, two] = await scaleoutScenario({
    leads: SCALEOUT_LEADS,
    workers: [1, 2],
    concurrency: SCALEOUT_CONCURRENCY,
    freshDatabase,
    service: SERVICE,
    dataDir: join(dataDir, 'service'),
    log,
  });
  Object.assign(results, {
    scaleout_leads: SCALEOUT_LEADS,
    scaleout_worker_concurrency: SCALEOUT_CONCURRENCY,
    scaleout_1w_leads_per_s: one!.leadsPerSecond,
    scaleout_2w_leads_per_s: two!.leadsPerSecond,
    scaleout_ratio: round(two!.leadsPerSecond / one!.leadsPerSecond, 2),
    scaleout_1w_cpu_busy: one!.cpuBusy,
    scaleout_2w_cpu_busy: two!.cpuBusy,
    scaleout_service_cpu_ms_per_lead: two!.serviceCpuMsPerLead,
    scaleout_db_bytes_per_lead: two!.dbBytesPerLead,
    scaleout_2w_e2e_p50_ms: two!.p50Ms,
    scaleout_2w_e2e_p99_ms: two!.p99Ms,
    scaleout_outcomes: { workers_1: one!.outcomes, workers_2: two!.outcomes },
    duplicate_runs: one!.duplicateRuns + two!.duplicateRuns,
    duplicate_notes: one!.duplicateNotes + two!.duplicateNotes,
    duplicate_lookups: one!.duplicateLookups + two!.duplicateLookups,
    missing_notes: one!.missingNotes + two!.missingNotes,
  });
  await dropDatabases();
}

// ---- 8: the admin API on a million events ------------------------------------------------------
async function adminScenarios(): Promise<void> {
  Object.assign(
    results,
    await adminScenario({
      log,
      freshDatabase,
      startService: (dbUrl, env) => child([...SERVICE, '--role=api'], serviceEnv(dbUrl, env)),
    }),
  );
  await stopAll();
}

async function writeResults(): Promise<void> {
  const pgVersion = await (async () => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    await client.end();
    return rows[0]!.server_version;
  })();
  results.machine = {
    cores: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    postgres: pgVersion,
    database: embedded ? 'embedded' : 'external',
  };
  results.settings = {
    seconds: SECONDS,
    rounds: ROUNDS,
    pipeline_leads: PIPELINE_LEADS,
    worker_concurrency: Number(WORKER_CONCURRENCY),
  };
  results.finished_at = new Date().toISOString();
  results.duration_s = round((Date.now() - started) / 1000, 0);

  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const json = `${JSON.stringify(results, null, 2)}\n`;
  // A partial run (BENCH_SCENARIOS) never replaces the published figures.
  const complete = ALL_SCENARIOS.every((name) => SCENARIOS.has(name));
  const file = complete ? 'latest.json' : 'partial.json';
  writeFileSync(join(dir, file), json);
  writeFileSync(join(dir, `${new Date().toISOString().slice(0, 19).replaceAll(':', '-')}.json`), json);
  printTable(results, `bench/results/${file}`);
}

/** The database server's main process (with an external server, its other work counts too). */
async function postmasterPid(): Promise<number> {
  // Read while the backend lives: it is gone once its connection closes.
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    return parentPid(rows[0]!.pid);
  } finally {
    await client.end();
  }
}

/** CPU of a server process and of the database server, summed over runs (see `metered`). */
function cpuTally() {
  const spent = { server: 0, db: 0, requests: 0 };
  return {
    spent,
    /** Microseconds of CPU per event, for requests of `events` events each. */
    perEvent(events: number) {
      const per = (ms: number) => round((ms * 1000) / Math.max(1, spent.requests * events), 1);
      return { server: per(spent.server), db: per(spent.db) };
    },
  };
}

/** Runs a load against `server` and adds what it and the database spent to `tally`. */
async function metered(
  tally: ReturnType<typeof cpuTally>,
  server: Child,
  postmaster: number,
  run: () => Promise<LoadResult>,
): Promise<LoadResult> {
  const pid = server.process.pid!;
  const start = { server: processCpuMs(pid), db: treeCpuMs(postmaster) };
  const result = await run();
  tally.spent.server += processCpuMs(pid) - start.server;
  tally.spent.db += treeCpuMs(postmaster) - start.db;
  tally.spent.requests += result.total;
  return result;
}

/** CPU spent from now on by a service process, the database server, and this process. */
function cpuMeter(service: Child, postmaster: number) {
  const pid = service.process.pid!;
  const start = { service: processCpuMs(pid), db: treeCpuMs(postmaster), load: process.cpuUsage() };
  return {
    spent() {
      const load = process.cpuUsage(start.load);
      return {
        service: processCpuMs(pid) - start.service,
        db: treeCpuMs(postmaster) - start.db,
        load: (load.user + load.system) / 1000,
      };
    },
  };
}

// ---- pipeline driver -------------------------------------------------------------------------
interface PipelineResult {
  readonly leadsPerSecond: number;
  readonly acceptSeconds: number;
  readonly p50: number;
  readonly p99: number;
}

/**
 * Posts `count` leads (as fast as accepted with 32 in flight, or at `perSecond`), then waits for
 * their notes at the C2S simulator. Throughput runs from the first accept to the last note;
 * latency from each lead's send to its note's receipt.
 */
async function runPipeline(
  url: string,
  c2s: C2sSimulator,
  count: number,
  perSecond: number,
): Promise<PipelineResult> {
  const leads = Array.from({ length: count }, (_, n) => leadEvent(n));
  const sentAt = new Map<string, number>();
  let firstAccept = 0;
  let next = 0;
  const send = async (lead: Record<string, unknown>) => {
    const id = lead.id as string;
    sentAt.set(id, Date.now());
    for (;;) {
      const response = await fetch(`${url}${PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-webhook-token': SECRET },
        body: JSON.stringify(lead),
      });
      await response.arrayBuffer();
      if (response.status === 200) break;
      await sleep(50);
    }
    firstAccept ||= Date.now();
  };
  const postStart = Date.now();
  if (perSecond > 0) {
    const pending: Promise<void>[] = [];
    for (const [n, lead] of leads.entries()) {
      const due = postStart + (n * 1000) / perSecond;
      if (due > Date.now()) await sleep(due - Date.now());
      pending.push(send(lead));
    }
    await Promise.all(pending);
  } else {
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < leads.length) await send(leads[next++]!);
      }),
    );
  }
  const acceptSeconds = (Date.now() - postStart) / 1000;
  const ids = new Set(sentAt.keys());
  const deadline = Date.now() + 300_000;
  let notes = c2s.notes().filter((note) => ids.has(note.leadId));
  while (notes.length < count && Date.now() < deadline) {
    await sleep(500); // the figures use receipt times, not when the poll saw them
    notes = c2s.notes().filter((note) => ids.has(note.leadId));
  }
  if (notes.length < count) throw new Error(`only ${notes.length} of ${count} notes arrived`);
  const latencies = notes.map((note) => note.receivedAt - sentAt.get(note.leadId)!);
  const lastNote = Math.max(...notes.map((note) => note.receivedAt));
  return {
    leadsPerSecond: count / ((lastNote - firstAccept) / 1000),
    acceptSeconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

async function startSimulators() {
  const c2s = await startC2sSimulator({ token: 'bench-c2s' });
  const diretrix = await startDiretrixSimulator({ user: 'bench', pass: 'bench', population });
  const workApi = await startWorkApiSimulator({ token: 'bench-work', population });
  return {
    c2s,
    env: {
      C2S_BASE_URL: c2s.url,
      C2S_TOKEN: 'bench-c2s',
      DIRETRIX_BASE_URL: diretrix.url,
      DIRETRIX_USER: 'bench',
      DIRETRIX_PASS: 'bench',
      WORK_API_BASE_URL: workApi.url,
      WORK_API: 'bench-work',
      C2S_RATE_PER_MINUTE: '0',
      DIRETRIX_RATE_PER_MINUTE: '0',
      WORK_API_RATE_PER_MINUTE: '0',
    },
    close: async () => {
      await Promise.all([c2s.close(), diretrix.close(), workApi.close()]);
    },
  };
}

function printTable(figures: Record<string, unknown>, file: string): void {
  const goals: Record<string, string> = {
    ingest_ratio: '>= 1.5',
    ingest_p99_ms: '<= 25',
    batch_ratio: '>= 0.8',
    pipeline_leads_per_s: '>= 250',
    pipeline_service_cpu_ms_per_lead: '<= 1.5',
    pipeline_db_cpu_ms_per_lead: '<= 1.5',
    light_e2e_p50_ms: '<= 50',
    light_e2e_p99_ms: '<= 250',
    rss_mb: '<= 200',
    cold_start_s: '<= 5',
    scaleout_ratio: '>= 1.6',
    duplicate_runs: '= 0',
    duplicate_notes: '= 0',
    duplicate_lookups: '= 0',
    missing_notes: '= 0',
    admin_list_p99_ms: `<= ${ADMIN_GOAL_MS}`,
    admin_stats_p99_ms: `<= ${ADMIN_GOAL_MS}`,
  };
  process.stdout.write('\n| figure | value | goal |\n| --- | --- | --- |\n');
  for (const [key, value] of Object.entries(figures)) {
    if (typeof value !== 'number' && typeof value !== 'string') continue;
    process.stdout.write(`| ${key} | ${value} | ${goals[key] ?? ''} |\n`);
  }
  const scaling = figures.scaling_leads_per_s as Record<string, number> | undefined;
  if (scaling) process.stdout.write(`\nscaling (leads/s): ${JSON.stringify(scaling)}\n`);
  printAdminTable(figures);
  process.stdout.write(`machine: ${JSON.stringify(figures.machine)}\nwritten to ${file}\n`);
}
