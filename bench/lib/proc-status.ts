import { readFileSync } from 'node:fs';

/** Resident memory of a process in MiB (`VmRSS` of /proc/<pid>/status), NaN when unreadable. */
export function rssMiB(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Write system calls this process made so far (`syscw` of /proc/self/io): socket and pipe writes. */
export function writeSyscalls(): number {
  return Number(/syscw: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1]);
}
