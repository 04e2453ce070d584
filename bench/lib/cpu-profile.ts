import { mkdirSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

/** A node of a V8 CPU profile (`Profiler.Profile`). */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

/** A V8 CPU profile as the inspector returns it. */
export interface CpuProfile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
}

/**
 * Profiles this process's JavaScript thread between `start()` and `stop()` through the inspector
 * (the same sampler as `node --cpu-prof`, limited to a window). The profile opens in Chrome
 * DevTools or speedscope.
 */
export class CpuProfiler {
  private readonly session = new Session();

  async start(intervalUs = 500): Promise<void> {
    this.session.connect();
    await this.session.post('Profiler.enable');
    await this.session.post('Profiler.setSamplingInterval', { interval: intervalUs });
    await this.session.post('Profiler.start');
  }

  /** Stops, writes `<dir>/<name>.cpuprofile` (creating `dir`), and returns the profile. */
  async stop(dir: string, name: string): Promise<CpuProfile> {
    const { profile } = (await this.session.post('Profiler.stop')) as { profile: CpuProfile };
    await this.session.post('Profiler.disable');
    this.session.disconnect();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    return profile;
  }
}

/** Where a frame's code comes from: a package, this repository's folder, or V8/Node itself. */
export function frameOrigin(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return url.replace(/^node:(internal\/)?/, 'node:').split('/')[0];
  const own = /\/(libs\/calls\/src\/[^/]+|src|bench|test)\//.exec(url);
  return own ? own[1] : url;
}

/** `name path:line`, the path from `node_modules/` or `libs/calls/src/` on. */
function frameName({ callFrame: { functionName, url, lineNumber } }: ProfileNode): string {
  const file = url.replace(/^.*\/(node_modules\/|libs\/calls\/src\/)/, '$1');
  return `${functionName || '(anonymous)'}${file ? ` ${file}:${lineNumber + 1}` : ''}`;
}

/**
 * Self time per function and per origin, and inclusive time per function, as shares of the busy
 * samples (the `(idle)` ones left out; their share is `idlePercent`).
 */
export function summarizeProfile(profile: CpuProfile, top = 25) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const hits = new Map<number, number>();
  for (const id of profile.samples ?? []) hits.set(id, (hits.get(id) ?? 0) + 1);
  const idleIds = new Set(
    profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id),
  );
  for (const id of idleIds) hits.delete(id);
  const all = profile.samples?.length ?? 0;
  const total = [...hits.values()].reduce((a, b) => a + b, 0);
  const functions = new Map<string, number>();
  const origins = new Map<string, number>();
  for (const [id, count] of hits) {
    const { functionName, url } = byId.get(id)!.callFrame;
    const fn = frameName(byId.get(id)!);
    functions.set(fn, (functions.get(fn) ?? 0) + count);
    const origin = frameOrigin(url, functionName);
    origins.set(origin, (origins.get(origin) ?? 0) + count);
  }
  // Inclusive time: each sample counts once for every distinct function on its stack.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map<string, number>();
  for (const [id, count] of hits) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const fn = frameName(byId.get(at)!);
      if (seen.has(fn)) continue;
      seen.add(fn);
      inclusive.set(fn, (inclusive.get(fn) ?? 0) + count);
    }
  }
  const share = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, count]) => ({ name, percent: (100 * count) / Math.max(1, total) }));
  return {
    samples: total,
    idlePercent: (100 * (all - total)) / Math.max(1, all),
    functions: share(functions),
    origins: share(origins),
    inclusive: share(inclusive),
  };
}

/**
 * Runs `fn` under the V8 CPU profiler of this process when `file` is set, and writes the profile
 * there (`.cpuprofile`: open it in Chrome DevTools or VS Code). Without `file`, just runs `fn`.
 */
export async function profiled<T>(file: string | undefined, fn: () => Promise<T>): Promise<T> {
  if (!file) return fn();
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 500 });
    await session.post('Profiler.start');
    const result = await fn();
    const { profile } = await session.post('Profiler.stop');
    await writeFile(file, JSON.stringify(profile));
    return result;
  } finally {
    session.disconnect();
  }
}
