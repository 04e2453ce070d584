import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Inodes of the sockets a process holds open (Linux /proc). */
export function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

/**
 * Datagrams the kernel dropped on the given UDP sockets (receive buffer full): the `drops`
 * column of /proc/net/udp, summed. Tells loss at the receiver's socket apart from loss inside
 * the SFU.
 */
export function udpDrops(inodes: Set<string>): number {
  let drops = 0;
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length >= 13 && inodes.has(cols[9])) drops += Number(cols[12]);
    }
  }
  return drops;
}

/** Drops so far on the UDP sockets of each process. */
export function dropsOf(pids: number[]): number[] {
  return pids.map((pid) => udpDrops(socketInodes(pid)));
}
