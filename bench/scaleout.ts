// The scale-out scenario: two API processes and one, then two, worker processes on one
// PostgreSQL, a burst of leads, and provider simulators that answer in realistic times (Diretrix
// and the Work API 300 ms–1.5 s, C2S about 200 ms). With the providers, not the CPU, the limit,
// a second worker process should nearly double the throughput, and no event may run twice nor
// any lead get two notes. `npm run bench` runs it with 2,000 leads (BENCH_SCENARIOS=scaleout
// alone); test/scaleout.test.ts runs a smaller burst of it.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { startC2sSimulator, type C2sSimulator } from '../src/simulators/c2s.ts';
import { startDiretrixSimulator } from '../src/simulators/diretrix.ts';
import { createPopulation, type Population } from '../src/simulators/population.ts';
import { startWorkApiSimulator, type WorkApiSimulator } from '../src/simulators/workapi.ts';
import { startChild, type Child } from './processes.ts';

export interface ScaleoutOptions {
  /** Leads in each burst. */
  readonly leads: number;
  /** Worker process counts to compare, in order (two API processes each time). */
  readonly workers: readonly number[];
  /** WORKER_CONCURRENCY of each worker process. */
  readonly concurrency: number;
  /** A new empty database's URL for each run (the first process applies the migrations). */
  readonly freshDatabase: (label: string) => Promise<string>;
  /** Node's arguments to run the service: its flags and the entry point, as `npm start` has them. */
  readonly service: readonly string[];
  /** Where the processes may write (DATA_DIR). */
  readonly dataDir: string;
  readonly log: (line: string) => void;
  /** How long one burst may take to be processed. */
  readonly timeoutMs?: number;
}

export interface ScaleoutRun {
  readonly workers: number;
  readonly leads: number;
  readonly leadsPerSecond: number;
  /** Webhook-to-note latency, from each lead's send to its note's receipt at the simulated C2S. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Share of the machine's CPU time busy while the burst was processed (all processes, 0–1). */
  readonly cpuBusy: number;
  /** CPU seconds the service's processes used per lead, API and worker processes together. */
  readonly serviceCpuMsPerLead: number;
  /** Leads whose event completed as enriched, and the other outcomes. */
  readonly outcomes: Readonly<Record<string, number>>;
  /** Events claimed more than once, plus steps run more than once: 0 when no event ran twice. */
  readonly duplicateRuns: number;
  /** Notes beyond the first on a lead, at the simulated C2S. */
  readonly duplicateNotes: number;
  /**
   * What the database grew by, per lead: the event, its steps, the note, the person (as stored,
   * dead row versions included: before vacuum reclaims them).
   */
  readonly dbBytesPerLead: number;
  /** Enriched leads without a note at the simulated C2S. */
  readonly missingNotes: number;
  /** Work API dossier lookups beyond the first for a CPF (each lead is a different person). */
  readonly duplicateLookups: number;
}

const SECRET = 'scaleout-secret-0123456789abcdef';
const ADMIN_TOKEN = 'scaleout-admin-token-0123456789';
const PATH = '/api/v1/webhooks/c2s';
/** Concurrent webhook deliveries of the burst, spread over the API processes. */
const SENDERS = 32;

/** Realistic provider answer times: the lookups are slow and vary, posting a note is quick. */
export const PROVIDER_LATENCY = {
  diretrix: { latencyMs: 300, latencyMaxMs: 1500 },
  workApi: { latencyMs: 300, latencyMaxMs: 1500 },
  c2s: { latencyMs: 150, latencyMaxMs: 250 },
} as const;

