import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What a running service with an embedded database tells operator commands on the same machine:
 * where it listens, the embedded server's port, and the demo simulators' URLs. Lives in the data
 * directory (which one process owns) while the service runs; holds no secret.
 */
export interface RuntimeInfo {
  readonly pid: number;
  readonly address: string;
  readonly embeddedDatabasePort: number | null;
  readonly simulators: Readonly<Record<string, string>>;
}

const FILE = 'runtime.json';

export function writeRuntime(dataDir: string, info: RuntimeInfo): void {
  writeFileSync(join(dataDir, FILE), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
}

export function removeRuntime(dataDir: string): void {
  rmSync(join(dataDir, FILE), { force: true });
}

/** The running service's info, or null when none runs on this data directory. */
export function readRuntime(dataDir: string): RuntimeInfo | null {
  try {
    const info = JSON.parse(readFileSync(join(dataDir, FILE), 'utf8')) as RuntimeInfo;
    process.kill(info.pid, 0);
    return info;
  } catch {
    return null;
  }
}
