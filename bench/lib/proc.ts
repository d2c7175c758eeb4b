import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

/** USER_HZ on Linux: /proc/<pid>/stat counts CPU time in 1/100 s. */
const TICKS = 100;

/**
 * A process's resident memory and the CPU time it has used (user and system), from /proc. `anonMb` is
 * the part of the RSS that is its own (heaps, stacks); the rest is pages of files mapped in (the node
 * binary's code and ICU data, shared libraries), which every process running that binary shares and
 * the kernel can drop and read again under pressure.
 */
export function procSample(pid: number): { rssMb: number; anonMb: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const anonKb = Number(/RssAnon:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which may itself hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    rssMb: rssKb / 1024,
    anonMb: anonKb / 1024,
    cpuSeconds: (Number(fields[11]) + Number(fields[12])) / TICKS,
  };
}

/** CPU seconds used so far by each process that still exists (a gone one counts 0). */
export function cpuSeconds(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      total += procSample(pid).cpuSeconds;
    } catch {
      // The process has exited; what it used is no longer readable.
    }
  }
  return total;
}

/** The 1, 5 and 15 minute load averages, as `uptime` prints them. */
export const loadAverages = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');
