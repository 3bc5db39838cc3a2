// CPU time of processes, from /proc (Linux): what a deployment pays for, steadier than
// throughput on a shared machine. Figures in milliseconds.
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's times (USER_HZ): 100 on Linux for decades. */
const TICKS_PER_SECOND = 100;

interface Times {
  readonly ppid: number;
  /** utime + stime */
  readonly own: number;
  /** cutime + cstime: children that ended and were waited for. */
  readonly reaped: number;
}

function times(pid: number): Times | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // ended meanwhile
  }
  // The command name may hold spaces and parentheses: the fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const tick = (index: number) => Number(fields[index - 3]);
  return { ppid: tick(4), own: tick(14) + tick(15), reaped: tick(16) + tick(17) };
}

const ms = (ticks: number) => (ticks * 1000) / TICKS_PER_SECOND;

/** CPU a process has used itself. */
export function processCpuMs(pid: number): number {
  return ms(times(pid)?.own ?? 0);
}

/**
 * CPU of a process and its children, those running and those ended (a PostgreSQL server: the
 * postmaster, its background processes, and every backend, each counted when it exits).
 */
export function treeCpuMs(rootPid: number): number {
  const root = times(rootPid);
  if (!root) return 0;
  let total = root.own + root.reaped;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const child = times(Number(entry));
    if (child?.ppid === rootPid) total += child.own + child.reaped;
  }
  return ms(total);
}

/** The parent of a process (a backend's: the postmaster). */
export function parentPid(pid: number): number {
  return times(pid)?.ppid ?? 0;
}
