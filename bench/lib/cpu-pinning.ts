import { execFileSync } from 'node:child_process';
import { cpus as machineCpus } from 'node:os';

/** The CPUs of each side once {@link pinApart} has run. */
export interface Pinning {
  readonly server: string;
  readonly load: string;
}

/** Pins a process, all its threads included, to `cpus` (`taskset -a -cp`). */
function pin(pid: number, cpus: string): void {
  execFileSync('taskset', ['-a', '-cp', cpus, String(pid)], { stdio: 'ignore' });
}

/** The child processes of `pid` (media workers, a Redis server), from `pgrep -P`. */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line !== '')
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when there is none
  }
}

/**
 * Gives the load generator (`loadPid`) the machine's last CPU and this process (the server under
 * test) with its other children (media workers, Redis) the others, so that neither side waits
 * for the other's CPU: as when clients run on other machines. Call it again after the server's
 * children change. Null on a machine with one CPU.
 */
export function pinApart(loadPid: number): Pinning | null {
  // The machine's CPUs, not this process's (pinned by an earlier call).
  const cpus = machineCpus().length;
  if (cpus < 2) return null;
  const pinning = { server: cpus === 2 ? '0' : `0-${cpus - 2}`, load: String(cpus - 1) };
  pin(loadPid, pinning.load);
  pin(process.pid, pinning.server);
  for (const child of childrenOf(process.pid)) if (child !== loadPid) pin(child, pinning.server);
  return pinning;
}
