import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** GNU time: with `-v -o file` it records the kernel's ru_maxrss of the command, even one killed by a signal. */
export const timeBinary = '/usr/bin/time';

function readVmHwmKilobytes(pid: number): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Where GNU time is missing: VmHWM of the child, read every 50 ms until `stop`, which returns the highest seen. */
export function pollPeakRss(child: ChildProcess): { stop(): number } {
  let peak = 0;
  const timer = setInterval(() => {
    const value = child.pid === undefined ? undefined : readVmHwmKilobytes(child.pid);
    if (value !== undefined) peak = Math.max(peak, value);
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

/** The peak RSS GNU time's `-v` report gives, in kilobytes (0 when the report has none). */
export function readTimePeakRss(stats: string): number {
  return Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stats)?.[1] ?? 0);
}