export async function scaleoutScenario(options: ScaleoutOptions): Promise<ScaleoutRun[]> {
  const population = createPopulation({ seed: 11, size: Math.max(options.leads, 400) });
  const c2s = await startC2sSimulator({ token: 'scaleout-c2s' });
  const diretrix = await startDiretrixSimulator({ user: 'scaleout', pass: 'scaleout', population });
  const workApi = await startWorkApiSimulator({ token: 'scaleout-work', population });
  c2s.faults.set('*', PROVIDER_LATENCY.c2s);
  diretrix.faults.set('*', PROVIDER_LATENCY.diretrix);
  workApi.faults.set('*', PROVIDER_LATENCY.workApi);
  const env = {
    WEBHOOK_SECRET: SECRET,
    ADMIN_TOKEN,
    DATA_DIR: options.dataDir,
    INGEST_MAX_BACKLOG: '100000000',
    WEBHOOK_RATE_LIMIT_PER_MINUTE: '0',
    WORKER_CONCURRENCY: String(options.concurrency),
    // Every lead takes the whole path: no dossier cache, no answers from our own records.
    DOSSIER_CACHE_HOURS: '0',
    CONTACT_MATCH_DAYS: '0',
    // The burst alone: no scheduled reconciliation listing the simulated C2S meanwhile.
    RECONCILE_INTERVAL_MINUTES: '0',
    LOG_LEVEL: 'warn',
    C2S_BASE_URL: c2s.url,
    C2S_TOKEN: 'scaleout-c2s',
    DIRETRIX_BASE_URL: diretrix.url,
    DIRETRIX_USER: 'scaleout',
    DIRETRIX_PASS: 'scaleout',
    WORK_API_BASE_URL: workApi.url,
    WORK_API: 'scaleout-work',
    // The simulators do not pace their callers: the service's own limiters stay out of the way.
    C2S_RATE_PER_MINUTE: '0',
    DIRETRIX_RATE_PER_MINUTE: '0',
    WORK_API_RATE_PER_MINUTE: '0',
  };
  const runs: ScaleoutRun[] = [];
  try {
    for (const workers of options.workers) {
      const dbUrl = await options.freshDatabase(`scaleout${workers}`);
      const children: Child[] = [];
      try {
        // Two API processes first (the first applies the migrations), then the workers.
        for (const role of ['api', 'api', ...Array<string>(workers).fill('worker')])
          children.push(await startChild([...options.service, `--role=${role}`], { ...env, DB_URL: dbUrl }));
        const apis = children.slice(0, 2).map((child) => child.url);
        const pids = children.map((child) => child.process.pid!);
        const run = await burst({ ...options, workers, dbUrl, apis, pids, population, c2s, workApi });
        runs.push(run);
        options.log(
          `scaleout: ${workers} worker process(es), ${run.leads} leads: ${run.leadsPerSecond} leads/s, ` +
            `webhook to note p50 ${run.p50Ms} ms, p99 ${run.p99Ms} ms, machine CPU ${Math.round(run.cpuBusy * 100)} % busy, ` +
            `service ${run.serviceCpuMsPerLead} ms CPU per lead; ` +
            `duplicate runs ${run.duplicateRuns}, notes ${run.duplicateNotes}, lookups ${run.duplicateLookups}`,
        );
      } finally {
        await Promise.all(children.map((child) => child.stop()));
      }
    }
  } finally {
    await Promise.all([c2s.close(), diretrix.close(), workApi.close()]);
  }
  return runs;
}

interface BurstOptions extends Omit<ScaleoutOptions, 'workers'> {
  readonly workers: number;
  readonly dbUrl: string;
  readonly apis: readonly string[];
  /** The service's processes, whose CPU time is counted. */
  readonly pids: readonly number[];
  readonly population: Population;
  readonly c2s: C2sSimulator;
  readonly workApi: WorkApiSimulator;
}

/**
 * Posts the burst (as fast as accepted, round robin over the API processes), waits until every
 * event is finished, then counts what came out: throughput from the first accept to the last
 * note, and every sign of an event run twice.
 */
