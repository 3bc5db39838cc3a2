import pg from 'pg';
import type { Config } from './config.ts';
import { openDatabaseServer } from './db/database.ts';
import { migrate } from './db/migrate.ts';
import { createPool } from './db/pool.ts';
import { buildApp } from './http/app.ts';
import { createHealthPool } from './http/health.ts';
import type { Logger } from './log/logger.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import type { C2sClient } from './providers/c2s/client.ts';
import type { DiretrixClient } from './providers/diretrix/client.ts';
import { createProviders, providerEndpoints, type Providers } from './providers/setup.ts';
import type { WorkApiClient } from './providers/workapi/client.ts';
import { createWaker } from './queue/wakeups.ts';
import { registerStateGauges } from './workflow/gauges.ts';
import { registerDatabaseGauge } from './db/up-gauge.ts';
import { registerBreakerGauge } from './providers/breaker-gauge.ts';
import type { Step } from './workflow/runner.ts';
import { startWorker } from './workflow/worker.ts';
import { removeRuntime, writeRuntime } from './runtime.ts';
import { startDemoProviders } from './demo.ts';
import { hostname } from 'node:os';
import { createHealthRecorder, startHealthReports } from './providers/health.ts';
import { startHourSealing } from './admin/hour-counts.ts';
import { startTallyReports } from './admin/tallies.ts';
import { startRetention } from './lifecycle/retention.ts';
import { suppressionOf, type Suppression } from './lifecycle/suppression.ts';
import { registerReconcileGauges } from './reconcile/gauges.ts';
import { startReconciliation } from './reconcile/schedule.ts';

export type Role = 'api' | 'worker' | 'all';

/** What a workflow's steps may use. */
export interface WorkflowDeps {
  readonly db: pg.Pool;
  readonly c2s: C2sClient;
  readonly diretrix: DiretrixClient;
  readonly workApi: WorkApiClient;
  readonly metrics: Metrics;
  readonly config: Config;
  readonly logger: Logger;
  /** Whether a lead names a person on the suppression list. */
  readonly suppression: Suppression;
}

export interface ServiceOptions {
  readonly role: Role;
  /** Webhook secrets in force (configured, or generated outside production). */
  readonly secrets: readonly string[];
  readonly workflow: (deps: WorkflowDeps) => readonly Step[];
  /** The admin API's token; absent: no admin API. */
  readonly adminToken?: string | undefined;
  /** The suppression list's key (SUPPRESSION_SECRET, or generated outside production). */
  readonly suppressionKey?: string | undefined;
  /** The workflow's step names in order, for the admin API's timelines. */
  readonly stepOrder?: readonly string[];
  /** Internal (tests): the retention job's timing; hourly, first run a minute after start, by default. */
  readonly retentionTiming?: { readonly intervalMs?: number; readonly firstRunMs?: number };
  /**
   * Internal (tests): reconciliation's timing; every RECONCILE_INTERVAL_MINUTES, first run a minute
   * after start, windows overlapping by 10 minutes, by default.
   */
  readonly reconcileTiming?: {
    readonly intervalMs?: number;
    readonly firstRunMs?: number;
    readonly overlapMs?: number;
  };
}

export interface RunningService {
  readonly address: string;
  readonly embeddedDatabase: boolean;
  /** Stops in reverse order of start: HTTP, workers (draining), queue, pool, database server. */
  stop(): Promise<void>;
}

/**
 * Wires the service: database (url | embedded) → migrations → queue → HTTP and/or workers.
 * `api` serves the webhook; `worker` runs events (and serves health and metrics); `all` both.
 */
