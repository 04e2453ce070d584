import { readdirSync, readFileSync } from 'node:fs';

/** A process as /proc shows it. */
export interface ProcessEntry {
  readonly pid: number;
  readonly ppid: number;
  /** The executable's name (`comm`, at most 15 characters). */
  readonly name: string;
}

/** Every process of the machine (Linux /proc). */
export function listProcesses(): ProcessEntry[] {
  const result: ProcessEntry[] = [];
  for (const dir of readdirSync('/proc')) {
    if (!/^\d+$/.test(dir)) continue;
    try {
      // `pid (comm) state ppid …`; comm may contain spaces and parentheses.
      const stat = readFileSync(`/proc/${dir}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      result.push({ pid: Number(dir), ppid, name });
    } catch {
      // Gone meanwhile.
    }
  }
  return result;
}

/** The mediasoup workers whose parent is `pid`. */
export function workerPidsOf(pid: number): number[] {
  return listProcesses()
    .filter((p) => p.ppid === pid && p.name.startsWith('mediasoup-work'))
    .map((p) => p.pid);
}

/** Whether a process with this id exists (and is not a zombie). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