async function burst(options: BurstOptions): Promise<ScaleoutRun> {
  const { population, c2s, workApi } = options;
  const tag = `so${options.workers}w${Date.now().toString(36)}`;
  const leads = Array.from({ length: options.leads }, (_, n) => leadEvent(`${tag}-${n}`, population, n));
  const lookupsBefore = workApi.callsByKey('cpf');
  const sizeBefore = await databaseSize(options.dbUrl);
  const cpuBefore = machineCpu();
  const serviceBefore = processCpuMs(options.pids);
  const sentAt = new Map<string, number>();
  let firstAccept = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: SENDERS }, async (_, sender) => {
      const api = options.apis[sender % options.apis.length]!;
      while (next < leads.length) {
        const lead = leads[next++]!;
        sentAt.set(lead.id, Date.now());
        await deliver(api, lead);
        firstAccept ||= Date.now();
      }
    }),
  );

  const db = new pg.Client({ connectionString: options.dbUrl });
  await db.connect();
  try {
    const deadline = Date.now() + (options.timeoutMs ?? 600_000);
    for (;;) {
      const { rows } = await db.query<{ open: number }>(
        `SELECT count(*)::int AS open FROM webhook_events WHERE status IN ('received', 'processing')`,
      );
      if (rows[0]!.open === 0) break;
      if (Date.now() > deadline)
        throw new Error(`scaleout: ${rows[0]!.open} events still unfinished after the deadline`);
      await sleep(250);
    }
    const cpuBusy = busyShare(cpuBefore, machineCpu());
    const serviceCpuMs = processCpuMs(options.pids) - serviceBefore;

    const outcomes = Object.fromEntries(
      (
        await db.query<{ outcome: string; count: number }>(
          `SELECT coalesce(outcome, status) AS outcome, count(*)::int AS count FROM webhook_events GROUP BY 1`,
        )
      ).rows.map((row) => [row.outcome, row.count]),
    );
    const { rows: runs } = await db.query<{ events: number; steps: number }>(
      `SELECT (SELECT count(*) FROM webhook_events WHERE attempts > 1)::int AS events,
              (SELECT count(*) FROM event_steps WHERE attempts > 1)::int AS steps`,
    );
    const { rows: enriched } = await db.query<{ lead_id: string }>(
      `SELECT lead_id FROM webhook_events WHERE outcome = 'enriched'`,
    );

    const ids = new Set(sentAt.keys());
    const notes = c2s.notes().filter((note) => ids.has(note.leadId));
    const perLead = new Map<string, number>();
    for (const note of notes) perLead.set(note.leadId, (perLead.get(note.leadId) ?? 0) + 1);
    const lookups = workApi.callsByKey('cpf');
    let duplicateLookups = 0;
    for (const [cpf, count] of lookups)
      duplicateLookups += Math.max(0, count - (lookupsBefore.get(cpf) ?? 0) - 1);

    const latencies = notes.map((note) => note.receivedAt - sentAt.get(note.leadId)!).sort((a, b) => a - b);
    const at = (p: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
    const lastNote = Math.max(...notes.map((note) => note.receivedAt));
    return {
      workers: options.workers,
      leads: options.leads,
      leadsPerSecond: round(notes.length / ((lastNote - firstAccept) / 1000)),
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      cpuBusy: round(cpuBusy, 2),
      serviceCpuMsPerLead: round(serviceCpuMs / options.leads),
      dbBytesPerLead: Math.round(((await databaseSize(options.dbUrl)) - sizeBefore) / options.leads),
      outcomes,
      duplicateRuns: runs[0]!.events + runs[0]!.steps,
      duplicateNotes: [...perLead.values()].reduce((sum, count) => sum + Math.max(0, count - 1), 0),
      missingNotes: enriched.filter((row) => !perLead.has(row.lead_id)).length,
      duplicateLookups,
    };
  } finally {
    await db.end();
  }
}

async function databaseSize(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ bytes: string }>(
      'SELECT pg_database_size(current_database()) AS bytes',
    );
    return Number(rows[0]!.bytes);
  } finally {
    await client.end();
  }
}

/** One delivery, again after a moment until the service answers 200 (as C2S retries). */
async function deliver(api: string, lead: { id: string }): Promise<void> {
  for (;;) {
    const response = await fetch(`${api}${PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-webhook-token': SECRET },
      body: JSON.stringify(lead),
    });
    await response.arrayBuffer();
    if (response.status === 200) return;
    await sleep(50);
  }
}

/** A C2S lead of person `index`: found by phone at Diretrix, then its dossier at the Work API. */
function leadEvent(id: string, population: Population, index: number) {
  const person = population.people[index % population.people.length]!;
  const at = new Date(Date.UTC(2026, 10, 20, 10, 15) + index).toISOString();
  return {
    id,
    hook_action: 'on_create_lead',
    attributes: {
      description: 'Apartamento 3 quartos - Vila Mariana',
      customer: {
        name: person.name,
        email: person.emails[0],
        phone: `55${person.phones[0]!.number}`,
      },
      created_at: at,
      updated_at: at,
    },
  };
}

/** The machine's CPU time so far (Linux /proc/stat, in ticks): busy and total. */
function machineCpu(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((sum, value) => sum + value, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0); // idle and iowait
  return { busy: total - idle, total };
}

function busyShare(before: { busy: number; total: number }, after: { busy: number; total: number }) {
  return (after.busy - before.busy) / Math.max(1, after.total - before.total);
}

/** CPU time (user and system) the processes used so far, in ms (/proc/<pid>/stat, 100 ticks a second). */
function processCpuMs(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks * 10;
}

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
