import { readFileSync } from 'node:fs';
import { percentile } from './measure';

/**
 * Samples how many threads are runnable on the machine (`procs_running` in /proc/stat, Linux)
 * every `intervalMs` until stopped: more runnable threads than cores means every process,
 * server and load generator alike, waits for a core, whatever its own CPU use.
 */
export function sampleRunQueue(intervalMs = 250): () => { p50: number; max: number } {
  const samples: number[] = [];
  const read = () => {
    const m = /procs_running (\d+)/.exec(readFileSync('/proc/stat', 'utf8'));
    if (m) samples.push(Number(m[1]));
  };
  read();
  const timer = setInterval(read, intervalMs);
  return () => {
    clearInterval(timer);
    read();
    return { p50: percentile(samples, 50), max: Math.max(...samples) };
  };
}
