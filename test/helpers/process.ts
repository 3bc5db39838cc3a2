import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { defer } from './cleanup.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

export interface SpawnOptions {
  /**
   * In a process group of its own, as a service started from a terminal is: a signal sent to
   * the group (`process.kill(-pid, …)`, what Ctrl-C does) then reaches it and not the test runner.
   */
  readonly ownProcessGroup?: boolean;
}

/**
 * Runs `node src/main.ts` as `npm start` does, with only the given environment (plus PATH),
 * and waits for it to be ready. Killed when the test ends if still running.
 */
export async function spawnService(
  t: TestContext,
  env: Record<string, string>,
  args: readonly string[] = ['src/main.ts'],
  options: SpawnOptions = {},
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    // An admin token, so that no run generates one in the repository's ./data.
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'debug',
      ADMIN_TOKEN: 'test-admin-token-do-not-use-0123',
      // Reconciliation lists C2S and stores what it finds: only in the tests that want it.
      RECONCILE_INTERVAL_MINUTES: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.ownProcessGroup ?? false,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  defer(t, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service not ready in time:\n${output}`)), 60_000);
    const check = () => {
      const ready = /"address":"(http:\/\/[^"]+)"[^\n]*"msg":"c2s-enricher ready"/.exec(output);
      if (ready) {
        clearTimeout(timer);
        child.stdout.off('data', check);
        resolve(ready[1]!);
      }
    };
    child.stdout.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`service exited (${code}) before ready:\n${output}`));
    });
  });
  return {
    child,
    url,
    output: () => output,
    exited,
    stop: (signal = 'SIGTERM') => {
      child.kill(signal);
      return exited;
    },
  };
}

/** Runs a project command (e.g. the smoke CLI) to completion. */
export function runNode(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

export interface CommandRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly elapsedMs: number;
}

/** Runs the command line (`src/cli/main.ts`) to completion, stdout and stderr apart (pipes). */
export function runCommand(
  args: readonly string[],
  env: Record<string, string>,
  cwd: string = ROOT,
): Promise<CommandRun> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'src/cli/main.ts'), ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('close', (code) =>
      resolve({ code, stdout, stderr, elapsedMs: Math.round(performance.now() - started) }),
    );
  });
}

/** A directory of its own for one test, removed when it ends. */
export function scratchDir(t: TestContext, prefix = 'c2s-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  defer(t, () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * The command line as an operator runs it from a directory of their own: that directory is its
 * working directory and data directory (where generated secrets are kept).
 */
export function runCommandIn(
  t: TestContext,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<CommandRun> {
  const dir = scratchDir(t, 'c2s-cli-');
  return runCommand(args, { DATA_DIR: dir, ...env }, dir);
}

/** A local port nothing listens on (yet): for a service to start on, or a provider that is down. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, host, resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}