export async function startService(
  config: Config,
  logger: Logger,
  options: ServiceOptions,
): Promise<RunningService> {
  const stops: Array<{ name: string; stop: () => Promise<unknown> }> = [];
  const stop = async () => {
    for (const { name, stop: stopOne } of stops) {
      try {
        await stopOne();
      } catch (error) {
        logger.warn({ component: name, err: error }, 'error while stopping');
      }
    }
  };
  try {
    const server = await openDatabaseServer(config, logger);
    stops.unshift({ name: 'database server', stop: () => server.stop() });

    const migrator = new pg.Client({
      connectionString: server.url,
      connectionTimeoutMillis: config.database.connectTimeoutMs,
    });
    try {
      await migrator.connect();
      await migrate(migrator, logger);
    } finally {
      await migrator.end();
    }

    const db = createPool(
      {
        url: server.url,
        max: config.database.poolMax,
        connectTimeoutMs: config.database.connectTimeoutMs,
        statementTimeoutMs: config.database.statementTimeoutMs,
      },
      logger,
    );
    stops.unshift({ name: 'database pool', stop: () => db.end() });
    // /ready and the state gauges read through a small pool of their own: however often they are
    // polled, they never take a connection the workers need to renew their leases.
    const healthDb = createHealthPool(
      { url: server.url, connectTimeoutMs: config.database.connectTimeoutMs },
      logger,
    );
    stops.unshift({ name: 'health pool', stop: () => healthDb.end() });
    // Background reports and sealing take their own two connections: neither the workers' nor
    // readiness's (whose 2 s statement timeout a long seal would also run into).
    const background = createPool(
      {
        url: server.url,
        max: 2,
        connectTimeoutMs: config.database.connectTimeoutMs,
        statementTimeoutMs: config.database.statementTimeoutMs,
      },
      logger,
    );
    stops.unshift({ name: 'background pool', stop: () => background.end() });
    const metrics = createMetrics();
    registerStateGauges(metrics, healthDb);
    registerDatabaseGauge(metrics, healthDb);
    // Stopped after the HTTP server and the workers (stops run in reverse): the last counts go out.
    const tallies = startTallyReports(background, metrics, (error) =>
      logger.warn({ err: error }, 'event tallies could not be reported'),
    );
    stops.unshift({ name: 'event tallies', stop: () => tallies.stop() });

    const processId = `${hostname()}:${process.pid}`;
    // Reconciliation runs where the webhook is served, as retention does, and needs a C2S client
    // there. In demo mode the simulated C2S lives in the process that runs the workers: an
    // api-only process has none to list.
    const reconcileWanted = options.role !== 'worker' && config.reconcile.intervalMs > 0;
    const reconcileHere = reconcileWanted && !(config.providers.demo && options.role === 'api');
    if (reconcileWanted && !reconcileHere)
      logger.info('reconciliation is off in an api-only process in demo mode: run --role=all to have it');
    let simulators: Readonly<Record<string, string>> = {};
    let providers: Providers | undefined;
    if (options.role !== 'api' || reconcileHere) {
      // No provider credentials at all (never in production): demo mode, against the simulators.
      const demo = config.providers.demo ? await startDemoProviders(config.providers, logger) : undefined;
      if (demo) {
        simulators = demo.simulators;
        stops.unshift({ name: 'simulators', stop: () => demo.close() });
      }
      const health = createHealthRecorder();
      registerBreakerGauge(metrics, health);
      const created = createProviders(
        demo?.endpoints ?? providerEndpoints(config.providers),
        metrics,
        health,
      );
      providers = created;
      stops.unshift({ name: 'providers', stop: () => created.close() });
      const reports = startHealthReports(background, health, processId, (error) =>
        logger.warn({ err: error }, 'provider health could not be reported'),
      );
      stops.unshift({ name: 'provider health reports', stop: () => reports.stop() });
    }
    if (options.role !== 'api' && providers) {
      const worker = await startWorker({
        db,
        databaseUrl: server.url,
        steps: options.workflow({
          db,
          ...providers,
          metrics,
          config,
          logger,
          suppression: suppressionOf(options.suppressionKey),
        }),
        logger,
        metrics,
        concurrency: config.workflow.concurrency,
        leaseSeconds: config.workflow.leaseSeconds,
        retry: config.workflow.retry,
        drainTimeoutMs: config.workflow.drainTimeoutMs,
      });
      stops.unshift({ name: 'worker', stop: () => worker.stop() });
    }
    const wake = createWaker(db);
    if (reconcileHere && providers) {
      // A connection of its own for the whole run (it holds the reconciliation lock): never one
      // the workers, the background reports or retention need.
      const reconcileDb = createPool(
        {
          url: server.url,
          max: 1,
          connectTimeoutMs: config.database.connectTimeoutMs,
          statementTimeoutMs: config.database.statementTimeoutMs,
        },
        logger,
      );
      stops.unshift({ name: 'reconciliation pool', stop: () => reconcileDb.end() });
      registerReconcileGauges(metrics, healthDb);
      const reconciliation = startReconciliation(reconcileDb, {
        c2s: providers.c2s,
        intervalMs: options.reconcileTiming?.intervalMs ?? config.reconcile.intervalMs,
        lookbackMs: config.reconcile.lookbackMs,
        firstRunMs: options.reconcileTiming?.firstRunMs,
        overlapMs: options.reconcileTiming?.overlapMs,
        process: processId,
        metrics,
        logger,
        wake,
      });
      stops.unshift({ name: 'reconciliation', stop: () => reconciliation.stop() });
    }

    const serveAdmin = options.role !== 'worker' && options.adminToken !== undefined;
    if (serveAdmin) {
      const sealing = startHourSealing(background, (error) =>
        logger.warn({ err: error }, 'event hour counts could not be sealed'),
      );
      stops.unshift({ name: 'hour sealing', stop: () => sealing.stop() });
    }
    if (options.role !== 'worker') {
      // Retention runs where the webhook is served (one purge at a time across processes: its lock).
      const retention = startRetention(background, {
        eventDays: config.retention.eventDays,
        peopleDays: config.retention.peopleDays,
        metrics,
        logger,
        ...options.retentionTiming,
      });
      stops.unshift({ name: 'retention', stop: () => retention.stop() });
    }
    const app = await buildApp({
      db,
      healthDb,
      logger,
      metrics,
      server: {
        requestTimeoutMs: config.webhook.requestTimeoutMs,
        trustedProxies: config.webhook.trustedProxies,
      },
      webhook: options.role === 'worker' ? undefined : { ...config.webhook, secrets: options.secrets, wake },
      admin: serveAdmin ? { token: options.adminToken, stepOrder: options.stepOrder ?? [], wake } : undefined,
    });
    stops.unshift({ name: 'http server', stop: () => app.close() });
    const address = await app.listen({ host: config.http.host, port: config.http.port });
    if (server.embeddedPort !== null) {
      writeRuntime(config.dataDir, {
        pid: process.pid,
        address,
        embeddedDatabasePort: server.embeddedPort,
        simulators,
      });
      stops.unshift({ name: 'runtime file', stop: async () => removeRuntime(config.dataDir) });
    }
    const embeddedDatabase = server.embeddedPort !== null;
    logger.info(
      { address, role: options.role, embeddedDatabase, production: config.production },
      'c2s-enricher ready',
    );
    return { address, embeddedDatabase, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
